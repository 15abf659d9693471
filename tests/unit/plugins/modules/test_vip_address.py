# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import json
import os

import pytest

from ansible_collections.lvs.topology.plugins.modules import vip_address

from host_module_harness import FakeCommands, ModuleFail, fixture_text, kernel_module_switch, run_module

IP = "/usr/sbin/ip"
SYSTEMCTL = "/usr/bin/systemctl"
IP_SHOW = (IP, "-j", "addr", "show")
# Captured on the lab's `single` VM; see tests/unit/fixtures/host/README.md.
BASE = fixture_text("ip_addr_single.json")
WITH_VIPS = fixture_text("ip_addr_single_vips.json")
LO_UNIT = "lvs-topology-vip-lo-192.0.2.101.service"


@pytest.fixture
def units(tmp_path, monkeypatch):
    monkeypatch.setattr(vip_address, "SYSTEMD_UNIT_DIR", str(tmp_path))
    return tmp_path


@pytest.fixture
def ipip(monkeypatch):
    return kernel_module_switch(monkeypatch, vip_address)


def commands_for(*ip_outputs, **extra):
    """ip -j addr show answers in turn (the first read, the re-read after a change, ...)."""
    answers = [(IP_SHOW, [(0, text, "") for text in ip_outputs])]
    answers.extend(extra.get("answers", []))
    return FakeCommands(answers)


def enabled_answer(state="enabled"):
    return ((SYSTEMCTL, "is-enabled"), [(0 if state == "enabled" else 1, state + "\n", "")])


def test_adds_vip_on_lo_with_its_unit(units, ipip):
    commands = commands_for(BASE, WITH_VIPS)
    result = run_module(vip_address.main, {"address": "192.0.2.101", "interface": "lo", "label": "lo:0"}, commands)
    assert result["changed"]
    assert commands.changing_calls() == [
        [IP, "addr", "add", "192.0.2.101/32", "dev", "lo", "label", "lo:0"],
        [SYSTEMCTL, "daemon-reload"],
        [SYSTEMCTL, "enable", LO_UNIT],
    ]
    unit = (units / LO_UNIT).read_text()
    assert "ExecStart=/usr/sbin/ip addr replace 192.0.2.101/32 dev lo label lo:0\n" in unit
    assert result["gratuitous_arp"] is None
    assert "inet 192.0.2.101/32 label lo:0" not in result["diff"][0]["before"]
    assert "inet 192.0.2.101/32 label lo:0\n" in result["diff"][0]["after"]
    assert result["diff"][1]["before"] == "" and result["diff"][1]["after"] == unit


def test_second_run_changes_nothing(units, ipip):
    run_module(vip_address.main, {"address": "192.0.2.101", "interface": "lo", "label": "lo:0"}, commands_for(BASE, WITH_VIPS))
    commands = commands_for(WITH_VIPS, answers=[enabled_answer()])
    result = run_module(vip_address.main, {"address": "192.0.2.101/32", "interface": "lo", "label": "lo:0"}, commands)
    assert not result["changed"] and commands.changing_calls() == [] and result["commands"] == []


def test_ipv6_spellings_compare_equal(units, ipip):
    commands = commands_for(WITH_VIPS)
    result = run_module(vip_address.main, {"address": "2001:0db8:0000:0002:0000:0000:0000:0101", "interface": "lo",
                                           "persistent": False}, commands)
    assert not result["changed"] and result["address"] == "2001:db8:0:2::101/128"


def test_check_mode_runs_and_writes_nothing(units, ipip):
    commands = commands_for(BASE)
    result = run_module(vip_address.main, {"address": "192.0.2.101", "interface": "lo", "label": "lo:0"}, commands,
                        check_mode=True)
    assert result["changed"]
    assert result["commands"][0] == [IP, "addr", "add", "192.0.2.101/32", "dev", "lo", "label", "lo:0"]
    assert commands.changing_calls() == []
    assert os.listdir(str(units)) == []


