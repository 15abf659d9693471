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
    ({"health_check": {"type": "ssl"}}, "Service web keepalived health_check type 'ssl' is not one of tcp, http, misc, none."),
    ({"health_check": {"type": "misc"}}, "Service web keepalived health_check of type misc needs a script."),
    ({"delay_loop": -1}, "Service web keepalived delay_loop must be from 0 to 2147483647, got -1."),
    ({"sorry": "rs2"}, "Service web keepalived has unknown key(s) sorry; allowed: delay_loop, health_check, inhibit_on_failure, quorum, sorry_server."),
    ({"sorry_server": {"port": 80}}, "Service web keepalived sorry_server has no host (an inventory name or an address)."),
])
def test_bad_keepalived_options_fail_in_one_sentence(hostvars, keepalived, expected):
    with pytest.raises(AnsibleFilterError) as error:
        lvs_keepalived_virtual_servers(services({"keepalived": keepalived}), hostvars, ["director"])
    assert str(error.value) == expected


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
