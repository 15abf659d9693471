# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The data-model filters on a DR / NAT / TUN lab shaped like lab/topologies/*.yml.

The facts below keep only the keys the filters read from `setup` (interfaces, per-NIC
ipv4 / ipv4_secondaries / ipv6, default_ipv4); every VM also carries QEMU's user-network
address 10.0.2.15 on its management NIC, as the lab VMs do.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import gc
import json

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.lvs.topology.plugins.filter.lvs_director_vips import lvs_director_vips
from ansible_collections.lvs.topology.plugins.filter.lvs_ipvs_config import lvs_ipvs_config
from ansible_collections.lvs.topology.plugins.filter.lvs_nat_gateway import lvs_nat_gateway
from ansible_collections.lvs.topology.plugins.filter.lvs_normalized_services import lvs_normalized_services
from ansible_collections.lvs.topology.plugins.filter.lvs_real_server_vips import lvs_real_server_vips
from ansible_collections.lvs.topology.plugins.filter.lvs_topology_problems import lvs_topology_problems
from ansible_collections.lvs.topology.plugins.plugin_utils import _topology
from ansible_collections.lvs.topology.tests.unit.plugins.module_utils.ipvs_fixtures import int_refusal


def nic(address, prefix, secondaries=(), ipv6=()):
    netmask = str(_topology.netaddr.IPNetwork("0.0.0.0/%d" % prefix).netmask)
    return {
        "type": "ether",
        "ipv4": {"address": address, "netmask": netmask, "prefix": str(prefix)},
        "ipv4_secondaries": [{"address": a, "netmask": "255.255.255.255", "prefix": "32"} for a in secondaries],
        "ipv6": [{"address": "fe80::5054:ff:fe12:3456", "prefix": "64", "scope": "link"}]
        + [{"address": a, "prefix": "64", "scope": "global"} for a in ipv6],
    }


def facts(nics, gateway=None):
    result = {"interfaces": ["lo"] + sorted(nics), "lo": {"type": "loopback", "ipv4": {"address": "127.0.0.1", "netmask": "255.0.0.0"}}}
    result.update(nics)
    result["mgmt0"] = nic("10.0.2.15", 24)
    result["interfaces"].append("mgmt0")
    first = nics[sorted(nics)[0]]["ipv4"]["address"]
    result["default_ipv4"] = {"address": first, "gateway": gateway} if gateway else {}
    return {"ansible_facts": result}


@pytest.fixture
def hostvars():
    return {
        "director": facts({"eth0": nic("192.0.2.10", 24, secondaries=["192.0.2.100"], ipv6=["2001:db8::10"]),
                           "eth1": nic("198.51.100.1", 24)}),
        "rs1": facts({"eth0": nic("192.0.2.21", 24, ipv6=["2001:db8::21"])}, gateway="192.0.2.1"),
        "rs2": facts({"eth0": nic("192.0.2.22", 24)}, gateway="192.0.2.1"),
        "nat1": facts({"eth0": nic("198.51.100.31", 24)}, gateway="198.51.100.1"),
        "far1": facts({"eth0": nic("203.0.113.41", 24)}, gateway="203.0.113.1"),
        "client": facts({"eth0": nic("192.0.2.50", 24)}),
    }


DR_WEB = {
    "name": "web",
    "vip": "192.0.2.100",
    "port": 80,
    "scheduler": "wrr",
    "persistence": {"timeout": 20},
    "forwarding_method": "dr",
    "real_servers": [{"host": "rs1", "weight": 3}, {"host": "192.0.2.22"}],
}


def services(*overrides):
    """DR_WEB with each override dict applied to a fresh copy (one service per override)."""
    result = []
    for override in overrides or ({},):
        service = copy.deepcopy(DR_WEB)
        service.update(override)
        result.append(service)
    return result


def test_ipvs_config_resolves_names_on_the_director_segment(hostvars):
    config = lvs_ipvs_config(services(), hostvars, ["director"])
    assert config == [{
        "protocol": "tcp",
        "address": "192.0.2.100",
        "port": 80,
        "scheduler": "wrr",
        "persistence_timeout": 20,
        "real_servers": [
            {"address": "192.0.2.21", "port": 80, "forwarding_method": "dr", "weight": 3},
            {"address": "192.0.2.22", "port": 80, "forwarding_method": "dr", "weight": 1},
        ],
    }]


