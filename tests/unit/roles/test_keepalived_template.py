# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The keepalived role's keepalived.conf template, rendered with Ansible's Jinja tests and the
collection's filters on the DR model of the filter tests: the blocks keepalived reads."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

import jinja2
import pytest
import yaml

from ansible.plugins.filter.core import FilterModule as CoreFilters
from ansible.plugins.test.core import TestModule as CoreTests
from ansible_collections.lvs.topology.plugins.plugin_utils._topology import director_vips, keepalived_virtual_servers, real_server_entries

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "..")
TEMPLATE = os.path.join(ROOT, "roles", "keepalived", "templates", "keepalived.conf.j2")
WEIGHT_TASKS = os.path.join(ROOT, "playbooks", "tasks", "keepalived_weights.yml")

DIRECTOR_FACTS = {
    "interfaces": ["lo", "eth0"],
    "eth0": {"type": "ether", "ipv4": {"address": "192.0.2.11", "netmask": "255.255.255.128"}, "ipv6": []},
    "default_ipv4": {},
}
HOSTVARS = dict((name, {"ansible_facts": {
    "interfaces": ["eth0"], "eth0": {"type": "ether", "ipv4": {"address": address, "netmask": "255.255.255.128"}}}})
    for name, address in (("lb01", "192.0.2.11"), ("lb02", "192.0.2.12"), ("web01", "192.0.2.21"), ("web02", "192.0.2.22")))


def service(**options):
    model = {"name": "web", "vip": "192.0.2.100", "port": 80, "scheduler": "rr", "forwarding_method": "dr",
             "real_servers": [{"host": "web01"}, {"host": "web02", "weight": 2}]}
    model.update(options)
    return model


def jinja():
    environment = jinja2.Environment(trim_blocks=True)
    # Ansible's own default/d expect its templar's undefined values; Jinja's behave the same here.
    environment.filters.update((name, function) for name, function in CoreFilters().filters().items() if name not in ("default", "d"))
    environment.tests.update(CoreTests().tests())
    return environment


def render(services, backend="keepalived", **variables):
    """The rendered keepalived.conf as stripped lines."""
    return [line.strip() for line in render_text(services, backend, **variables).splitlines()]


def render_text(services, backend="keepalived", **variables):
    environment = jinja()
    with open(TEMPLATE) as template:
        text = template.read()
    context = {
        "ansible_managed": "Ansible managed",
        "inventory_hostname": "lb01",
        "keepalived_hosts": ["lb01", "lb02"],
        "keepalived_backend": backend,
        "keepalived_sync_daemon": True,
        "keepalived_sync_interface": "",
        "keepalived_sync_id": 51,
        "keepalived_instance_name": "VI_LVS",
        "keepalived_virtual_router_id": 51,
        "keepalived_priority": 150,
        "keepalived_advert_interval": 0.5,
        "keepalived_vrrp_version": 3,
        "keepalived_preempt": False,
        "keepalived_preempt_delay": 0,
        "keepalived_unicast_peers": [],
        "keepalived_auth_pass": "",
        "_keepalived_vips": director_vips(services, DIRECTOR_FACTS),
        "_keepalived_interface": "eth0",
        "_keepalived_own_addresses": ["192.0.2.11"],
        "_keepalived_virtual_servers": keepalived_virtual_servers(services, HOSTVARS, ["lb01", "lb02"]) if backend == "keepalived" else [],
    }
    context.update(variables)
    return environment.from_string(text).render(context)


def block(lines, opening):
    """The lines of the block that starts with `opening {` (nested blocks included)."""
    start = lines.index(opening + " {")
    depth = 0
    for index in range(start, len(lines)):
        depth += lines[index].count("{") - lines[index].count("}")
        if depth == 0:
            return lines[start:index + 1]
    raise AssertionError("unbalanced block %s" % opening)


