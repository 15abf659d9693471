# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Each rule of a service's values, once through the controller's validation of the data model
(the lvs_topology_problems filter) and once through the module the director runs on the item
the service becomes (ipvs_table): the same sentence, where each names the service its own way,
and the module changes nothing."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

import pytest

from host_module_harness import ModuleFail, run_module
from test_ipvs_modules import FakeIpvsadm, live

from ansible_collections.lvs.topology.plugins.filter.lvs_topology_problems import lvs_topology_problems
from ansible_collections.lvs.topology.plugins.modules import ipvs_table
from ansible_collections.lvs.topology.tests.unit.plugins.module_utils.ipvs_fixtures import int_refusal


def nic(address, prefix, ipv6=None):
    netmask = ".".join(str((0xFFFFFFFF << (32 - prefix) >> shift) & 0xFF) for shift in (24, 16, 8, 0))
    return {"type": "ether", "ipv4": {"address": address, "netmask": netmask},
            "ipv6": [{"address": ipv6, "prefix": "64", "scope": "global"}] if ipv6 else []}


# One director on the real servers' segments, IPv4 and IPv6: every real server below is on-link.
HOSTVARS = {"director": {"ansible_facts": {"interfaces": ["eth0"], "eth0": nic("192.0.2.10", 24, ipv6="2001:db8::10")}}}

SERVICE = {"name": "web", "vip": "192.0.2.100", "port": 80, "real_servers": [{"host": "192.0.2.11"}]}
ITEM = {"address": "192.0.2.100", "port": 80, "real_servers": [{"address": "192.0.2.11", "forwarding_method": "dr"}]}
SCHEDULERS = "rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq, fo, ovf, mh, twos"
FWMARK = {"protocol": "fwmark", "port": None}
FWMARK_ITEM = {"protocol": "fwmark", "family": "ipv4", "address": None, "port": None}
IPV6 = {"vip": "2001:db8::100", "real_servers": [{"host": "2001:db8::11"}]}
IPV6_ITEM = {"address": "2001:db8::100", "real_servers": [{"address": "2001:db8::11", "forwarding_method": "dr"}]}