def test_ipvs_config_maps_fullnat_to_masquerading_and_keeps_port_remap(hostvars):
    model = services({"forwarding_method": "fullnat", "scheduler": "rr", "persistence": None,
                      "real_servers": [{"host": "far1", "port": 8080}]})
    [entry] = lvs_ipvs_config(model, hostvars, ["director"])
    assert entry["real_servers"] == [{"address": "203.0.113.41", "port": 8080, "forwarding_method": "nat", "weight": 1}]
    assert "persistence_timeout" not in entry


def test_ipvs_config_fwmark_service_has_family_and_no_address(hostvars):
    model = services({"protocol": "fwmark", "fwmark": 7, "port": None, "flags": "sh-port,sh-fallback", "scheduler": "sh"})
    [entry] = lvs_ipvs_config(model, hostvars, ["director"])
    assert entry["fwmark"] == 7 and entry["family"] == "ipv4"
    assert "address" not in entry and "port" not in entry
    # The flags in the order ipvsadm prints them, as the module reads them.
    assert entry["scheduler_flags"] == ["sh-fallback", "sh-port"]
    assert all("port" not in rs for rs in entry["real_servers"])


def test_ipvs_config_as_json_is_the_list_as_text_even_from_tagged_inventory_strings(hostvars):
    try:
        from ansible.template import trust_as_template  # ansible-core 2.19+: a tagged str subclass
    except ImportError:
        trust_as_template = str
    model = services({}, {"name": "mark", "protocol": "fwmark", "fwmark": 7, "port": None, "flags": "sh-port",
                          "scheduler": trust_as_template("sh"), "persistence": {"timeout": 20, "netmask": trust_as_template("255.255.255.0")},
                          "real_servers": [{"host": trust_as_template("rs1"), "weight": 2, "upper_threshold": 10, "lower_threshold": 5}]})
    text = lvs_ipvs_config(model, hostvars, ["director"], as_json=True)
    assert isinstance(text, str)
    assert json.loads(text) == lvs_ipvs_config(model, hostvars, ["director"])


def test_ipvs_config_of_a_table_is_that_of_each_service_alone(hostvars):
    # Services that list the same real servers (checked once, then only for their port) by
    # address or by name, an address spelled otherwise than the module writes it.
    shared = [{"host": "192.0.2.22", "weight": 2}, {"host": "192.0.2.23", "upper_threshold": 10}]
    model = services({"name": "web80", "persistence": None, "real_servers": shared},
                     {"name": "web81", "port": 81, "persistence": {"timeout": 30, "netmask": "255.255.255.0"},
                      "real_servers": shared + [{"host": "rs1"}]},
                     {"name": "web82", "port": 82, "scheduler": "sh", "flags": "sh-port,sh-fallback", "real_servers": shared[1:] + shared[:1]},
                     {"name": "web83", "vip": "2001:db8::100", "real_servers": [{"host": "2001:DB8::22", "weight": 2}]})
    table = lvs_ipvs_config(model, hostvars, ["director"])
    assert table == [lvs_ipvs_config([service], hostvars, ["director"])[0] for service in model]
    assert [[server["address"] for server in entry["real_servers"]] for entry in table] == [
        ["192.0.2.22", "192.0.2.23"], ["192.0.2.22", "192.0.2.23", "192.0.2.21"], ["192.0.2.23", "192.0.2.22"], ["2001:db8::22"]]
    assert table[1]["persistence_netmask"] == "255.255.255.0" and table[2]["scheduler_flags"] == ["sh-fallback", "sh-port"]


@pytest.mark.parametrize("model", [services(), services({"port": "http"})])
def test_the_filters_leave_the_garbage_collector_as_they_found_it(hostvars, model):
    for enabled in (True, False):
        (gc.enable if enabled else gc.disable)()
        try:
            try:
                lvs_ipvs_config(model, hostvars, ["director"])
            except AnsibleFilterError:
                pass
            assert gc.isenabled() is enabled
        finally:
            gc.enable()


def test_ipvs_config_picks_the_default_address_off_segment(hostvars):
    model = services({"forwarding_method": "tun", "real_servers": [{"host": "far1"}]})
    assert lvs_ipvs_config(model, hostvars, ["director"])[0]["real_servers"][0]["address"] == "203.0.113.41"