def test_vrrp_instance_owns_the_vip_with_its_label_and_syncs_connections():
    lines = render([service()])
    instance = block(lines, "vrrp_instance VI_LVS")
    for wanted in ("state BACKUP", "interface eth0", "virtual_router_id 51", "priority 150", "advert_int 0.5", "version 3", "nopreempt",
                   "192.0.2.100/32 dev eth0 label eth0:0"):
        assert wanted in instance
    assert not [line for line in instance if line.startswith(("authentication", "unicast_peer"))]
    assert "lvs_sync_daemon eth0 VI_LVS id 51" in block(lines, "global_defs")
    assert "lvs_flush" in block(lines, "global_defs")


def test_virtual_server_with_http_checks_and_weights():
    lines = render([service(keepalived={"delay_loop": 2, "health_check": {"type": "http", "path": "/health", "status": 204}})])
    server = block(lines, "virtual_server 192.0.2.100 80")
    for wanted in ("delay_loop 2", "lb_algo rr", "lb_kind DR", "protocol TCP"):
        assert wanted in server
    web02 = block(server, "real_server 192.0.2.22 80")
    assert "weight 2" in web02
    assert block(web02, "HTTP_GET")[1:5] == ["url {", "path /health", "status_code 204", "}"]
    assert sum(line.count("{") for line in lines) == sum(line.count("}") for line in lines)


def test_sorry_server_quorum_inhibit_and_misc_check():
    lines = render([service(persistence={"timeout": 300}, keepalived={
        "quorum": 1, "inhibit_on_failure": True, "sorry_server": {"host": "192.0.2.30"},
        "health_check": {"type": "misc", "script": "/usr/local/bin/check-web"}})])
    server = block(lines, "virtual_server 192.0.2.100 80")
    for wanted in ("persistence_timeout 300", "quorum 1", "sorry_server 192.0.2.30 80"):
        assert wanted in server
    web01 = block(server, "real_server 192.0.2.21 80")
    assert "inhibit_on_failure" in web01
    assert 'misc_path "/usr/local/bin/check-web"' in block(web01, "MISC_CHECK")


def test_a_real_server_with_its_own_method_gets_lvs_method():
    lines = render([service(real_servers=[{"host": "web01"}, {"host": "web02", "weight": 2, "forwarding_method": "tun"},
                                          {"host": "192.0.2.23", "forwarding_method": "fullnat", "port": 8080}])])
    server = block(lines, "virtual_server 192.0.2.100 80")
    assert "lb_kind DR" in server
    # The service's method is keepalived's default for its real servers: written only where it differs.
    assert not [line for line in block(server, "real_server 192.0.2.21 80") if line.startswith("lvs_method")]
    assert block(server, "real_server 192.0.2.22 80")[1:3] == ["weight 2", "lvs_method TUN"]
    assert block(server, "real_server 192.0.2.23 8080")[1:3] == ["weight 1", "lvs_method NAT"]


def test_modules_backend_writes_no_virtual_server_and_no_flush():
    lines = render([service()], backend="modules")
    assert not [line for line in lines if line.startswith("virtual_server")]
    assert "lvs_flush" not in lines


@pytest.mark.parametrize("peers, wanted", [([], None), (["192.0.2.11", "192.0.2.12"], ["unicast_peer {", "192.0.2.12", "}"])])
def test_unicast_peers_skip_the_host_itself(peers, wanted):
    instance = block(render([service()], keepalived_unicast_peers=peers), "vrrp_instance VI_LVS")
    if wanted is None:
        assert "unicast_peer {" not in instance
    else:
        assert block(instance, "unicast_peer") == wanted


def test_vrrpv2_password_goes_into_an_authentication_block():
    instance = block(render([service()], keepalived_vrrp_version=2, keepalived_auth_pass="s3cret"), "vrrp_instance VI_LVS")
    assert block(instance, "authentication") == ["authentication {", "auth_type PASS", "auth_pass s3cret", "}"]