def test_unknown_interface_lists_the_existing_ones(units, ipip):
    commands = commands_for(BASE)
    with pytest.raises(ModuleFail) as failure:
        run_module(vip_address.main, {"address": "192.0.2.101", "interface": "eth9"}, commands)
    assert failure.value.result["msg"] == "Interface eth9 does not exist on this host; existing interfaces: eth0, lo, mgmt0."
    assert commands.changing_calls() == []


def test_network_prefix_on_lo_is_allowed_with_force(units, ipip):
    forced = run_module(vip_address.main, {"address": "192.0.2.96/28", "interface": "lo", "force": True},
                        commands_for(BASE), check_mode=True)
    assert forced["changed"]


@pytest.mark.parametrize("args, message", [
    ({"address": "192.0.2.10", "interface": "eth0"},
     "192.0.2.10 is already on eth0 as 192.0.2.10/25; remove it first or ask for that prefix."),
    ({"address": "192.0.2.96/28", "interface": "lo"}, "A VIP on lo must be a host address (/32), not 192.0.2.96/28;"),
    ({"address": "192.0.2.300", "interface": "lo"}, "address '192.0.2.300' is not an IP address or IP/prefix"),
    ({"address": "2001:db8::1", "interface": "lo", "label": "lo:6"}, "Labels exist only for IPv4 addresses"),
    ({"address": "192.0.2.101", "interface": "lo", "gratuitous_arp": True}, "gratuitous_arp needs an Ethernet interface"),
    ({"address": "2001:db8:0:2::100", "interface": "eth0", "gratuitous_arp": True}, "gratuitous_arp applies to IPv4 only"),
])
def test_bad_input_is_one_sentence_and_touches_nothing(units, ipip, args, message):
    commands = commands_for(BASE)
    with pytest.raises(ModuleFail) as failure:
        run_module(vip_address.main, args, commands)
    assert message in failure.value.result["msg"]
    assert commands.changing_calls() == [] and os.listdir(str(units)) == []


LABEL_RULE = "the interface name, alone or followed by : and more letters, digits or . _ - : @."
INTERFACE_RULE = "letters, digits and . _ - @, starting with a letter, a digit or _."


@pytest.mark.parametrize("args, message", [
    # What reaches ip's arguments and the unit file: refused before ip is even asked for the addresses.
    ({"interface": "lo", "label": "lo:0\n"}, "label 'lo:0\\n' is not an address label: " + LABEL_RULE),
    ({"interface": "lo", "label": "lo:a b"}, "label 'lo:a b' is not an address label: " + LABEL_RULE),
    ({"interface": "eth0", "label": "eth0:%i"}, "label 'eth0:%i' is not an address label: " + LABEL_RULE),
    ({"interface": "lo", "label": "lo:0\nExecStartPost=/bin/sh"},
     "label 'lo:0\\nExecStartPost=/bin/sh' is not an address label: " + LABEL_RULE),
    ({"interface": "lo", "label": "eth0:0"}, "label 'eth0:0' must be lo or start with lo: (as in lo:0)."),
    # Ten VIPs on a 13-character NIC: the eleventh label has 16 characters.
    ({"interface": "eth-longnames", "label": "eth-longnames:10"},
     "label 'eth-longnames:10' has 16 characters; the kernel keeps at most 15 in an address label (IFNAMSIZ)."),
    ({"interface": "lo\n", "label": "lo\n"}, "interface 'lo\\n' is not an interface name: " + INTERFACE_RULE),
    ({"interface": "eth0\nExecStartPost=/bin/sh"}, "interface 'eth0\\nExecStartPost=/bin/sh' is not an interface name: " + INTERFACE_RULE),
    ({"interface": "../../x"}, "interface '../../x' is not an interface name: " + INTERFACE_RULE),
    ({"interface": "eth0:0"}, "interface 'eth0:0' is not an interface name: " + INTERFACE_RULE),
    ({"interface": "a-very-long-nic0"},
     "interface 'a-very-long-nic0' has 16 characters; the kernel keeps at most 15 in an interface name (IFNAMSIZ)."),
    ({"address": "fe80::1%eth0", "interface": "eth0"},
     "address 'fe80::1%eth0' has an IPv6 zone id (after the %), which lvs.topology refuses: give the address without it."),
    ({"address": "fe80::1%eth0/64", "interface": "eth0"},
     "address 'fe80::1%eth0/64' has an IPv6 zone id (after the %), which lvs.topology refuses: give the address without it."),
    ({"address": "192.0.2.101\n", "interface": "lo"},
     "address '192.0.2.101\\n' is not an IP address or IP/prefix (for example 192.0.2.100 or 2001:db8::100/128)."),
    ({"address": "192.0.2.101%lo", "interface": "lo"},
     "address '192.0.2.101%lo' is not an IP address or IP/prefix (for example 192.0.2.100 or 2001:db8::100/128)."),
])
@pytest.mark.parametrize("state", ["present", "absent"])
def test_names_and_address_are_refused_before_any_command(units, ipip, args, message, state):
    commands = commands_for(BASE)
    with pytest.raises(ModuleFail) as failure:
        run_module(vip_address.main, dict({"address": "192.0.2.101", "state": state}, **args), commands)
    assert failure.value.result["msg"] == message
    assert commands.calls == [] and os.listdir(str(units)) == []


