# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading ``ip -j addr`` and building ``ip`` argv lists.

Private to the collection: this API may change without notice.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import json

from ansible.module_utils.common.text.converters import to_text

# Address families as ``ip -j`` names them.
FAMILY_BY_VERSION = {4: "inet", 6: "inet6"}


class Interface(object):
    """One link from ``ip -j addr``: name, flags, link type, MAC and its addresses."""

    def __init__(self, entry):
        # tunl0 can show as "tunl0@NONE" in some iproute2 versions; the name is before the @.
        self.name = entry.get("ifname", "").split("@", 1)[0]
        self.flags = entry.get("flags", [])
        self.link_type = entry.get("link_type", "")
        self.mac = entry.get("address")
        self.addresses = [Address(info) for info in entry.get("addr_info", []) if info.get("local")]

    @property
    def is_up(self):
        return "UP" in self.flags

    @property
    def is_loopback(self):
        return self.link_type == "loopback" or "LOOPBACK" in self.flags

    @property
    def is_ethernet(self):
        """ARP-capable Ethernet-like link: where a gratuitous ARP means something."""
        return self.link_type == "ether" and "NOARP" not in self.flags

    def find(self, ip):
        """Addresses of this interface whose IP equals ip (an ipaddress object), whatever the prefix."""
        return [address for address in self.addresses if address.ip == ip]


class Address(object):
    """One entry of addr_info, with the IP as an ipaddress object so comparisons are exact."""

    def __init__(self, info):
        local = info["local"]
        if info.get("prefixlen") is not None:
            local = u"%s/%s" % (local, info["prefixlen"])
        self.interface = ipaddress.ip_interface(local)
        self.label = info.get("label")
        self.scope = info.get("scope")

    @property
    def ip(self):
        return self.interface.ip

    @property
    def prefixlen(self):
        return self.interface.network.prefixlen

    def describe(self):
        """One readable line, close to what ``ip addr`` prints."""
        return describe_address(self.interface, self.label)


def describe_address(address, label=None):
    """'inet 192.0.2.10/32 label eth0:0': the line used in diffs and messages."""
    line = "%s %s" % (FAMILY_BY_VERSION[address.version], address.with_prefixlen)
    if label and address.version == 4:
        line += " label %s" % label
    return line


def parse_ip_addr(text):
    """Interfaces by name from the JSON of ``ip -j addr show``."""
    entries = json.loads(to_text(text) or "[]")
    interfaces = {}
    for entry in entries:
        if entry.get("ifname"):
            interface = Interface(entry)
            interfaces[interface.name] = interface
    return interfaces


def parse_address(text):
    """An ipaddress interface from 'IP' or 'IP/prefix'; no prefix means a host address (/32, /128)."""
    return ipaddress.ip_interface(to_text(text).strip())


def addr_argv(ip_bin, action, address, interface, label=None):
    """``ip addr add|del|replace ADDRESS/PREFIX dev IF [label L]`` as an argv list."""
    argv = [ip_bin, "addr", action, address.with_prefixlen, "dev", interface]
    if label and address.version == 4:
        argv.extend(["label", label])
    return argv


def link_up_argv(ip_bin, interface):
    """``ip link set IF up`` as an argv list."""
    return [ip_bin, "link", "set", interface, "up"]