def weight_edit(text, entry, weight=None):
    """playbooks/tasks/keepalived_weights.yml's edit of one entry, as ansible.builtin.replace
    applies it (its regexp compiled MULTILINE, then subn): (new text, blocks changed)."""
    with open(WEIGHT_TASKS) as handle:
        edit = yaml.safe_load(handle)[0]["ansible.builtin.replace"]
    context = {"item": ["lb01", entry]}
    if weight is not None:
        context["_ops_weight"] = weight
    regexp, replace = (jinja().from_string(edit[key]).render(context) for key in ("regexp", "replace"))
    return re.subn(re.compile(regexp, re.MULTILINE), replace, text)


def test_drain_and_enable_edit_only_the_weight_of_that_service_in_keepalived_conf():
    # web02 in two services with different weights, each with web01 beside it.
    services = [service(), service(name="api", vip="192.0.2.101", real_servers=[{"host": "web02", "weight": 5}, {"host": "web01"}])]
    text = render_text(services)
    web, api = real_server_entries(services, HOSTVARS, ["lb01", "lb02"], "web02")
    drained, count = weight_edit(text, web, weight=0)
    assert count == 1
    lines = [line.strip() for line in drained.splitlines()]
    assert "weight 0" in block(block(lines, "virtual_server 192.0.2.100 80"), "real_server 192.0.2.22 80")
    assert "weight 5" in block(block(lines, "virtual_server 192.0.2.101 80"), "real_server 192.0.2.22 80")
    assert [line for line in drained.splitlines() if line not in text.splitlines()] == ["        weight 0"]
    # enable: the model's weight, back to the file the role writes.
    assert weight_edit(drained, web) == (text, 1)


def test_drain_finds_a_nat_real_server_on_the_port_the_model_gives_it():
    # keepalived.conf lists the real server's own port; the entry carries the same one.
    services = [service(forwarding_method="nat", real_servers=[{"host": "web01"}, {"host": "web02", "port": 8080, "weight": 2}])]
    text = render_text(services)
    entry, = real_server_entries(services, HOSTVARS, ["lb01", "lb02"], "web02")
    drained, count = weight_edit(text, entry, weight=0)
    assert count == 1
    lines = [line.strip() for line in drained.splitlines()]
    assert "weight 0" in block(block(lines, "virtual_server 192.0.2.100 80"), "real_server 192.0.2.22 8080")


def test_drain_finds_a_real_server_that_has_its_own_method():
    services = [service(real_servers=[{"host": "web01"}, {"host": "web02", "weight": 2, "forwarding_method": "tun"}])]
    text = render_text(services)
    entry, = real_server_entries(services, HOSTVARS, ["lb01", "lb02"], "web02")
    drained, count = weight_edit(text, entry, weight=0)
    assert count == 1
    web02 = block([line.strip() for line in drained.splitlines()], "real_server 192.0.2.22 80")
    assert web02[1:3] == ["weight 0", "lvs_method TUN"]
    assert weight_edit(drained, entry) == (text, 1)


def test_drain_finds_a_service_by_any_safe_name_and_no_other():
    # "web.1" would match "web41" as a pattern and starts like "web": the edit must find only its own block.
    services = [service(name="web41", vip="192.0.2.102"), service(name="web.1"), service(name="web", vip="192.0.2.101")]
    text = render_text(services)
    entries = real_server_entries(services, HOSTVARS, ["lb01", "lb02"], "web02")
    dotted = [entry for entry in entries if entry["service"] == "web.1"][0]
    drained, count = weight_edit(text, dotted, weight=0)
    assert count == 1
    lines = [line.strip() for line in drained.splitlines()]
    assert "weight 0" in block(block(lines, "virtual_server 192.0.2.100 80"), "real_server 192.0.2.22 80")
    for other in ("192.0.2.101", "192.0.2.102"):
        assert "weight 2" in block(block(lines, "virtual_server %s 80" % other), "real_server 192.0.2.22 80")