def test_a_label_of_15_characters_is_taken(units, ipip):
    commands = commands_for(BASE)
    with pytest.raises(ModuleFail) as failure:
        run_module(vip_address.main, {"address": "192.0.2.101", "interface": "eth-longname", "label": "eth-longname:10"}, commands)
    # Past the name checks: the interface is looked up on the host.
    assert failure.value.result["msg"] == "Interface eth-longname does not exist on this host; existing interfaces: eth0, lo, mgmt0."


def test_relabel_deletes_and_adds(units, ipip):
    commands = commands_for(WITH_VIPS, WITH_VIPS)
    result = run_module(vip_address.main, {"address": "192.0.2.101", "interface": "lo", "label": "lo:vip", "persistent": False},
                        commands)
    assert result["commands"] == [[IP, "addr", "del", "192.0.2.101/32", "dev", "lo"],
                                  [IP, "addr", "add", "192.0.2.101/32", "dev", "lo", "label", "lo:vip"]]


def test_absent_deletes_address_and_unit(units, ipip):
    (units / LO_UNIT).write_text("old unit\n")
    commands = commands_for(WITH_VIPS, BASE)
    result = run_module(vip_address.main, {"address": "192.0.2.101", "interface": "lo", "state": "absent"}, commands)
    assert result["changed"] and result["unit"] is None
    assert commands.changing_calls() == [[IP, "addr", "del", "192.0.2.101/32", "dev", "lo"],
                                         [SYSTEMCTL, "disable", LO_UNIT], [SYSTEMCTL, "daemon-reload"]]
    assert not (units / LO_UNIT).exists()
    again = run_module(vip_address.main, {"address": "192.0.2.101", "interface": "lo", "state": "absent"}, commands_for(BASE))
    assert not again["changed"]


def test_director_vip_is_announced_with_af_packet_without_iputils_arping(units, ipip, monkeypatch):
    sent = []

    class FakeSocket(object):
        def __init__(self, family, kind, protocol):
            sent.append(("open", family, kind, protocol))

        def bind(self, address):
            sent.append(("bind", address))

        def send(self, frame):
            sent.append(("send", frame))

        def close(self):
            pass
    monkeypatch.setattr(vip_address.socket, "socket", FakeSocket)
    commands = commands_for(BASE, WITH_VIPS)
    result = run_module(vip_address.main, {"address": "192.0.2.100", "interface": "eth0", "label": "eth0:0"}, commands)
    assert result["gratuitous_arp"] == "af_packet"
    frames = [entry[1] for entry in sent if entry[0] == "send"]
    assert len(frames) == 2 and ("bind", ("eth0", 0x0806)) in sent
    mac = bytes(bytearray.fromhex(eth0_mac().replace(":", "")))
    vip = ipaddress.ip_address(u"192.0.2.100").packed
    assert frames[0] == (b"\xff" * 6 + mac + b"\x08\x06" + b"\x00\x01\x08\x00\x06\x04\x00\x01"
                         + mac + vip + b"\x00" * 6 + vip + b"\x00" * 18)


