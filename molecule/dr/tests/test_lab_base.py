# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab's own promises, checked on every host of whichever topology the scenario runs:
the base addressing lab-up applied, the management NIC kept out of the data path, the
real servers' pages. The scenarios verify after converge and again after every VM
rebooted, so this also proves the base network comes back by itself.
"""

from __future__ import absolute_import, division, print_function

import json
import re

testinfra_hosts = ["ansible://all"]


def lab_variables(host):
    return host.ansible.get_variables()


# The kernel series of each Debian release the lab boots (lab_release in the inventory).
KERNEL_SERIES = {"bookworm": "6.1.", "trixie": "6.12."}


def test_host_runs_the_release_and_kernel_the_lab_chose(host):
    release = lab_variables(host)["lab_release"]
    assert host.check_output("uname -r").startswith(KERNEL_SERIES[release])
    assert "VERSION_CODENAME=%s" % release in host.check_output("cat /etc/os-release")


def test_data_nics_carry_the_topology_addresses(host):
    links = json.loads(host.check_output("ip -j addr show"))
    held = {(link["ifname"], "%s/%s" % (info["local"], info["prefixlen"])) for link in links for info in link.get("addr_info", [])}
    for nic in lab_variables(host)["lab_nics"]:
        for family in ("ipv4", "ipv6"):
            if nic.get(family):
                assert (nic["name"], nic[family]) in held, "%s lacks %s" % (nic["name"], nic[family])


def test_management_nic_is_not_the_data_path(host):
    # The listing, not interface().exists: a failed check then shows which links the host had.
    links = host.check_output("ip -br link")
    assert re.search(r"^mgmt0\s", links, re.M), links
    default = host.check_output("ip -4 route show default")
    if lab_variables(host).get("lab_default_gateway"):
        assert default.startswith("default via ") and "mgmt0" not in default, default
    assert "mgmt0" not in host.check_output("ip -4 route show table main")


def test_real_servers_serve_a_page_naming_the_host(host):
    variables = lab_variables(host)
    nic = variables["lab_nics"][0]
    rips = [nic["ipv4"].split("/")[0]] + (["[%s]" % nic["ipv6"].split("/")[0]] if nic.get("ipv6") else [])
    for rip in rips:
        for port in variables.get("lab_web_ports", []):
            page = host.check_output("curl -gsS --max-time 10 %s", "http://%s:%d/" % (rip, port))
            assert page.strip() == variables["inventory_hostname"]
