# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The filters on real facts of the lab's dr topology and on its own lvs_virtual_services.

fixtures/dr_lab_facts.yml says how the facts were captured. They carry what synthetic facts
miss: the management address every VM shares (192.0.2.252 on mgmt0) and the VIPs already on
the real servers' lo.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest
import yaml

from ansible_collections.lvs.topology.plugins.filter.lvs_director_vips import lvs_director_vips
from ansible_collections.lvs.topology.plugins.filter.lvs_ipvs_config import lvs_ipvs_config
from ansible_collections.lvs.topology.plugins.filter.lvs_real_server_vips import lvs_real_server_vips
from ansible_collections.lvs.topology.plugins.filter.lvs_topology_problems import lvs_topology_problems

HERE = os.path.dirname(os.path.abspath(__file__))
REPOSITORY = os.path.join(HERE, "..", "..", "..", "..")


@pytest.fixture
def hostvars():
    with open(os.path.join(HERE, "fixtures", "dr_lab_facts.yml")) as handle:
        return yaml.safe_load(handle)


@pytest.fixture
def services():
    with open(os.path.join(REPOSITORY, "lab", "topologies", "dr.yml")) as handle:
        return yaml.safe_load(handle)["inventory_vars"]["lvs_virtual_services"]


def test_the_dr_topology_model_is_valid_on_its_lab(hostvars, services):
    assert lvs_topology_problems(services, hostvars, ["lvs"]) == []


def test_rips_are_the_lan_addresses_never_the_shared_management_one(hostvars, services):
    config = lvs_ipvs_config(services, hostvars, ["lvs"])
    # Each service's RIPs are of its VIP's family: the IPv6 services get the LAN's IPv6 addresses.
    assert [[rs["address"] for rs in service["real_servers"]] for service in config] == (
        [["192.0.2.11", "192.0.2.12"]] * 3 + [["2001:db8:0:2::11", "2001:db8:0:2::12"]] * 2 + [["192.0.2.11", "192.0.2.12"]] * 2)
    assert [rs["weight"] for rs in config[1]["real_servers"]] == [3, 1]
    assert [rs["weight"] for rs in config[3]["real_servers"]] == [3, 1]
    assert config[2]["persistence_timeout"] == 300 and config[4]["persistence_timeout"] == 300
    # One pool, two methods: each real server's rule carries its own.
    assert [rs["forwarding_method"] for rs in config[5]["real_servers"]] == ["dr", "tun"]
    assert (config[6]["protocol"], config[6]["fwmark"]) == ("fwmark", 3000000000)
    assert [(rs.get("upper_threshold"), rs.get("lower_threshold")) for rs in config[6]["real_servers"]] == [(1000, 800), (500, None)]


def test_vips_go_on_the_director_lan_nic(hostvars, services):
    assert lvs_director_vips(services, hostvars["lvs"]["ansible_facts"]) == [
        {"address": "192.0.2.%d" % last, "prefix": 32, "interface": "eth0", "label": "eth0:%d" % index}
        for index, last in enumerate((100, 101, 102, 103))] + [
        {"address": "2001:db8:0:2::%d" % last, "prefix": 128, "interface": "eth0", "label": None} for last in (101, 102)]


def test_real_server_finds_its_vips(hostvars, services):
    facts = hostvars["rs1"]["ansible_facts"]
    addresses = facts["all_ipv4_addresses"] + facts["all_ipv6_addresses"]
    assert lvs_real_server_vips(services, "rs1", addresses, ["dr"]) == [
        "192.0.2.100", "192.0.2.101", "192.0.2.102", "192.0.2.103", "2001:db8:0:2::101", "2001:db8:0:2::102"]
    assert lvs_real_server_vips(services, "rs1", addresses, ["nat", "tun"]) == []
    # rs2 is reached by TUN in the mixed pool, by DR everywhere else.
    facts = hostvars["rs2"]["ansible_facts"]
    addresses = facts["all_ipv4_addresses"] + facts["all_ipv6_addresses"]
    assert lvs_real_server_vips(services, "rs2", addresses, ["tun"]) == ["192.0.2.103"]
    assert "192.0.2.103" not in lvs_real_server_vips(services, "rs2", addresses, ["dr"])


def test_a_real_server_outside_the_lan_is_refused_for_dr(hostvars, services):
    services[0]["real_servers"].append({"host": "203.0.113.10"})
    assert lvs_topology_problems(services, hostvars, ["lvs"]) == [
        "Real server 203.0.113.10 of DR service web-rr must be on a director's L2 segment; no director has an address in its subnet."]