def test_director_vip_is_announced_with_iputils_arping(units, ipip):
    commands = commands_for(BASE, WITH_VIPS, answers=[(("/usr/bin/arping", "-V"), [(0, "arping from iputils 20221126\n", "")])])
    result = run_module(vip_address.main, {"address": "192.0.2.100", "interface": "eth0"}, commands,
                        binaries=("ip", "systemctl", "arping"))
    assert result["gratuitous_arp"] == "arping"
    assert ["/usr/bin/arping", "-U", "-c", "2", "-I", "eth0", "192.0.2.100"] in commands.calls


def test_other_arping_is_not_used():
    commands = commands_for(BASE, WITH_VIPS, answers=[(("/usr/bin/arping", "-V"), [(1, "", "ARPing 2.23, by Thomas Habets\n")])])
    assert vip_address.iputils_arping(FakeModule(commands)) is None


class FakeModule(object):
    """Enough of AnsibleModule for iputils_arping."""

    def __init__(self, commands):
        self.commands = commands

    def get_bin_path(self, name, required=False):
        return "/usr/bin/arping"

    def run_command(self, argv, **kwargs):
        return self.commands(self, argv)


def with_ip6tnl0(text, flags, addresses=()):
    """text with the ip6tnl0 entry iproute2 6.1 prints once ip6_tunnel is loaded: an IPv6-in-IPv6
    tunnel (link_type tunnel6, no ARP) with the given flags and IPv6 addresses."""
    links = json.loads(text)
    links.append({"ifindex": 99, "link_index": 0, "ifname": "ip6tnl0", "flags": flags, "mtu": 1452, "qdisc": "noop",
                  "operstate": "DOWN" if "UP" not in flags else "UNKNOWN", "group": "default", "txqlen": 1000,
                  "link_type": "tunnel6", "address": "::", "broadcast": "::",
                  "addr_info": [{"family": "inet6", "local": address, "prefixlen": 128, "scope": "global",
                                 "valid_life_time": 4294967295, "preferred_life_time": 4294967295} for address in addresses]})
    return json.dumps(links)


# (interface, its module, a VIP of its family, ip -j addr after the module loaded, after the VIP was added)
TUNNELS = [
    ("tunl0", "ipip", "192.0.2.102/32", fixture_text("ip_addr_single_tunl0_down.json"), WITH_VIPS),
    ("ip6tnl0", "ip6_tunnel", "2001:db8:0:2::102/128", with_ip6tnl0(BASE, ["NOARP"]),
     with_ip6tnl0(BASE, ["NOARP", "UP", "LOWER_UP"], ["2001:db8:0:2::102"])),
]


@pytest.mark.parametrize("interface, kernel_module, vip, loaded, added", TUNNELS)
def test_a_tunnel_device_is_made_by_loading_its_module_and_brought_up(units, ipip, interface, kernel_module, vip, loaded, added):
    ipip(False)
    commands = commands_for(BASE, loaded, added)
    result = run_module(vip_address.main, {"address": vip.split("/")[0], "interface": interface}, commands)
    assert result["commands"][:3] == [["/usr/sbin/modprobe", kernel_module], [IP, "link", "set", interface, "up"],
                                      [IP, "addr", "add", vip, "dev", interface]]
    assert [line for line in result["addresses"] if " %s" % vip in line], result["addresses"]
    unit = (units / vip_address.unit_name(interface, ipaddress.ip_interface(vip))).read_text()
    assert "ExecStartPre=/usr/sbin/modprobe %s\nExecStartPre=/usr/sbin/ip link set %s up\n" % (kernel_module, interface) in unit
    assert "BindsTo=" not in unit