def test_ipvs_config_uses_ipv6_addresses_for_an_ipv6_vip(hostvars):
    model = services({"vip": "2001:db8::100", "real_servers": [{"host": "rs1"}]})
    [entry] = lvs_ipvs_config(model, hostvars, ["director"])
    assert entry["address"] == "2001:db8::100"
    assert entry["real_servers"][0]["address"] == "2001:db8::21"


def test_valid_model_has_no_problems(hostvars):
    assert lvs_topology_problems(services(), hostvars, ["director"]) == []


@pytest.mark.parametrize("override, expected", [
    ({"real_servers": [{"host": "rs1", "port": 8080}]},
     "Service web.real_servers[0]: real server 192.0.2.21 port 8080 differs from the service port 80, but with forwarding_method dr"
     " the kernel cannot remap ports (only nat can): drop port or use nat."),
    ({"forwarding_method": "tun", "real_servers": [{"host": "far1", "port": 8080}]},
     "Service web.real_servers[0]: real server 203.0.113.41 port 8080 differs from the service port 80, but with forwarding_method tun"
     " the kernel cannot remap ports (only nat can): drop port or use nat."),
    ({"real_servers": [{"host": "far1"}]},
     "Real server far1 (203.0.113.41) of DR service web must be on a director's L2 segment; no director has an address in its subnet."),
    ({"forwarding_method": "nat", "real_servers": [{"host": "far1"}]},
     "Real server far1 (203.0.113.41) of NAT service web must be on a director segment so its default gateway can be the DIP;"
     " no director has an address in its subnet."),
    ({"real_servers": [{"host": "web9"}]},
     "Service web names real server 'web9', which is neither an address nor an inventory host."),
    ({"real_servers": [{"host": "192.0.2.100"}]},
     "Real server 192.0.2.100 of service web uses a VIP as its RIP."),
    ({"real_servers": [{"host": "rs1", "wieght": 2}]},
     "Service web.real_servers[0] has unknown key(s) wieght; allowed: forwarding_method, host, lower_threshold, port, upper_threshold, weight."),
    ({"vip": "192.0.2.300"},
     "Service web: Virtual service address '192.0.2.300' is not a valid IPv4 or IPv6 address."),
    ({"forwarding_method": "direct"},
     "Service web: forwarding_method 'direct' is unknown; use one of dr, nat, tun, fullnat."),
    ({"protocol": "fwmark", "port": None},
     "Service web: protocol is fwmark but all of the following are missing: fwmark."),
    ({"port": 70000},
     "Service web: Virtual service port must be from 0 to 65535, got 70000."),
])
def test_each_problem_is_one_sentence(hostvars, override, expected):
    assert lvs_topology_problems(services(override), hostvars, ["director"]) == [expected]


def test_every_problem_of_every_service_at_once(hostvars):
    model = services({"scheduler": "wrrr", "persistence": {"timeout": 20, "netmask": "255.0.255.0"},
                      "real_servers": [{"host": "rs1", "weight": 70000}, {"host": "192.0.2.21"}, "rs2",
                                       {"host": "rs2", "upper_threshold": 5, "lower_threshold": 10}]},
                     {"name": "mark", "protocol": "fwmark", "fwmark": "abc", "port": None})
    assert lvs_topology_problems(model, hostvars, ["director"]) == [
        "Service web.real_servers[2] must be a mapping, got 'rs2'.",
        "Service web: scheduler 'wrrr' is unknown; use one of rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq, fo, ovf, mh, twos.",
        "Service web: persistence_netmask 255.0.255.0 is not contiguous; use leading ones only, such as 255.255.255.0.",
        "Service web.real_servers[0]: real server 192.0.2.21 weight must be from 0 to 65535, got 70000.",
        "Service web.real_servers[1] repeats real server 192.0.2.21 port 80 of tcp 192.0.2.100:80; list each real server once.",
        "Service web.real_servers[3]: real server 192.0.2.22 lower_threshold 10 is above its upper_threshold 5 (0 = none);"
        " the kernel refuses that.",
        "Service mark: option fwmark must be of type int (%s)." % int_refusal("abc"),
    ]


def test_a_real_server_without_facts_still_has_its_other_values_checked(hostvars):
    del hostvars["rs1"]["ansible_facts"]
    model = services({"real_servers": [{"host": "rs1", "weight": 70000, "port": 8080}]})
    assert lvs_topology_problems(model, hostvars, ["director"]) == [
        "Service web.real_servers[0]: real server rs1 weight must be from 0 to 65535, got 70000.",
        "Service web.real_servers[0]: real server rs1 port 8080 differs from the service port 80, but with forwarding_method dr"
        " the kernel cannot remap ports (only nat can): drop port or use nat.",
        "Service web names real server rs1, whose facts were not gathered: gather facts on it first (site.yml does).",
    ]


