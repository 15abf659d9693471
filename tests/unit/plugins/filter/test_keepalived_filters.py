# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The filters of the keepalived role and the operations playbooks, on the DR service of
test_topology.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.lvs.topology.plugins.filter.lvs_keepalived_virtual_servers import lvs_keepalived_virtual_servers
from ansible_collections.lvs.topology.plugins.filter.lvs_real_server_entries import lvs_real_server_entries
from ansible_collections.lvs.topology.plugins.filter.lvs_topology_problems import lvs_topology_problems

from test_topology import facts, nic, services


@pytest.fixture
def hostvars():
    """A director and two DR real servers on 192.0.2.0/24, as in test_topology.py."""
    return {
        "director": facts({"eth0": nic("192.0.2.10", 24, secondaries=["192.0.2.100"])}),
        "rs1": facts({"eth0": nic("192.0.2.21", 24)}, gateway="192.0.2.1"),
        "rs2": facts({"eth0": nic("192.0.2.22", 24)}, gateway="192.0.2.1"),
        "client": facts({"eth0": nic("192.0.2.50", 24)}),
    }


def test_keepalived_defaults_are_a_tcp_check_every_five_seconds(hostvars):
    block, = lvs_keepalived_virtual_servers(services(), hostvars, ["director"])
    assert block["name"] == "web"
    assert block["lb_kind"] == "DR"
    assert block["scheduler"] == "wrr"
    assert block["persistence_timeout"] == 20
    assert block["delay_loop"] == 5
    assert block["health_check"] == {"type": "tcp", "path": "/", "status": 200, "script": None,
                                     "connect_timeout": 3, "retry": 1, "delay_before_retry": 1}
    assert (block["sorry_server"], block["quorum"], block["inhibit_on_failure"]) == (None, None, False)
    assert [rs["address"] for rs in block["real_servers"]] == ["192.0.2.21", "192.0.2.22"]


def test_keepalived_options_http_check_sorry_server_and_fullnat(hostvars):
    model = services({"forwarding_method": "fullnat", "persistence": None,
                      "keepalived": {"delay_loop": 2, "quorum": 1, "inhibit_on_failure": True,
                                     "health_check": {"type": "http", "path": "/health", "status": 204},
                                     "sorry_server": {"host": "rs2", "port": 8080}}})
    block, = lvs_keepalived_virtual_servers(model, hostvars, ["director"])
    assert block["lb_kind"] == "NAT"
    assert block["health_check"]["type"] == "http"
    assert (block["health_check"]["path"], block["health_check"]["status"]) == ("/health", 204)
    assert block["sorry_server"] == {"address": "192.0.2.22", "port": 8080}
    assert (block["delay_loop"], block["quorum"], block["inhibit_on_failure"]) == (2, 1, True)


@pytest.mark.parametrize("keepalived, expected", [
    ({"health_check": {"type": "ssl"}}, "Service web keepalived health_check type 'ssl' is unknown; use one of tcp, http, misc, none."),
    ({"health_check": {"type": "misc"}}, "Service web keepalived health_check of type misc needs a script."),
    ({"delay_loop": -1}, "Service web keepalived delay_loop must be from 0 to 2147483647, got -1."),
    ({"sorry": "rs2"}, "Service web keepalived has unknown key(s) sorry; allowed: delay_loop, health_check, inhibit_on_failure, quorum, sorry_server."),
    ({"sorry_server": {"port": 80}}, "Service web keepalived sorry_server has no host (an inventory name or an address)."),
])
def test_bad_keepalived_options_fail_in_one_sentence(hostvars, keepalived, expected):
    with pytest.raises(AnsibleFilterError) as error:
        lvs_keepalived_virtual_servers(services({"keepalived": keepalived}), hostvars, ["director"])
    assert str(error.value) == expected


HTTP_PATH_RULE = "is not an absolute path of letters, digits and -._~:/?@&()*+,;=%."
SCRIPT_RULE = ("is not an absolute path to an executable, then arguments of letters, digits and ._+/=:,@%- one space apart"
               " (keepalived runs it as root).")


@pytest.mark.parametrize("path", ["/health\n    }\n    real_server 203.0.113.9 80 {", "/a b", "health", "/a\"b", "/a'b", "/a#b", "/a!b",
                                  "/a{b", "/a}b", "/a$b", "/a\\b", "/a\tb", "/\u00e9", "/ok\n", ""])
def test_an_http_path_that_could_break_keepalived_conf_is_refused(hostvars, path):
    model = services({"keepalived": {"health_check": {"type": "http", "path": path}}})
    assert lvs_topology_problems(model, hostvars, ["director"]) == ["Service web keepalived health_check path %r %s" % (path, HTTP_PATH_RULE)]


