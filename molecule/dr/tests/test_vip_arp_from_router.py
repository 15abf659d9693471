# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Who answers ARP (IPv4) or neighbour discovery (IPv6) for each DR VIP, seen from the router
(the client's way in).

Every real server of a DR service holds the VIP on lo; without ARP suppression each of them
answers "who has VIP?" on the LAN and the router may cache a real server's MAC, sending the
client's requests past the director (the LVS-DR "ARP problem"). prepare.yml shows that happen
on the fresh lab; here, after site.yml, only the director may answer, and the router's
neighbour entry must name it every time it is resolved again - before and after the reboot.
An IPv6 VIP gets the same checks with a Neighbour Solicitation sent to all nodes of the LAN,
with nothing set for IPv6 on the real servers: Linux answers one only for an address of the
interface it arrived on. The MACs come from the inventory the lab generated (lab_nics).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import time

import pytest

testinfra_hosts = ["ansible://routers"]

PROBE = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "files", "arp_responders.py")
# How long the probe listens for answers after its one request: every holder of the VIP
# answers within it, even on a slow, loaded TCG guest.
ANSWER_SECONDS = 10
RESOLVES = 5
RESOLVE_TIMEOUT = 60


def lab_host(host, name):
    return host.get_host("ansible://%s" % name, ansible_inventory=host.backend.ansible_inventory)


def nic_on(host_variables, segment):
    return [nic for nic in host_variables["lab_nics"] if nic["segment"] == segment][0]


def family_key(address):
    return "ipv6" if ":" in address else "ipv4"


def neighbour_mac_after_flush(router, device, vip):
    """Forget the VIP's neighbour entry, make the router resolve it again, return the MAC it cached."""
    version = "-6" if family_key(vip) == "ipv6" else "-4"
    router.run("ip %s neigh flush to %s dev %s", version, vip, device)
    deadline = time.monotonic() + RESOLVE_TIMEOUT
    while True:
        router.run("ping %s -c 1 -W 5 %s", version, vip)
        entries = json.loads(router.check_output("ip -j %s neigh show to %s dev %s", version, vip, device))
        if (entries and entries[0].get("lladdr")) or time.monotonic() > deadline:
            return entries[0].get("lladdr") if entries else None


def test_only_the_director_answers_for_dr_vips(host):
    variables = host.ansible.get_variables()
    services = [s for s in variables["lvs_virtual_services"] if s.get("forwarding_method", "dr") == "dr"]
    if not services:
        pytest.skip("no DR service in this topology (the dr scenario runs this check)")
    director_name = variables["groups"]["directors"][0]
    director_nic = lab_host(host, director_name).ansible.get_variables()["lab_nics"][0]
    router_nic = nic_on(variables, director_nic["segment"])
    names = {director_nic["mac"]: director_name}
    for name in variables["groups"]["real_servers"]:
        names[nic_on(lab_host(host, name).ansible.get_variables(), director_nic["segment"])["mac"]] = name
    with open(PROBE, encoding="utf-8") as handle:
        probe = handle.read()
    for vip in sorted(set(service["vip"] for service in services)):
        answers = host.check_output("python3 -c %s %s %s %s %s", probe, router_nic["name"], router_nic[family_key(vip)].split("/")[0],
                                    vip, str(ANSWER_SECONDS)).split()
        cached = [neighbour_mac_after_flush(host, router_nic["name"], vip) for dummy in range(RESOLVES)]
        print("\n[%s] %s: answers %s; the router's entry over %d resolves: %s" % (
            "nd" if family_key(vip) == "ipv6" else "arp", vip, [names.get(mac, mac) for mac in answers], RESOLVES,
            [names.get(mac, mac) for mac in cached]))
        assert answers == [director_nic["mac"]], "%s: answered by %s" % (vip, [names.get(mac, mac) for mac in answers])
        assert cached == [director_nic["mac"]] * RESOLVES, "%s: router cached %s" % (vip, [names.get(mac, mac) for mac in cached])