@pytest.mark.parametrize("model", [
    "web", 42, [None], ["web"], [{}], [{"name": None, "vip": None, "real_servers": None}],
    [{"name": "web", "vip": ["192.0.2.100"], "port": {"a": 1}, "real_servers": "rs1"}],
    [{"name": "web", "vip": "192.0.2.100", "port": "x", "protocol": 7, "scheduler": None, "flags": 3, "persistence": "long",
      "forwarding_method": ["dr"], "keepalived": "yes", "real_servers": [None, 1, {"host": None}, {"host": "rs1", "weight": "x", "port": [80]}]}],
    [{"name": "web", "vip": "192.0.2.100", "protocol": "fwmark", "fwmark": {"mark": 1}, "real_servers": [{"host": "rs1", "upper_threshold": "x"}],
      "keepalived": {"health_check": "http", "sorry_server": "rs2", "quorum": "all", "delay_loop": None}}],
])
def test_no_input_raises_each_problem_is_a_sentence(hostvars, model):
    problems = lvs_topology_problems(model, hostvars, ["director"])
    assert problems and all(isinstance(problem, str) and problem.endswith(".") for problem in problems)


NAME_RULE = "is not a safe name: use 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or a digit."


@pytest.mark.parametrize("name", ["web\n}", "web\nvirtual_server 203.0.113.9 80 {", 'web" accept comment "x', "web x", "-web", ".web", "web#1",
                                  "web!", "w{b}", "w\u00e9b", "web\n", "w" * 65, "", "web;drop"])
def test_a_name_that_could_add_a_line_or_a_quote_is_refused_without_being_repeated(hostvars, name):
    model = services({"name": name, "scheduler": "wrrr"})
    assert lvs_topology_problems(model, hostvars, ["director"]) == [
        "lvs_virtual_services[0] name %r %s" % (name, NAME_RULE),
        "lvs_virtual_services[0]: scheduler 'wrrr' is unknown; use one of rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq, fo, ovf, mh, twos."]
    with pytest.raises(AnsibleFilterError, match="is not a safe name"):
        lvs_ipvs_config(services({"name": name}), hostvars, ["director"])


@pytest.mark.parametrize("name", ["web", "web-rr", "Web_2.v6", "1", "a" * 64, 443])
def test_safe_names_pass(hostvars, name):
    assert lvs_topology_problems(services({"name": name}), hostvars, ["director"]) == []


def test_overlapping_services_are_reported_once(hostvars):
    model = services({}, {"name": "web-again", "vip": "192.0.2.100"})
    assert lvs_topology_problems(model, hostvars, ["director"]) == ["Services web and web-again both claim tcp 192.0.2.100 port 80."]


def test_same_vip_on_another_protocol_is_fine(hostvars):
    assert lvs_topology_problems(services({}, {"name": "dns", "protocol": "udp"}), hostvars, ["director"]) == []


def test_ipv6_spellings_of_one_vip_overlap(hostvars):
    model = services({"vip": "2001:db8::100", "real_servers": [{"host": "rs1"}]},
                     {"name": "web6", "vip": "2001:0db8:0::0100", "real_servers": [{"host": "rs1"}]})
    assert lvs_topology_problems(model, hostvars, ["director"]) == ["Services web and web6 both claim tcp 2001:db8::100 port 80."]


def test_hosts_without_facts_are_named(hostvars):
    del hostvars["rs1"]["ansible_facts"]
    assert lvs_topology_problems(services(), hostvars, ["director"]) == [
        "Service web names real server rs1, whose facts were not gathered: gather facts on it first (site.yml does)."]


def test_director_without_facts_is_named(hostvars):
    hostvars["director"] = {}
    problems = lvs_topology_problems(services(), hostvars, ["director"])
    assert problems[0] == "Director director has no gathered facts: gather facts on it first (site.yml does)."


