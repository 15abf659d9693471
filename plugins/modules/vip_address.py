#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: vip_address
short_description: Put a virtual IP (VIP) on an interface, announce it and keep it across reboots
version_added: 0.1.0
description:
  - Adds or removes one address on one interface, as C(ip addr add VIP/32 dev lo label lo:0) does
    in every LVS guide, idempotently.
  - On a director the VIP goes on the client-facing NIC; on a DR real server on C(lo); on a TUN
    real server on C(tunl0) for an IPv4 VIP, for which the module loads C(ipip) and brings C(tunl0)
    up first, and on C(ip6tnl0) for an IPv6 VIP, for which it loads C(ip6_tunnel) and brings
    C(ip6tnl0) up first (IPVS tunnels an IPv6 service's packets IPv6-in-IPv6, and a module's
    fallback device receives every tunnelled packet no other tunnel claims).
  - Addresses are compared as IP addresses, so C(2001:db8::1) and C(2001:0db8::0001) are the same.
  - With O(persistent=true) the address comes back at boot through one systemd unit per address,
    C(/etc/systemd/system/lvs-topology-vip-<interface>-<address>.service), which runs
    C(ip addr replace) once the device exists and the network manager (ifupdown, systemd-networkd
    or NetworkManager) has configured the links, and before C(network-online.target), so services
    that wait for the network find the VIP. The same unit works whatever manages the network.
  - A network manager that later reconfigures the link from scratch (a systemd-networkd reload,
    a DHCP lease on the same label) may drop the VIP until the unit runs again; for a VIP owned by
    keepalived use keepalived's own C(virtual_ipaddress) instead.
  - Everything is checked before anything is changed; a refused request leaves the host untouched.
    The names and the address are checked before any command runs, since they are written into
    the persistence unit too.
author:
  - lvs.topology contributors (@lvs-topology)
extends_documentation_fragment:
  - lvs.topology.host_lock
attributes:
  check_mode:
    support: full
    description: Reports what would change; loads no kernel module, writes no file, sends no ARP.
  diff_mode:
    support: full
    description: The interface's addresses and the persistence unit, before and after.
options:
  address:
    description:
      - The address, C(IP) or C(IP/prefix). Without a prefix it is a host address (C(/32) for
        IPv4, C(/128) for IPv6), which is what a VIP on C(lo) or C(tunl0) must be.
      - Exactly the address, without blanks around it. An IPv6 zone id (C(fe80::1%eth0)) is refused;
        O(interface) says where the address goes.
    type: str
    required: true
  interface:
    description:
      - The interface that carries the address, as C(ip addr ... dev) names it.
      - C(lo) on a DR real server, C(tunl0) (IPv4) or C(ip6tnl0) (IPv6) on a TUN real server, the
        client-facing NIC on a director.
      - With O(state=present) the interface must exist, except C(tunl0) and C(ip6tnl0), created by
        loading C(ipip) and C(ip6_tunnel).
      - "An interface name is 1 to 15 characters (the kernel's IFNAMSIZ): letters, digits and C(. _ - @),
        starting with a letter, a digit or C(_). Anything else is refused, since the name is also
        written into the persistence unit."
    type: str
    required: true
  label:
    description:
      - "IPv4 address label, as C(ip addr ... label) sets it (C(eth0:0), C(lo:0)); it must be the
        interface name or start with the interface name and a colon, followed by letters, digits
        or C(. _ - : @)."
      - The kernel keeps at most 15 characters (IFNAMSIZ), so a longer label is refused before
        anything changes (C(eth-longnames:10) has 16).
      - An address already present with another label is removed and added again with this one.
      - Labels do not exist for IPv6 addresses; giving one with an IPv6 address is refused.
    type: str
  state:
    description:
      - V(present) adds the address, V(absent) removes it (whatever its prefix) and its persistence unit.
      - With V(absent) the tunnel module stays loaded and its device stays up; other addresses may use them.
    type: str
    choices: [present, absent]
    default: present
  gratuitous_arp:
    description:
      - Announce an IPv4 address when it is added so neighbours update their ARP caches at once
        (a director taking over a VIP). Uses iputils C(arping -U) when installed, otherwise
        sends the frames itself through an C(AF_PACKET) socket (no extra package on the host).
      - Default is V(true) on Ethernet interfaces and V(false) elsewhere (C(lo), C(tunl0), C(ip6tnl0)).
      - Setting V(true) for an IPv6 address or a non-ARP interface is refused. IPv6 neighbours
        resolve the address with Neighbour Solicitation; no unsolicited advertisement is sent.
    type: bool
  persistent:
    description:
      - Keep the address across reboots with a collection-owned systemd unit, enabled for
        C(multi-user.target) and, for a NIC, for its device unit too, so the address also comes
        back when the NIC shows up late at boot or reappears. V(false) changes the running
        kernel only and leaves any unit alone.
      - Needs systemd on the host.
    type: bool
    default: true
  force:
    description:
      - Allow a prefix other than C(/32) (C(/128)) on C(lo). A wider prefix on C(lo) makes the
        host answer for the whole network, which is almost never wanted on a real server.
    type: bool
    default: false