# (the service's keys, the ipvs_table item's keys, the sentence; {where} is where it names the
# service: "Service web" in the model, "config[0]" in the module's config).
RULES = [
    ({"scheduler": "wrrr"}, {"scheduler": "wrrr"}, "{where}: scheduler 'wrrr' is unknown; use one of %s." % SCHEDULERS),
    ({"scheduler": "rr", "flags": ["sh-port"]}, {"scheduler": "rr", "scheduler_flags": ["sh-port"]},
     "{where}: scheduler flag sh-port does not belong to scheduler rr (it takes no flags)."),
    ({"scheduler": "sh", "flags": "mh-port"}, {"scheduler": "sh", "scheduler_flags": ["mh-port"]},
     "{where}: scheduler flag mh-port does not belong to scheduler sh (it takes sh-fallback, sh-port)."),
    ({"scheduler": "sh", "flags": ["sh-port", "sh-port"]}, {"scheduler": "sh", "scheduler_flags": ["sh-port", "sh-port"]},
     "{where}: scheduler_flags lists a flag twice: sh-port, sh-port."),
    ({"flags": ["sh-every"]}, {"scheduler_flags": ["sh-every"]},
     "{where}: scheduler_flags 'sh-every' is unknown; use one of sh-fallback, sh-port, mh-fallback, mh-port."),
    ({"protocol": "http"}, {"protocol": "http"}, "{where}: protocol 'http' is unknown; use one of tcp, udp, sctp, fwmark."),
    (dict(FWMARK, fwmark=0), dict(FWMARK_ITEM, fwmark=0), "{where}: fwmark must be from 1 to 4294967295, got 0."),
    (dict(FWMARK, fwmark=4294967296), dict(FWMARK_ITEM, fwmark=4294967296), "{where}: fwmark must be from 1 to 4294967295, got 4294967296."),
    (dict(FWMARK, fwmark="abc"), dict(FWMARK_ITEM, fwmark="abc"),
     "{where}: option fwmark must be of type int (%s)." % int_refusal("abc")),
    (FWMARK, FWMARK_ITEM, "{where}: protocol is fwmark but all of the following are missing: fwmark."),
    ({"port": None}, {"port": None}, "{where}: protocol is tcp but all of the following are missing: port."),
    ({"port": 70000}, {"port": 70000}, "{where}: Virtual service port must be from 0 to 65535, got 70000."),
    ({"port": "http"}, {"port": "http"}, "{where}: option port must be of type int (%s)." % int_refusal("http")),
    ({"port": 0}, {"port": 0}, "{where}: port 0 (all ports) needs persistence: set persistence_timeout above 0 for tcp 192.0.2.100:0."),
    ({"vip": "192.0.2.300"}, {"address": "192.0.2.300"}, "{where}: Virtual service address '192.0.2.300' is not a valid IPv4 or IPv6 address."),
    ({"vip": "192.0.2.0/24"}, {"address": "192.0.2.0/24"},
     "{where}: Virtual service address '192.0.2.0/24' is not a plain IPv4 or IPv6 address (no prefix length or zone index)."),
    ({"persistence": {"timeout": 2678401}}, {"persistence_timeout": 2678401},
     "{where}: persistence_timeout must be from 0 to 2678400, got 2678401."),
    ({"persistence": {"timeout": 60, "netmask": "255.0.255.0"}}, {"persistence_timeout": 60, "persistence_netmask": "255.0.255.0"},
     "{where}: persistence_netmask 255.0.255.0 is not contiguous; use leading ones only, such as 255.255.255.0."),
    ({"persistence": {"timeout": 60, "netmask": "255.255.0.x"}}, {"persistence_timeout": 60, "persistence_netmask": "255.255.0.x"},
     "{where}: persistence_netmask '255.255.0.x' is not an IPv4 netmask such as 255.255.255.0."),
    (dict(IPV6, persistence={"timeout": 60, "netmask": "255.255.255.0"}), dict(IPV6_ITEM, persistence_timeout=60, persistence_netmask="255.255.255.0"),
     "{where}: persistence_netmask for an IPv6 service (a prefix length) must be an integer from 1 to 128, got '255.255.255.0'."),
    ({"persistence": {"netmask": "255.255.255.0"}}, {"persistence_netmask": "255.255.255.0"},
     "{where}: persistence_netmask needs persistence: set persistence_timeout above 0."),
    ({"persistence": {"timeout": 60, "engine": "http"}}, {"persistence_timeout": 60, "persistence_engine": "http"},
     "{where}: persistence_engine 'http' is unknown; use one of sip."),
    ({"protocol": "udp", "persistence": {"engine": "sip"}}, {"protocol": "udp", "persistence_engine": "sip"},
     "{where}: persistence_engine needs persistence: set persistence_timeout above 0."),
    ({"real_servers": [{"host": "192.0.2.11", "weight": 70000}]},
     {"real_servers": [{"address": "192.0.2.11", "forwarding_method": "dr", "weight": 70000}]},
     "{where}.real_servers[0]: real server 192.0.2.11 weight must be from 0 to 65535, got 70000."),
    ({"real_servers": [{"host": "192.0.2.11", "weight": "x"}]},
     {"real_servers": [{"address": "192.0.2.11", "forwarding_method": "dr", "weight": "x"}]},
     "{where}.real_servers[0]: option weight must be of type int (%s)." % int_refusal("x")),
    ({"real_servers": [{"host": "192.0.2.11", "upper_threshold": 2147483648}]},
     {"real_servers": [{"address": "192.0.2.11", "forwarding_method": "dr", "upper_threshold": 2147483648}]},
     "{where}.real_servers[0]: real server 192.0.2.11 upper_threshold must be from 0 to 2147483647, got 2147483648."),
    ({"real_servers": [{"host": "192.0.2.11", "upper_threshold": 10, "lower_threshold": 20}]},
     {"real_servers": [{"address": "192.0.2.11", "forwarding_method": "dr", "upper_threshold": 10, "lower_threshold": 20}]},
     "{where}.real_servers[0]: real server 192.0.2.11 lower_threshold 20 is above its upper_threshold 10 (0 = none); the kernel refuses that."),
    ({"real_servers": [{"host": "192.0.2.11"}, {"host": "192.0.2.11", "port": 80}]},
     {"real_servers": [{"address": "192.0.2.11", "forwarding_method": "dr"}, {"address": "192.0.2.11", "forwarding_method": "dr", "port": 80}]},
     "{where}.real_servers[1] repeats real server 192.0.2.11 port 80 of tcp 192.0.2.100:80; list each real server once."),
    ({"real_servers": [{"host": "192.0.2.11", "port": 70000}], "forwarding_method": "nat"},
     {"real_servers": [{"address": "192.0.2.11", "forwarding_method": "nat", "port": 70000}]},
     "{where}.real_servers[0] port must be from 0 to 65535, got 70000."),
    ({"real_servers": [{"host": "192.0.2.11", "port": 8080}]}, {"real_servers": [{"address": "192.0.2.11", "forwarding_method": "dr", "port": 8080}]},
     "{where}.real_servers[0]: real server 192.0.2.11 port 8080 differs from the service port 80, but with forwarding_method dr the kernel"
     " cannot remap ports (only nat can): drop port or use nat."),
    ({"forwarding_method": "tun", "real_servers": [{"host": "192.0.2.11", "port": 8080}]},
     {"real_servers": [{"address": "192.0.2.11", "forwarding_method": "tun", "port": 8080}]},
     "{where}.real_servers[0]: real server 192.0.2.11 port 8080 differs from the service port 80, but with forwarding_method tun the kernel"
     " cannot remap ports (only nat can): drop port or use nat."),
    ({"forwarding_method": "nat", "real_servers": [{"host": "2001:db8::11"}]},
     {"real_servers": [{"address": "2001:db8::11", "forwarding_method": "nat"}]},
     "{where}.real_servers[0]: real server 2001:db8::11 is ipv6 but tcp 192.0.2.100:80 is ipv4: the kernel mixes address families only"
     " with forwarding_method tun."),
]


def model(keys):
    service = copy.deepcopy(SERVICE)
    service.update(keys)
    return [service]


def config(keys):
    item = copy.deepcopy(ITEM)
    item.update(keys)
    return [item]


def test_the_service_and_its_item_pass_as_they_are(kernel):
    assert lvs_topology_problems(model({}), HOSTVARS, ["director"]) == []
    result = run_module(ipvs_table.main, dict(state="overridden", config=config({})), FakeIpvsadm(live()), check_mode=True)
    assert result["changed"] is True


@pytest.mark.parametrize("service_keys, item_keys, sentence", RULES, ids=[sentence[8:70] for dummy, dummy, sentence in RULES])
def test_the_model_and_the_module_refuse_a_value_with_the_same_sentence(kernel, service_keys, item_keys, sentence):
    assert lvs_topology_problems(model(service_keys), HOSTVARS, ["director"]) == [sentence.format(where="Service web")]
    fake = FakeIpvsadm(live())
    with pytest.raises(ModuleFail) as failure:
        run_module(ipvs_table.main, dict(state="overridden", config=config(item_keys)), fake)
    assert failure.value.result["msg"] == sentence.format(where="config[0]")
    assert fake.changes() == []
