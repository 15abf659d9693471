# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import os

import pytest

from ansible_collections.lvs.topology.plugins.module_utils import _iproute

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "host")


def captured(name):
    """ip -j addr show output captured on the lab's single VM (see fixtures/host/README.md)."""
    with open(os.path.join(FIXTURES, name)) as handle:
        return _iproute.parse_ip_addr(handle.read())


def test_parses_every_link_of_the_base_capture():
    interfaces = captured("ip_addr_single.json")
    assert sorted(interfaces) == ["eth0", "lo", "mgmt0"]
    eth0 = interfaces["eth0"]
    assert eth0.mac == "52:54:00:4c:01:01" and eth0.is_ethernet and eth0.is_up and not eth0.is_loopback
    assert [address.describe() for address in eth0.addresses] == [
        "inet 192.0.2.10/25 label eth0", "inet6 2001:db8:0:2::10/64", "inet6 fe80::5054:ff:fe4c:101/64"]
    assert interfaces["lo"].is_loopback and not interfaces["lo"].is_ethernet


def test_tunl0_after_modprobe_is_down_noarp_and_empty():
    tunl0 = captured("ip_addr_single_tunl0_down.json")["tunl0"]
    assert not tunl0.is_up and not tunl0.is_ethernet and tunl0.link_type == "ipip" and tunl0.addresses == []


def test_vips_with_labels():
    interfaces = captured("ip_addr_single_vips.json")
    lo_vip = interfaces["lo"].find(ipaddress.ip_address(u"192.0.2.101"))
    assert len(lo_vip) == 1 and lo_vip[0].label == "lo:0" and lo_vip[0].prefixlen == 32
    assert interfaces["tunl0"].is_up
    assert [a.describe() for a in interfaces["tunl0"].addresses] == ["inet 192.0.2.102/32 label tunl0"]


def test_find_compares_addresses_not_spellings():
    lo = captured("ip_addr_single_vips.json")["lo"]
    found = lo.find(ipaddress.ip_address(u"2001:0db8:0000:0002::0101"))
    assert [address.interface.with_prefixlen for address in found] == ["2001:db8:0:2::101/128"]
    assert lo.find(ipaddress.ip_address(u"192.0.2.1")) == []


def test_name_before_at_sign_is_the_interface():
    interfaces = _iproute.parse_ip_addr('[{"ifname": "tunl0@NONE", "flags": [], "addr_info": [{}]}]')
    assert list(interfaces) == ["tunl0"] and interfaces["tunl0"].addresses == []


@pytest.mark.parametrize("text, expected", [
    ("192.0.2.100", "192.0.2.100/32"), ("192.0.2.100/25", "192.0.2.100/25"),
    ("2001:db8::100", "2001:db8::100/128"), (" 2001:0db8::0100/64 ", "2001:db8::100/64"),
])
def test_parse_address_defaults_to_a_host_prefix(text, expected):
    assert _iproute.parse_address(text).with_prefixlen == expected


def test_argv_builders():
    vip = _iproute.parse_address("192.0.2.100")
    assert _iproute.addr_argv("/sbin/ip", "add", vip, "eth0", "eth0:0") == [
        "/sbin/ip", "addr", "add", "192.0.2.100/32", "dev", "eth0", "label", "eth0:0"]
    # ip has no label for IPv6 addresses: the argument is left out.
    assert _iproute.addr_argv("/sbin/ip", "del", _iproute.parse_address("2001:db8::1"), "lo", "lo:0") == [
        "/sbin/ip", "addr", "del", "2001:db8::1/128", "dev", "lo"]
    assert _iproute.link_up_argv("/sbin/ip", "tunl0") == ["/sbin/ip", "link", "set", "tunl0", "up"]