notes:
  - Runs C(ip) (iproute2) with argument lists, never through a shell, in the C locale.
  - Pair it with M(lvs.topology.arp_suppress) on DR and TUN real servers so they do not answer ARP for the VIP.
seealso:
  - module: lvs.topology.arp_suppress
  - name: ip-address(8)
    description: The C(ip addr) command this module drives.
    link: https://man7.org/linux/man-pages/man8/ip-address.8.html
"""

EXAMPLES = r"""
- name: Put the VIP on the director's client-facing NIC, as eth0:0
  lvs.topology.vip_address:
    address: 192.0.2.100
    interface: eth0
    label: eth0:0

- name: Put the VIP on loopback of a DR real server
  lvs.topology.vip_address:
    address: 192.0.2.100/32
    interface: lo
    label: lo:0

- name: Put the VIP on tunl0 of a TUN real server (loads ipip, brings tunl0 up)
  lvs.topology.vip_address:
    address: 192.0.2.100
    interface: tunl0

- name: Put an IPv6 VIP on ip6tnl0 of a TUN real server (loads ip6_tunnel, brings ip6tnl0 up)
  lvs.topology.vip_address:
    address: 2001:db8::100
    interface: ip6tnl0

- name: Add an IPv6 VIP for this boot only
  lvs.topology.vip_address:
    address: 2001:db8::100
    interface: lo
    persistent: false

- name: Remove the VIP and its boot-time unit
  lvs.topology.vip_address:
    address: 192.0.2.100
    interface: eth0
    state: absent
"""

RETURN = r"""
address:
  description: The address as IP/prefix, normalised.
  returned: always
  type: str
  sample: 192.0.2.100/32
interface:
  description: The interface.
  returned: always
  type: str
  sample: eth0
addresses:
  description: The addresses of the interface (same family) after the run, one readable line each.
  returned: always
  type: list
  elements: str
  sample: ["inet 192.0.2.1/24 label eth0", "inet 192.0.2.100/32 label eth0:0"]
commands:
  description: The commands run (or, in check mode, that would run), as argument lists.
  returned: always
  type: list
  elements: list
  sample: [["/usr/sbin/ip", "addr", "add", "192.0.2.100/32", "dev", "eth0", "label", "eth0:0"]]
unit:
  description: Path of the systemd unit that restores the address at boot, or null without one.
  returned: always
  type: str
  sample: /etc/systemd/system/lvs-topology-vip-eth0-192.0.2.100.service
gratuitous_arp:
  description: How the address was announced, V(arping) or V(af_packet); null when it was not.
  returned: always
  type: str
  sample: af_packet
lock_waited:
  description:
    - Seconds this run waited for the host lock while another run held it; V(0) when it did not wait.
  returned: always
  type: float
  sample: 12.75