def test_shared_management_address_is_never_a_rip(hostvars):
    # 10.0.2.15 is on every VM; rs1 has no other IPv4 address on a director segment after this.
    hostvars["rs1"]["ansible_facts"]["eth0"] = nic("203.0.113.42", 24)
    hostvars["rs1"]["ansible_facts"]["default_ipv4"] = {}
    model = services({"forwarding_method": "tun", "real_servers": [{"host": "rs1"}]})
    assert lvs_ipvs_config(model, hostvars, ["director"])[0]["real_servers"][0]["address"] == "203.0.113.42"


def test_nat_with_two_directors_needs_an_explicit_gateway(hostvars):
    hostvars["director2"] = facts({"eth1": nic("198.51.100.2", 24)})
    model = services({"forwarding_method": "nat", "real_servers": [{"host": "nat1", "port": 8080}]})
    assert lvs_topology_problems(model, hostvars, ["director", "director2"]) == [
        "Real server nat1 (198.51.100.31) of NAT service web has 2 directors to choose from: set real_server_nat_gateway to the DIP they share."]
    hostvars["nat1"]["real_server_nat_gateway"] = "198.51.100.254"
    assert lvs_topology_problems(model, hostvars, ["director", "director2"]) == []
    hostvars["nat1"]["real_server_nat_gateway"] = "192.0.2.254"
    assert lvs_topology_problems(model, hostvars, ["director", "director2"]) == [
        "Real server nat1 (198.51.100.31) of NAT service web has real_server_nat_gateway 192.0.2.254 outside its subnet 198.51.100.0/24."]


def test_nat_gateway_is_the_dip_on_the_real_server_segment(hostvars):
    model = services({"forwarding_method": "nat", "real_servers": [{"host": "nat1", "port": 8080}]})
    assert lvs_nat_gateway(model, hostvars, ["director"], "nat1", ["198.51.100.31", "10.0.2.15"]) == "198.51.100.1"
    assert lvs_nat_gateway(model, hostvars, ["director"], "rs1", ["192.0.2.21"]) is None


def test_nat_gateway_fails_clearly_off_segment(hostvars):
    model = services({"forwarding_method": "nat", "real_servers": [{"host": "far1"}]})
    with pytest.raises(AnsibleFilterError, match="No director has an address in the subnet of NAT real server far1"):
        lvs_nat_gateway(model, hostvars, ["director"], "far1", ["203.0.113.41"])


def test_real_server_vips_by_name_or_address():
    model = services({}, {"name": "dns", "vip": "192.0.2.53", "port": 53, "protocol": "udp", "real_servers": [{"host": "192.0.2.22"}]},
                     {"name": "tun", "vip": "192.0.2.99", "forwarding_method": "tun", "real_servers": [{"host": "rs2"}]})
    assert lvs_real_server_vips(model, "rs1", ["192.0.2.21"], ["dr"]) == ["192.0.2.100"]
    assert lvs_real_server_vips(model, "rs2", ["192.0.2.22"], ["dr"]) == ["192.0.2.53", "192.0.2.100"]
    assert lvs_real_server_vips(model, "rs2", ["192.0.2.22"], ["tun"]) == ["192.0.2.99"]
    assert lvs_real_server_vips(model, "client", ["192.0.2.50"], ["dr", "nat", "tun", "fullnat"]) == []


def test_malformed_model_fails_the_filter_with_the_sentence():
    with pytest.raises(AnsibleFilterError, match="Service web has no vip."):
        lvs_real_server_vips([{"name": "web", "real_servers": []}], "rs1", [], ["dr"])


def test_missing_netaddr_is_reported_clearly(monkeypatch, hostvars):
    monkeypatch.setattr(_topology, "netaddr", None)
    with pytest.raises(AnsibleFilterError, match="netaddr is required"):
        lvs_topology_problems(services(), hostvars, ["director"])
    with pytest.raises(AnsibleFilterError, match="netaddr is required"):
        lvs_ipvs_config(services(), hostvars, ["director"])


def test_director_vips_go_on_the_client_facing_subnet_with_labels(hostvars):
    model = services({}, {"name": "web2", "vip": "192.0.2.101"}, {"name": "web6", "vip": "2001:db8::100", "real_servers": [{"host": "rs1"}]},
                     {"name": "far", "vip": "203.0.113.100", "forwarding_method": "tun", "real_servers": [{"host": "far1"}]})
    director_facts = hostvars["director"]["ansible_facts"]
    director_facts["default_ipv4"] = {"address": "198.51.100.1", "interface": "eth1"}
    assert lvs_director_vips(model, director_facts) == [
        {"address": "192.0.2.100", "prefix": 32, "interface": "eth0", "label": "eth0:0"},
        {"address": "192.0.2.101", "prefix": 32, "interface": "eth0", "label": "eth0:1"},
        {"address": "203.0.113.100", "prefix": 32, "interface": "eth1", "label": "eth1:0"},
        {"address": "2001:db8::100", "prefix": 128, "interface": "eth0", "label": None},
    ]
    assert lvs_director_vips(model, director_facts, "eth9")[2]["interface"] == "eth9"