@pytest.mark.parametrize("path", ["/", "/health", "/status?full=1&fmt=json", "/a/b_c-d.e~f:g@h(i)*+,;=%20"])
def test_http_paths_of_safe_characters_pass(hostvars, path):
    model = services({"keepalived": {"health_check": {"type": "http", "path": path}}})
    assert lvs_topology_problems(model, hostvars, ["director"]) == []
    assert lvs_keepalived_virtual_servers(model, hostvars, ["director"])[0]["health_check"]["path"] == path


@pytest.mark.parametrize("script", ["check-web", "/usr/bin/check\"; reboot; \"", "/usr/bin/check  --twice", "/usr/bin/check --x=$HOME",
                                    "/usr/bin/check\n", "/usr/bin/check 'a b'", "/usr/bin/check #", " /usr/bin/check", "/usr/bin/check "])
def test_a_misc_script_that_is_not_a_plain_command_is_refused(hostvars, script):
    model = services({"keepalived": {"health_check": {"type": "misc", "script": script}}})
    assert lvs_topology_problems(model, hostvars, ["director"]) == ["Service web keepalived health_check script %r %s" % (script, SCRIPT_RULE)]


def test_a_misc_script_with_simple_arguments_passes(hostvars):
    model = services({"keepalived": {"health_check": {"type": "misc", "script": "/usr/local/bin/check-web --port=80 -t 3 192.0.2.100"}}})
    assert lvs_topology_problems(model, hostvars, ["director"]) == []


@pytest.mark.parametrize("keepalived, expected", [
    ({"health_check": {"type": "http", "status": 99}}, "Service web keepalived health_check status must be from 100 to 599, got 99."),
    ({"health_check": {"type": "http", "status": "200\nfoo"}},
     "Service web keepalived health_check status must be an integer from 100 to 599, got '200\\nfoo'."),
    ({"quorum": "2 }"}, "Service web keepalived quorum must be an integer from 0 to 2147483647, got '2 }'."),
    ({"inhibit_on_failure": "sometimes"}, "Service web keepalived inhibit_on_failure must be true or false, got 'sometimes'."),
    ({"sorry_server": {"host": "rs2", "port": 0}}, "Service web keepalived sorry_server port must be from 1 to 65535, got 0."),
    ({"sorry_server": {"host": "nowhere"}}, "Service web names sorry_server 'nowhere', which is neither an address nor an inventory host."),
])
def test_every_keepalived_value_is_checked_before_any_host_changes(hostvars, keepalived, expected):
    assert lvs_topology_problems(services({"keepalived": keepalived}), hostvars, ["director"]) == [expected]


def test_inhibit_on_failure_reads_yaml_booleans(hostvars):
    block, = lvs_keepalived_virtual_servers(services({"keepalived": {"inhibit_on_failure": "false"}}), hostvars, ["director"])
    assert block["inhibit_on_failure"] is False


def test_real_server_entries_by_inventory_name_and_by_address(hostvars):
    model = services({}, {"name": "web-alt", "port": 8080, "real_servers": [{"host": "rs2", "weight": 2}]})
    by_name = lvs_real_server_entries(model, hostvars, ["director"], "rs2")
    assert by_name == [
        {"service": "web", "virtual_service": {"protocol": "tcp", "address": "192.0.2.100", "port": 80},
         "address": "192.0.2.22", "port": 80, "forwarding_method": "dr", "weight": 1},
        {"service": "web-alt", "virtual_service": {"protocol": "tcp", "address": "192.0.2.100", "port": 8080},
         "address": "192.0.2.22", "port": 8080, "forwarding_method": "dr", "weight": 2},
    ]
    assert lvs_real_server_entries(model, hostvars, ["director"], "192.0.2.21")[0]["weight"] == 3
    assert lvs_real_server_entries(model, hostvars, ["director"], "client") == []


def test_each_real_server_has_the_lb_kind_of_its_own_method(hostvars):
    model = services({"forwarding_method": "tun", "real_servers": [{"host": "rs1"}, {"host": "rs2", "forwarding_method": "dr"},
                                                                   {"host": "192.0.2.23", "forwarding_method": "fullnat"}]})
    block, = lvs_keepalived_virtual_servers(model, hostvars, ["director"])
    assert block["lb_kind"] == "TUN"
    assert [(rs["address"], rs["forwarding_method"], rs["lb_kind"]) for rs in block["real_servers"]] == [
        ("192.0.2.21", "tun", "TUN"), ("192.0.2.22", "dr", "DR"), ("192.0.2.23", "nat", "NAT")]


def test_real_server_entries_carry_each_real_server_own_kernel_method(hostvars):
    model = services({"real_servers": [{"host": "rs1"}, {"host": "rs2", "forwarding_method": "tun"}]},
                     {"name": "api", "vip": "192.0.2.101", "forwarding_method": "tun", "real_servers": [{"host": "rs2", "forwarding_method": "fullnat"}]})
    assert [(entry["service"], entry["forwarding_method"]) for entry in lvs_real_server_entries(model, hostvars, ["director"], "rs2")] == [
        ("web", "tun"), ("api", "nat")]