lock_holder:
  description:
    - The run this one waited for, as it wrote itself into the lock file - the last one when several
      held the lock in turn; null when none had written itself yet.
  returned: when the run waited for the host lock, and when it failed waiting
  type: dict
  contains:
    module:
      description: The module that held the lock, as Ansible named it to the module.
      returned: always
      type: str
      sample: lvs.topology.ipvs_table
    pid:
      description: Its process id on the host.
      returned: always
      type: int
      sample: 4242
    user:
      description: Who ran it - the user C(sudo) became root for, else the user it ran as.
      returned: always
      type: str
      sample: jenkins
    since:
      description: When it took the lock, in UTC.
      returned: always
      type: str
      sample: "2024-05-01T12:00:03Z"
    log_info:
      description: Its C(ansible_target_log_info).
      returned: when that was set
      type: str
      sample: site.yml, Jenkins build 118
"""

import os
import socket
import struct

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_text

from ansible_collections.lvs.topology.plugins.module_utils._host import (
    ensure_kernel_module,
    kernel_module_loaded,
    run_checked,
)
from ansible_collections.lvs.topology.plugins.module_utils._iproute import (
    addr_argv,
    describe_address,
    link_up_argv,
    parse_address,
    parse_ip_addr,
)
from ansible_collections.lvs.topology.plugins.module_utils._lock import hold_host_lock, lock_argument_spec
from ansible_collections.lvs.topology.plugins.module_utils._managed_file import (
    read_managed_file,
    remove_managed_file,
    write_managed_file,
)
from ansible_collections.lvs.topology.plugins.module_utils._names import (
    address_label_problem,
    interface_name_problem,
    ip_address_problem,
)

# The fallback device of each tunnel module, which it creates when it loads: the device that
# receives the packets IPVS tunnels, IPv4-in-IPv4 for an IPv4 service, IPv6-in-IPv6 for an IPv6 one.
TUNNEL_MODULES = {"tunl0": "ipip", "ip6tnl0": "ip6_tunnel"}
LOOPBACK_INTERFACE = "lo"
# Module-level so unit tests can point it at a temporary directory.
SYSTEMD_UNIT_DIR = "/etc/systemd/system"
# The "wait until configured" units of ifupdown, systemd-networkd and NetworkManager; ordering
# after a unit that does not exist on a host is a no-op, so one unit file fits every host.
NETWORK_CONFIGURED_UNITS = ("networking.service", "ifupdown-wait-online.service",
                            "systemd-networkd-wait-online.service", "NetworkManager-wait-online.service")
# Two announcements: one may be lost while a switch port or a peer's cache settles.
ANNOUNCEMENTS = 2
ETH_P_ARP = 0x0806
BROADCAST_MAC = b"\xff" * 6


def build_module():
    return AnsibleModule(
        argument_spec=dict(
            address=dict(type="str", required=True),
            interface=dict(type="str", required=True),
            label=dict(type="str"),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            gratuitous_arp=dict(type="bool"),
            persistent=dict(type="bool", default=True),
            force=dict(type="bool", default=False),
            **lock_argument_spec()
        ),
        supports_check_mode=True,
    )


def systemd_escape(text):
    """Escape text for a unit name the way systemd-escape does (\\xNN for anything unusual)."""
    escaped = []
    for index, char in enumerate(text):
        if char.isalnum() and ord(char) < 128 or char in "_:" or (char == "." and index > 0):
            escaped.append(char)
        else:
            escaped.append("\\x%02x" % ord(char))
    return "".join(escaped)


def unit_name(interface, address):
    """lvs-topology-vip-eth0-192.0.2.100.service: one unit per (interface, IP); prefixes never clash."""
    return "lvs-topology-vip-%s-%s.service" % (systemd_escape(interface), systemd_escape(str(address.ip)))


def render_unit(ip_bin, modprobe_bin, address, interface, label):
    """The whole unit file that restores address on interface at boot."""
    def command(argv):
        # % starts a systemd specifier; a literal one is written %%.
        return " ".join(argv).replace("%", "%%")

    description = describe_address(address, label).replace("%", "%%")
    lines = [
        "# Managed by the lvs.topology collection (vip_address module): local edits are lost.",
        "[Unit]",
        "Description=lvs.topology VIP: %s on %s" % (description, interface.replace("%", "%%")),
        # After whatever configures the network has finished (systemd-networkd drops addresses it
        # did not configure when it sets a link up), and before services that wait for the network.
        "Wants=network-online.target",
        "After=network.target %s" % " ".join(NETWORK_CONFIGURED_UNITS),
        "Before=network-online.target",
    ]
    wanted_by = ["multi-user.target"]
    tunnel_module = TUNNEL_MODULES.get(interface)
    if interface != LOOPBACK_INTERFACE and not tunnel_module:
        # udev gives every net device but lo a device unit; a tunnel device appears only once
        # its module loads below.
        device = "sys-subsystem-net-devices-%s.device" % systemd_escape(interface)
        lines.extend(["BindsTo=%s" % device, "After=%s" % device])
        # Wanted by the device too: when udev announces the NIC after boot's 90 s device
        # timeout (seen on a loaded host), the boot-time start fails but the device's
        # arrival starts the unit again, and a NIC that comes back brings its VIP back.
        wanted_by.append(device)
    lines.extend(["", "[Service]", "Type=oneshot", "RemainAfterExit=yes"])
    if tunnel_module:
        lines.append("ExecStartPre=%s" % command([modprobe_bin, tunnel_module]))
        lines.append("ExecStartPre=%s" % command(link_up_argv(ip_bin, interface)))
    # replace, not add: starting the unit again while the address is there must not fail.
    lines.append("ExecStart=%s" % command(addr_argv(ip_bin, "replace", address, interface, label)))
    lines.extend(["", "[Install]", "WantedBy=%s" % " ".join(wanted_by), ""])
    return "\n".join(lines)


def arp_announcement(mac, ip):
    """A broadcast gratuitous ARP request (sender and target IP both the VIP), padded to 60 bytes."""
    mac_bytes = bytes(bytearray(int(part, 16) for part in mac.split(":")))
    ip_bytes = ip.packed
    ethernet = BROADCAST_MAC + mac_bytes + struct.pack("!H", ETH_P_ARP)
    # htype Ethernet, ptype IPv4, hlen 6, plen 4, op 1 (request): the form every stack accepts.
    arp = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + mac_bytes + ip_bytes + b"\x00" * 6 + ip_bytes
    frame = ethernet + arp
    return frame + b"\x00" * (60 - len(frame))


def iputils_arping(module):
    """Path of iputils' arping, or None: Debian's other 'arping' package takes different options."""
    arping = module.get_bin_path("arping")
    if not arping:
        return None
    rc, out, err = module.run_command([arping, "-V"], environ_update={"LANG": "C", "LC_ALL": "C"})
    return arping if "iputils" in (out + err) else None


def announce(module, interface, address):
    """Send the gratuitous ARP; return the method used."""
    arping = iputils_arping(module)
    if arping:
        run_checked(module, [arping, "-U", "-c", str(ANNOUNCEMENTS), "-I", interface.name, str(address.ip)])
        return "arping"
    frame = arp_announcement(interface.mac, address.ip)
    try:
        sender = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ARP))
        try:
            sender.bind((interface.name, ETH_P_ARP))
            for dummy in range(ANNOUNCEMENTS):
                sender.send(frame)
        finally:
            sender.close()
    except (OSError, socket.error) as exc:
        module.fail_json(msg="Cannot send the gratuitous ARP for %s on %s: %s" % (address.ip, interface.name, to_text(exc)))
    return "af_packet"


class VipAddress(object):
    """Compare the wanted address with the interface and the unit, then act."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.interface_name = self.params["interface"]
        self.label = self.params["label"]
        self.present = self.params["state"] == "present"
        self.commands = []
        self.check_arguments()
        self.address = parse_address(self.params["address"])
        self.ip_bin = module.get_bin_path("ip", required=True)
        self.tunnel_module = TUNNEL_MODULES.get(self.interface_name)
        self.unit_path = os.path.join(SYSTEMD_UNIT_DIR, unit_name(self.interface_name, self.address))
        self.interfaces = {}
        self.systemctl = self.modprobe = None

    def fail(self, msg):
        self.module.fail_json(msg=msg, address=self.params["address"], interface=self.interface_name)

    def check_arguments(self):
        """Refuse, before any command runs, what could not be written into ip's arguments and the unit.

        The interface and the label go into the unit file and the address is written as
        ipaddress prints it, which would silently lose an IPv6 zone id.
        """
        problem = (interface_name_problem(self.interface_name)
                   or ip_address_problem(self.params["address"], prefix=True)
                   or (self.label and address_label_problem(self.label, self.interface_name)))
        if problem:
            self.fail(problem)

    def read_interfaces(self):
        out = run_checked(self.module, [self.ip_bin, "-j", "addr", "show"])
        return parse_ip_addr(out)

    def validate(self, interface, existing):
        """Every refusal, before anything is touched."""
        address = self.address
        if self.label and address.version == 6:
            self.fail("Labels exist only for IPv4 addresses: drop label %s for %s." % (self.label, address.ip))
        if not self.present:
            if os.path.exists(self.unit_path):
                self.systemctl = self.module.get_bin_path("systemctl", required=True)
            return
        if self.tunnel_module:
            self.modprobe = self.module.get_bin_path("modprobe", required=True)
        if interface is None and not (self.tunnel_module and not kernel_module_loaded(self.tunnel_module)):
            self.fail("Interface %s does not exist on this host; existing interfaces: %s."
                      % (self.interface_name, ", ".join(sorted(self.interfaces))))
        host_prefix = address.max_prefixlen
        if self.interface_name == LOOPBACK_INTERFACE and address.network.prefixlen != host_prefix and not self.params["force"]:
            self.fail("A VIP on lo must be a host address (/%d), not %s; set force=true if the whole network is really meant."
                      % (host_prefix, address.with_prefixlen))
        clashing = [found for found in existing if found.prefixlen != address.network.prefixlen]
        if clashing:
            self.fail("%s is already on %s as %s; remove it first or ask for that prefix."
                      % (address.ip, self.interface_name, clashing[0].interface.with_prefixlen))
        if self.params["gratuitous_arp"]:
            if address.version == 6:
                self.fail("gratuitous_arp applies to IPv4 only; leave it unset for %s." % address.ip)
            if interface is None or not interface.is_ethernet:
                self.fail("gratuitous_arp needs an Ethernet interface that does ARP, and %s is not one; leave it unset."
                          % self.interface_name)
        if self.params["persistent"]:
            self.systemctl = self.module.get_bin_path("systemctl", required=True)

    def run(self, lock):
        """Read, compare, change and exit; lock is the host lock this run holds."""
        self.interfaces = self.read_interfaces()
        interface = self.interfaces.get(self.interface_name)
        existing = interface.find(self.address.ip) if interface else []
        self.validate(interface, existing)

        before_lines = self.address_lines(interface)
        if self.present:
            announced = self.ensure_present(interface, existing)
        else:
            announced = None
            for found in existing:
                self.execute(addr_argv(self.ip_bin, "del", found.interface, self.interface_name))

        unit_before = read_managed_file(self.unit_path)
        unit_after = self.ensure_unit(unit_before)

        after_interface = self.read_interfaces().get(self.interface_name) if self.commands and not self.module.check_mode else interface
        after_lines = self.predicted_lines(before_lines) if self.module.check_mode else self.address_lines(after_interface)
        changed = bool(self.commands)
        result = dict(
            changed=changed,
            address=self.address.with_prefixlen,
            interface=self.interface_name,
            addresses=after_lines,
            commands=self.commands,
            unit=self.unit_path if unit_after else None,
            gratuitous_arp=announced,
            **lock.returned()
        )
        if self.module._diff:
            result["diff"] = [
                {"before_header": "%s addresses" % self.interface_name, "after_header": "%s addresses" % self.interface_name,
                 "before": "".join(line + "\n" for line in before_lines), "after": "".join(line + "\n" for line in after_lines)},
                {"before_header": self.unit_path, "after_header": self.unit_path,
                 "before": unit_before or "", "after": unit_after or ""},
            ]
        self.module.exit_json(**result)

    def ensure_present(self, interface, existing):
        """Load the tunnel module and raise its device when needed, add (or relabel) the address;
        return how it was announced."""
        if self.tunnel_module and not kernel_module_loaded(self.tunnel_module):
            self.commands.append([self.modprobe, self.tunnel_module])
            ensure_kernel_module(self.module, self.tunnel_module, "Kernel module %s cannot be loaded, so %s cannot exist on this host."
                                 % (self.tunnel_module, self.interface_name))
            if not self.module.check_mode:
                interface = self.read_interfaces().get(self.interface_name)
        if self.tunnel_module and (interface is None or not interface.is_up):
            self.execute(link_up_argv(self.ip_bin, self.interface_name))
        if existing and (not self.label or existing[0].label == self.label or self.address.version == 6):
            return None
        if existing:
            # The kernel keeps an address's label on replace: relabelling means delete and add again.
            self.execute(addr_argv(self.ip_bin, "del", existing[0].interface, self.interface_name))
        self.execute(addr_argv(self.ip_bin, "add", self.address, self.interface_name, self.label))
        wanted = self.params["gratuitous_arp"]
        if wanted is None:
            wanted = self.address.version == 4 and interface is not None and interface.is_ethernet
        if wanted and not self.module.check_mode:
            return announce(self.module, interface, self.address)
        return None

    def ensure_unit(self, unit_before):
        """Write, enable, or disable and delete the unit; return its content afterwards (None: no unit)."""
        unit = os.path.basename(self.unit_path)
        if not self.present:
            if unit_before is not None:
                self.execute([self.systemctl, "disable", unit])
                if not self.module.check_mode:
                    remove_managed_file(self.module, self.unit_path)
                self.execute([self.systemctl, "daemon-reload"])
            return None
        if not self.params["persistent"]:
            return unit_before
        unit_after = render_unit(self.ip_bin, self.modprobe, self.address, self.interface_name, self.label)
        if unit_after != unit_before:
            if not self.module.check_mode:
                write_managed_file(self.module, self.unit_path, unit_after)
            self.execute([self.systemctl, "daemon-reload"])
        if unit_before is not None and unit_after != unit_before:
            # reenable: the [Install] section may have changed, and `enable` leaves the links
            # of an already enabled unit as they were.
            self.execute([self.systemctl, "reenable", unit])
            return unit_after
        enabled = False
        if unit_before is not None:
            rc, out, err = self.module.run_command([self.systemctl, "is-enabled", unit], environ_update={"LC_ALL": "C"})
            enabled = rc == 0 and out.strip() == "enabled"
        if not enabled:
            self.execute([self.systemctl, "enable", unit])
        return unit_after

    def execute(self, argv):
        self.commands.append(argv)
        if not self.module.check_mode:
            run_checked(self.module, argv)

    def address_lines(self, interface):
        """The interface's addresses of the VIP's family, one readable line each."""
        if interface is None:
            return []
        return [found.describe() for found in interface.addresses if found.ip.version == self.address.version]

    def predicted_lines(self, before_lines):
        """Check mode: the lines the run would leave (the VIP's line replaced, added or removed)."""
        ip_prefix = " %s/" % self.address.ip
        lines = [line for line in before_lines if ip_prefix not in line]
        if self.present:
            lines.append(describe_address(self.address, self.label))
        return lines


def main():
    module = build_module()
    vip = VipAddress(module)
    # Taken once the arguments are checked, before the first read of the host, and held until
    # the process exits after exit_json.
    vip.run(hold_host_lock(module))


if __name__ == "__main__":
    main()