def test_director_vip_without_a_home_fails_clearly(hostvars):
    model = services({"vip": "203.0.113.100"})
    with pytest.raises(AnsibleFilterError, match="VIP 203.0.113.100 is in no subnet of this director and there is no default route"):
        lvs_director_vips(model, hostvars["director"]["ansible_facts"])


# A forwarding method per real server: ipvsadm -a takes -g, -i or -m for each one, so a pool can
# serve a rack on the director's segment by DR and a remote site by TUN.
MIXED = {"name": "mixed", "vip": "192.0.2.101", "real_servers": [{"host": "rs1"}, {"host": "far1", "forwarding_method": "tun"}]}


def test_a_real_server_takes_the_service_method_unless_it_sets_its_own(hostvars):
    web, mixed = lvs_normalized_services(services({}, MIXED))
    assert [rs["forwarding_method"] for rs in web["real_servers"]] == ["dr", "dr"]
    assert (mixed["forwarding_method"], [rs["forwarding_method"] for rs in mixed["real_servers"]]) == ("dr", ["dr", "tun"])
    assert "address" not in mixed["real_servers"][0]


def test_normalized_services_with_the_inventory_give_each_real_server_its_rip(hostvars):
    web, mixed = lvs_normalized_services(services({}, MIXED), hostvars, ["director"])
    assert [rs["address"] for rs in web["real_servers"] + mixed["real_servers"]] == ["192.0.2.21", "192.0.2.22", "192.0.2.21", "203.0.113.41"]


def test_ipvs_config_gives_each_real_server_its_own_kernel_method(hostvars):
    model = services(MIXED, {"name": "api", "vip": "192.0.2.102", "port": 443, "forwarding_method": "nat",
                             "real_servers": [{"host": "nat1", "port": 8443}, {"host": "far1", "port": 8443, "forwarding_method": "fullnat"},
                                              {"host": "rs2", "forwarding_method": "dr"}]})
    mixed, api = lvs_ipvs_config(model, hostvars, ["director"])
    assert [(rs["address"], rs["port"], rs["forwarding_method"]) for rs in mixed["real_servers"]] == [
        ("192.0.2.21", 80, "dr"), ("203.0.113.41", 80, "tun")]
    assert [(rs["address"], rs["port"], rs["forwarding_method"]) for rs in api["real_servers"]] == [
        ("198.51.100.31", 8443, "nat"), ("203.0.113.41", 8443, "nat"), ("192.0.2.22", 443, "dr")]


@pytest.mark.parametrize("override, expected", [
    # A DR real server of a TUN service is held to DR's rule, and named with its method.
    ({"forwarding_method": "tun", "real_servers": [{"host": "nat1"}, {"host": "rs2", "forwarding_method": "dr"}, {"host": "far1", "forwarding_method": "dr"}]},
     "Real server far1 (203.0.113.41) of service web, forwarded by DR, must be on a director's L2 segment; no director has an address in its subnet."),
    ({"real_servers": [{"host": "rs1"}, {"host": "far1", "forwarding_method": "nat"}]},
     "Real server far1 (203.0.113.41) of service web, forwarded by NAT, must be on a director segment so its default gateway can be the DIP;"
     " no director has an address in its subnet."),
    ({"forwarding_method": "fullnat", "real_servers": [{"host": "far1", "port": 8080}, {"host": "rs1", "port": 8080, "forwarding_method": "dr"}]},
     "Service web.real_servers[1]: real server 192.0.2.21 port 8080 differs from the service port 80, but with forwarding_method dr"
     " the kernel cannot remap ports (only nat can): drop port or use nat."),
    ({"real_servers": [{"host": "rs1"}, {"host": "far1", "port": 8080, "forwarding_method": "tun"}]},
     "Service web.real_servers[1]: real server 203.0.113.41 port 8080 differs from the service port 80, but with forwarding_method tun"
     " the kernel cannot remap ports (only nat can): drop port or use nat."),
    ({"real_servers": [{"host": "rs1"}, {"host": "2001:db8::41", "forwarding_method": "tun"}]},
     "Service web mixes IPv4 VIP 192.0.2.100 with IPv6 real server 2001:db8::41."),
    ({"real_servers": [{"host": "rs1", "forwarding_method": "direct"}]},
     "Service web.real_servers[0]: forwarding_method 'direct' is unknown; use one of dr, nat, tun, fullnat."),
    ({"forwarding_method": "nat", "real_servers": [{"host": "nat1", "port": 8080}, {"host": "nat1", "port": 8081, "forwarding_method": "fullnat"}]},
     "Service web lists real server 198.51.100.31 both as fullnat and as nat: the director's source NAT tells FULLNAT real servers by address,"
     " so an address of one service is either fullnat or not."),
])
def test_each_real_server_is_checked_by_its_own_method(hostvars, override, expected):
    assert lvs_topology_problems(services(override), hostvars, ["director"]) == [expected]


