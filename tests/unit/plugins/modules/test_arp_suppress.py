# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.lvs.topology.plugins.modules import arp_suppress

from host_module_harness import FakeProcSys, ModuleFail, captured_proc_values, run_module

SEED_KEYS = ["net.ipv4.conf.all.arp_ignore", "net.ipv4.conf.lo.arp_ignore",
             "net.ipv4.conf.all.arp_announce", "net.ipv4.conf.lo.arp_announce"]


def captured_values():
    return captured_proc_values("proc_sys_net_ipv4_conf.txt")


@pytest.fixture
def proc(tmp_path, monkeypatch):
    return FakeProcSys(tmp_path, monkeypatch, captured_values())


def test_present_sets_all_and_interface_like_the_seeds(proc):
    result = run_module(arp_suppress.main, {})
    assert result["changed"]
    assert sorted(result["runtime_changed"]) == sorted(SEED_KEYS)
    assert [proc.get(key) for key in SEED_KEYS] == ["1", "1", "2", "2"]
    assert proc.conf("arp") == (
        "# Managed by the lvs.topology collection (arp_suppress module).\n"
        "# Rewritten whole whenever its settings change: local edits are lost.\n"
        "net.ipv4.conf.all.arp_announce = 2\n"
        "net.ipv4.conf.all.arp_ignore = 1\n"
        "net.ipv4.conf.lo.arp_announce = 2\n"
        "net.ipv4.conf.lo.arp_ignore = 1\n")
    assert "net.ipv4.conf.lo.arp_ignore = 0\n" in result["diff"][0]["before"]
    assert "net.ipv4.conf.lo.arp_ignore = 1\n" in result["diff"][0]["after"]


def test_rerun_changes_nothing(proc):
    run_module(arp_suppress.main, {})
    again = run_module(arp_suppress.main, {})
    assert not again["changed"] and again["runtime_changed"] == [] and not again["conf_changed"]


def test_check_mode_reports_without_touching(proc):
    result = run_module(arp_suppress.main, {}, check_mode=True)
    assert result["changed"] and result["conf_changed"]
    assert proc.get("net.ipv4.conf.lo.arp_ignore") == "0"
    assert proc.conf("arp") is None


def test_rp_filter_is_only_managed_when_given(proc):
    run_module(arp_suppress.main, {"interface": "eth0", "rp_filter": 0})
    assert proc.get("net.ipv4.conf.eth0.rp_filter") == "0"
    assert "net.ipv4.conf.eth0.rp_filter = 0" in proc.conf("arp")
    run_module(arp_suppress.main, {"interface": "lo"})
    assert "net.ipv4.conf.lo.rp_filter" not in proc.conf("arp")


def test_persistent_false_leaves_the_file_alone(proc):
    result = run_module(arp_suppress.main, {"persistent": False})
    assert result["changed"] and not result["conf_changed"]
    assert proc.conf("arp") is None


def test_absent_restores_kernel_and_interface_defaults_and_removes_the_file(proc):
    defaults = captured_values()
    run_module(arp_suppress.main, {"interface": "eth0", "rp_filter": 2})
    assert proc.get("net.ipv4.conf.eth0.rp_filter") == "2"
    result = run_module(arp_suppress.main, {"interface": "eth0", "state": "absent"})
    assert result["changed"]
    for parameter in ("arp_ignore", "arp_announce"):
        assert proc.get("net.ipv4.conf.all.%s" % parameter) == "0"
    # The interface gets what the kernel gives a new interface: net.ipv4.conf.default.*.
    assert proc.get("net.ipv4.conf.eth0.rp_filter") == defaults["net.ipv4.conf.default.rp_filter"]
    assert proc.conf("arp") is None
    assert not run_module(arp_suppress.main, {"interface": "eth0", "state": "absent"})["changed"]


def test_absent_keeps_all_while_another_interface_is_suppressed(proc):
    run_module(arp_suppress.main, {"interface": "lo"})
    run_module(arp_suppress.main, {"interface": "eth0"})
    run_module(arp_suppress.main, {"interface": "eth0", "state": "absent"})
    assert proc.get("net.ipv4.conf.all.arp_ignore") == "1"
    assert "net.ipv4.conf.all.arp_ignore = 1" in proc.conf("arp")
    assert "eth0" not in proc.conf("arp")


def test_unknown_interface_is_refused_with_the_existing_ones(proc):
    with pytest.raises(ModuleFail) as failure:
        run_module(arp_suppress.main, {"interface": "tunl0"})
    message = failure.value.result["msg"]
    assert message.startswith("Interface tunl0 does not exist on this host (tunl0 appears once")
    assert message.endswith("existing interfaces: eth0, lo, mgmt0.")
    assert proc.get("net.ipv4.conf.all.arp_ignore") == "0"
    assert proc.conf("arp") is None


def test_check_mode_reports_the_settings_for_a_tunl0_still_to_come(proc):
    """A first deploy's check run: vip_address has only reported that it would create tunl0."""
    result = run_module(arp_suppress.main, {"interface": "tunl0", "rp_filter": 0}, check_mode=True)
    assert result["changed"]
    assert "net.ipv4.conf.tunl0.arp_ignore" in result["runtime_changed"]
    assert proc.get("net.ipv4.conf.all.arp_ignore") == "0"
    assert proc.conf("arp") is None
    # Any other missing interface is still refused in check mode.
    with pytest.raises(ModuleFail):
        run_module(arp_suppress.main, {"interface": "eth9"}, check_mode=True)


def test_reserved_arp_ignore_value_is_refused(proc):
    with pytest.raises(ModuleFail) as failure:
        run_module(arp_suppress.main, {"arp_ignore": 5})
    assert "arp_ignore" in failure.value.result["msg"]


@pytest.mark.parametrize("interface, message", [
    # The name becomes part of a path under /proc/sys and of lines of the sysctl.d file.
    ("lo\nnet.ipv4.ip_forward", "interface 'lo\\nnet.ipv4.ip_forward' is not an interface name: "
                                "letters, digits and . _ - @, starting with a letter, a digit or _."),
    ("../../vs", "interface '../../vs' is not an interface name: letters, digits and . _ - @, starting with a letter, a digit or _."),
    ("lo/x", "interface 'lo/x' is not an interface name: letters, digits and . _ - @, starting with a letter, a digit or _."),
    ("a-very-long-nic0", "interface 'a-very-long-nic0' has 16 characters; the kernel keeps at most 15 in an interface name (IFNAMSIZ)."),
])
@pytest.mark.parametrize("state", ["present", "absent"])
def test_interface_that_is_no_name_is_refused_before_anything(proc, interface, message, state):
    before = dict((key, proc.get(key)) for key in SEED_KEYS)
    with pytest.raises(ModuleFail) as failure:
        run_module(arp_suppress.main, {"interface": interface, "state": state})
    assert failure.value.result["msg"] == message
    assert dict((key, proc.get(key)) for key in SEED_KEYS) == before and proc.conf("arp") is None