@pytest.mark.parametrize("interface, kernel_module, vip, loaded, added", TUNNELS)
def test_a_tunnel_device_in_check_mode_loads_nothing(units, ipip, interface, kernel_module, vip, loaded, added):
    ipip(False)
    commands = commands_for(BASE)
    result = run_module(vip_address.main, {"address": vip.split("/")[0], "interface": interface}, commands, check_mode=True)
    assert result["changed"] and result["commands"][0] == ["/usr/sbin/modprobe", kernel_module]
    assert commands.changing_calls() == []


@pytest.mark.parametrize("interface, kernel_module, vip, loaded, added", TUNNELS)
def test_a_tunnel_device_that_is_up_with_its_vip_changes_nothing(units, ipip, interface, kernel_module, vip, loaded, added):
    run_module(vip_address.main, {"address": vip.split("/")[0], "interface": interface}, commands_for(added))
    commands = commands_for(added, answers=[enabled_answer()])
    result = run_module(vip_address.main, {"address": vip, "interface": interface}, commands)
    assert not result["changed"] and commands.changing_calls() == []


def eth0_mac():
    from ansible_collections.lvs.topology.plugins.module_utils._iproute import parse_ip_addr
    return parse_ip_addr(BASE)["eth0"].mac


def test_unit_for_a_nic_waits_for_the_device():
    unit = vip_address.render_unit(IP, None, ipaddress.ip_interface(u"192.0.2.100/32"), "eth0", "eth0:0")
    assert unit == (
        "# Managed by the lvs.topology collection (vip_address module): local edits are lost.\n"
        "[Unit]\n"
        "Description=lvs.topology VIP: inet 192.0.2.100/32 label eth0:0 on eth0\n"
        "Wants=network-online.target\n"
        "After=network.target networking.service ifupdown-wait-online.service systemd-networkd-wait-online.service"
        " NetworkManager-wait-online.service\n"
        "Before=network-online.target\n"
        "BindsTo=sys-subsystem-net-devices-eth0.device\n"
        "After=sys-subsystem-net-devices-eth0.device\n"
        "\n"
        "[Service]\n"
        "Type=oneshot\n"
        "RemainAfterExit=yes\n"
        "ExecStart=/usr/sbin/ip addr replace 192.0.2.100/32 dev eth0 label eth0:0\n"
        "\n"
        "[Install]\n"
        "WantedBy=multi-user.target sys-subsystem-net-devices-eth0.device\n")


@pytest.mark.parametrize("interface, address, name", [
    ("eth0", "192.0.2.100", "lvs-topology-vip-eth0-192.0.2.100.service"),
    ("lo", "2001:db8::100", "lvs-topology-vip-lo-2001:db8::100.service"),
    ("br-lan", "192.0.2.100", "lvs-topology-vip-br\\x2dlan-192.0.2.100.service"),
    ("eth0.100", "192.0.2.100", "lvs-topology-vip-eth0.100-192.0.2.100.service"),
])
def test_unit_names(interface, address, name):
    assert vip_address.unit_name(interface, ipaddress.ip_interface(address)) == name


def test_a_changed_unit_is_reenabled_so_its_install_links_follow(units, ipip):
    params = {"address": "192.0.2.100", "interface": "eth0", "label": "eth0:0", "gratuitous_arp": False}
    run_module(vip_address.main, params, commands_for(BASE, WITH_VIPS))
    unit_file = units / "lvs-topology-vip-eth0-192.0.2.100.service"
    # A unit written by an earlier version, wanted by multi-user.target only.
    unit_file.write_text(unit_file.read_text().replace(" sys-subsystem-net-devices-eth0.device\n", "\n"))
    commands = commands_for(WITH_VIPS, answers=[enabled_answer()])
    result = run_module(vip_address.main, params, commands)
    assert result["changed"]
    assert commands.changing_calls() == [
        [SYSTEMCTL, "daemon-reload"],
        [SYSTEMCTL, "reenable", "lvs-topology-vip-eth0-192.0.2.100.service"],
    ]
    assert "WantedBy=multi-user.target sys-subsystem-net-devices-eth0.device\n" in unit_file.read_text()