@pytest.mark.parametrize("override", [
    # Off the director's segment by TUN and FULLNAT, with a remapped port by NAT and FULLNAT: all fine.
    {"real_servers": [{"host": "rs1"}, {"host": "far1", "forwarding_method": "tun"}]},
    {"forwarding_method": "tun", "real_servers": [{"host": "far1"}, {"host": "rs2", "forwarding_method": "dr"}]},
    {"real_servers": [{"host": "rs1"}, {"host": "far1", "port": 8080, "forwarding_method": "fullnat"}]},
    {"real_servers": [{"host": "rs1"}, {"host": "nat1", "port": 8080, "forwarding_method": "nat"}]},
    {"forwarding_method": "fullnat", "real_servers": [{"host": "far1", "port": 8080}, {"host": "rs1", "forwarding_method": "dr"}]},
    # One address, two ports, neither fullnat.
    {"forwarding_method": "nat", "real_servers": [{"host": "nat1", "port": 8080}, {"host": "nat1", "port": 8081}]},
])
def test_a_pool_that_mixes_methods_each_by_its_rules_has_no_problems(hostvars, override):
    assert lvs_topology_problems(services(override), hostvars, ["director"]) == []


def test_a_nat_real_server_of_a_dr_service_needs_its_gateway_with_two_directors(hostvars):
    hostvars["director2"] = facts({"eth0": nic("192.0.2.11", 24), "eth1": nic("198.51.100.2", 24)})
    model = services({"real_servers": [{"host": "rs1"}, {"host": "nat1", "forwarding_method": "nat"}]})
    assert lvs_topology_problems(model, hostvars, ["director", "director2"]) == [
        "Real server nat1 (198.51.100.31) of service web, forwarded by NAT, has 2 directors to choose from:"
        " set real_server_nat_gateway to the DIP they share."]
    hostvars["nat1"]["real_server_nat_gateway"] = "198.51.100.254"
    assert lvs_topology_problems(model, hostvars, ["director", "director2"]) == []


def test_real_server_vips_are_those_of_the_methods_that_reach_the_host():
    model = services({"real_servers": [{"host": "rs1"}, {"host": "rs2"}]},
                     {"name": "remote", "vip": "192.0.2.99", "forwarding_method": "tun", "real_servers": [{"host": "rs2"}, {"host": "far1"}]},
                     {"name": "api", "vip": "192.0.2.98", "real_servers": [{"host": "rs1"}, {"host": "192.0.2.22", "forwarding_method": "tun"}]})
    # rs2: DR in web, TUN in remote and, by its address, in api.
    assert lvs_real_server_vips(model, "rs2", ["192.0.2.22"], ["dr"]) == ["192.0.2.100"]
    assert lvs_real_server_vips(model, "rs2", ["192.0.2.22"], ["tun"]) == ["192.0.2.98", "192.0.2.99"]
    assert lvs_real_server_vips(model, "rs1", ["192.0.2.21"], ["dr"]) == ["192.0.2.98", "192.0.2.100"]
    assert lvs_real_server_vips(model, "rs1", ["192.0.2.21"], ["tun"]) == []


def test_nat_gateway_reads_the_real_server_own_method(hostvars):
    model = services({"real_servers": [{"host": "rs1"}, {"host": "nat1", "port": 8080, "forwarding_method": "nat"}]},
                     {"name": "api", "vip": "192.0.2.102", "forwarding_method": "nat", "real_servers": [{"host": "rs2", "forwarding_method": "fullnat"}]})
    assert lvs_nat_gateway(model, hostvars, ["director"], "nat1", ["198.51.100.31"]) == "198.51.100.1"
    # FULLNAT real servers keep their own gateway.
    assert lvs_nat_gateway(model, hostvars, ["director"], "rs2", ["192.0.2.22"]) is None


@pytest.fixture
def dual_stack(hostvars):
    """The NAT segment 198.51.100.0/24 with 2001:db8:51::/64 beside it, on the director and nat1."""
    hostvars["director"]["ansible_facts"]["eth1"] = nic("198.51.100.1", 24, ipv6=["2001:db8:51::1"])
    hostvars["nat1"]["ansible_facts"]["eth0"] = nic("198.51.100.31", 24, ipv6=["2001:db8:51::31"])
    return hostvars


def test_nat_gateway_family_6_is_the_director_ipv6_address_on_the_real_server_subnet(dual_stack):
    nat6 = {"name": "web6", "vip": "2001:db8::100", "forwarding_method": "nat", "real_servers": [{"host": "nat1", "port": 8080}]}
    nat4 = {"forwarding_method": "nat", "real_servers": [{"host": "nat1", "port": 8080}]}
    addresses = ["198.51.100.31", "2001:db8:51::31"]
    assert lvs_nat_gateway(services(nat6), dual_stack, ["director"], "nat1", addresses, family=6) == "2001:db8:51::1"
    # Family 4, the default, reads only IPv4 services, and family 6 only IPv6 ones.
    assert lvs_nat_gateway(services(nat6), dual_stack, ["director"], "nat1", addresses) is None
    assert lvs_nat_gateway(services(nat4), dual_stack, ["director"], "nat1", addresses, family=6) is None
    both = services(nat4, nat6)
    assert [lvs_nat_gateway(both, dual_stack, ["director"], "nat1", addresses, family=family) for family in (4, 6)] == ["198.51.100.1", "2001:db8:51::1"]


def test_nat_gateway_family_6_off_segment_and_a_bad_family_fail_clearly(dual_stack):
    del dual_stack["director"]["ansible_facts"]["eth1"]["ipv6"][1:]
    # nat1's IPv6 address is then on no director subnet.
    model = services({"name": "web6", "vip": "2001:db8::100", "forwarding_method": "nat", "real_servers": [{"host": "2001:db8:51::31"}]})
    with pytest.raises(AnsibleFilterError, match="No director has an address in the subnet of NAT real server nat1: set real_server_nat_gateway6."):
        lvs_nat_gateway(model, dual_stack, ["director"], "nat1", ["2001:db8:51::31"], family=6)
    with pytest.raises(AnsibleFilterError, match=r"^family must be 4 or 6, got 5\.$"):
        lvs_nat_gateway(model, dual_stack, ["director"], "nat1", ["2001:db8:51::31"], family=5)


def test_an_ipv6_nat_real_server_checks_real_server_nat_gateway6(dual_stack):
    dual_stack["director2"] = facts({"eth1": nic("198.51.100.2", 24, ipv6=["2001:db8:51::2"])})
    model = services({"name": "web6", "vip": "2001:db8::100", "forwarding_method": "nat", "real_servers": [{"host": "nat1", "port": 8080}]})
    directors = ["director", "director2"]
    assert lvs_topology_problems(model, dual_stack, directors) == [
        "Real server nat1 (2001:db8:51::31) of NAT service web6 has 2 directors to choose from: set real_server_nat_gateway6 to the DIP they share."]
    # The IPv4 gateway is not the IPv6 route's.
    dual_stack["nat1"]["real_server_nat_gateway"] = "198.51.100.254"
    assert len(lvs_topology_problems(model, dual_stack, directors)) == 1
    dual_stack["nat1"]["real_server_nat_gateway6"] = "2001:db8:51::fe"
    assert lvs_topology_problems(model, dual_stack, directors) == []
    dual_stack["nat1"]["real_server_nat_gateway6"] = "2001:db8:52::fe"
    assert lvs_topology_problems(model, dual_stack, directors) == [
        "Real server nat1 (2001:db8:51::31) of NAT service web6 has real_server_nat_gateway6 2001:db8:52::fe outside its subnet 2001:db8:51::/64."]
