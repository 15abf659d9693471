# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.lvs.topology.plugins.modules import lvs_sysctl

from host_module_harness import FakeCommands, FakeProcSys, ModuleFail, captured_proc_values, kernel_module_switch, run_module

DIRECTOR_SETTINGS = {"net.ipv4.vs.expire_nodest_conn": 1, "net.ipv4.vs.expire_quiescent_template": 1,
                     "net.ipv4.vs.conntrack": 1}


@pytest.fixture
def proc(tmp_path, monkeypatch):
    values = captured_proc_values("proc_sys_net_ipv4_conf.txt")
    values.update(captured_proc_values("proc_sys_net_ipv4_vs.txt"))
    values["net.ipv4.ip_forward"] = "0"
    monkeypatch.setattr(lvs_sysctl, "MODULES_LOAD_D", str(tmp_path / "modules-load.d"))
    return FakeProcSys(tmp_path, monkeypatch, values)


@pytest.fixture
def ip_vs_loaded(monkeypatch):
    return kernel_module_switch(monkeypatch, lvs_sysctl)


def modules_load_text(tmp_path):
    path = tmp_path / "modules-load.d" / "90-lvs-topology-director.conf"
    return path.read_text() if path.exists() else None


def test_ip_forward_changes_once(proc, ip_vs_loaded):
    first = run_module(lvs_sysctl.main, {"settings": {"net.ipv4.ip_forward": 1}})
    assert first["changed"] and proc.get("net.ipv4.ip_forward") == "1"
    assert "net.ipv4.ip_forward = 1" in proc.conf("director")
    assert first["modules_load_file"].endswith("90-lvs-topology-director.conf")
    again = run_module(lvs_sysctl.main, {"settings": {"net.ipv4.ip_forward": True}})
    assert not again["changed"]


def test_ipvs_keys_also_list_ip_vs_for_boot(proc, ip_vs_loaded, tmp_path):
    result = run_module(lvs_sysctl.main, {"settings": DIRECTOR_SETTINGS})
    assert result["changed"]
    assert sorted(result["runtime_changed"]) == ["net.ipv4.vs.conntrack", "net.ipv4.vs.expire_nodest_conn",
                                                 "net.ipv4.vs.expire_quiescent_template"]
    assert modules_load_text(tmp_path).endswith("\nip_vs\n")
    removed = run_module(lvs_sysctl.main, {"settings": {"net.ipv4.vs.expire_nodest_conn": 0,
                                                        "net.ipv4.vs.expire_quiescent_template": 0,
                                                        "net.ipv4.vs.conntrack": None}, "state": "absent"})
    assert removed["changed"] and proc.conf("director") is None and modules_load_text(tmp_path) is None
    # null: the runtime value stays as it was.
    assert proc.get("net.ipv4.vs.conntrack") == "1" and proc.get("net.ipv4.vs.expire_nodest_conn") == "0"


def test_ip_vs_is_loaded_first_and_check_mode_loads_nothing(proc, ip_vs_loaded, tmp_path):
    ip_vs_loaded(False)
    commands = FakeCommands()
    checked = run_module(lvs_sysctl.main, {"settings": DIRECTOR_SETTINGS}, commands=commands, check_mode=True)
    assert checked["changed"] and commands.calls == [] and proc.conf("director") is None
    run_module(lvs_sysctl.main, {"settings": DIRECTOR_SETTINGS}, commands=commands)
    assert commands.calls == [["/usr/sbin/modprobe", "ip_vs"]]


def test_unknown_key_refused_before_anything(proc, ip_vs_loaded):
    with pytest.raises(ModuleFail) as failure:
        run_module(lvs_sysctl.main, {"settings": {"net.ipv4.ip_forward": 1, "kernel.panic": 10}})
    assert failure.value.result["msg"].startswith("lvs_sysctl does not manage kernel.panic: accepted keys are")
    assert proc.get("net.ipv4.ip_forward") == "0"


def test_key_missing_in_the_kernel_refused(proc, ip_vs_loaded):
    with pytest.raises(ModuleFail) as failure:
        run_module(lvs_sysctl.main, {"settings": {"net.ipv4.ip_forward": 1, "net.ipv4.vs.no_such_thing": 1}})
    assert "no sysctl net.ipv4.vs.no_such_thing" in failure.value.result["msg"]
    assert proc.get("net.ipv4.ip_forward") == "0" and proc.conf("director") is None


def test_present_needs_values(proc, ip_vs_loaded):
    with pytest.raises(ModuleFail) as failure:
        run_module(lvs_sysctl.main, {"settings": {"net.ipv4.ip_forward": None}})
    assert failure.value.result["msg"] == "net.ipv4.ip_forward has no value; with state=present every key needs one."


def test_multi_value_setting_compares_with_the_kernels_tab(proc, ip_vs_loaded):
    # The kernel prints sync_threshold as "3<TAB>50" (see the capture).
    assert not run_module(lvs_sysctl.main, {"settings": {"net.ipv4.vs.sync_threshold": "3 50"}, "persistent": False})["changed"]


def test_persistent_false_is_runtime_only(proc, ip_vs_loaded, tmp_path):
    result = run_module(lvs_sysctl.main, {"settings": {"net.ipv4.vs.conntrack": 1}, "persistent": False})
    assert result["changed"] and result["modules_load_file"] is None
    assert proc.get("net.ipv4.vs.conntrack") == "1"
    assert proc.conf("director") is None and not os.path.exists(str(tmp_path / "modules-load.d"))


KEY_RULE = ("does not name one file under /proc/sys: each part between dots must be letters, digits and _ - @ "
            "(a / for a dot inside an interface name), starting with a letter, a digit or _.")


@pytest.mark.parametrize("key, message", [
    # '//' is the name '..' in sysctl's convention: this would be net.ipv4.tcp_syncookies.
    ("net.ipv4.conf.//.tcp_syncookies", "sysctl key 'net.ipv4.conf.//.tcp_syncookies' " + KEY_RULE),
    ("net.ipv4.conf./.tcp_syncookies", "sysctl key 'net.ipv4.conf./.tcp_syncookies' " + KEY_RULE),
    ("net.ipv4.conf..tcp_syncookies", "sysctl key 'net.ipv4.conf..tcp_syncookies' " + KEY_RULE),
    ("net.ipv4.ip_forward\n", "sysctl key 'net.ipv4.ip_forward\\n' " + KEY_RULE),
    ("net.ipv4.conf.lo\nkernel.core_pattern.rp_filter", "sysctl key 'net.ipv4.conf.lo\\nkernel.core_pattern.rp_filter' " + KEY_RULE),
    ("net.ipv4.conf.eth0:0.rp_filter", "sysctl key 'net.ipv4.conf.eth0:0.rp_filter' " + KEY_RULE),
    ("net.ipv4.conf.a-very-long-nic0.rp_filter",
     "interface in net.ipv4.conf.a-very-long-nic0.rp_filter 'a-very-long-nic0' has 16 characters; "
     "the kernel keeps at most 15 in an interface name (IFNAMSIZ)."),
])
def test_key_that_names_no_single_file_is_refused_before_anything(proc, ip_vs_loaded, key, message):
    proc.set("net.ipv4.tcp_syncookies", "1")
    with pytest.raises(ModuleFail) as failure:
        run_module(lvs_sysctl.main, {"settings": {"net.ipv4.ip_forward": 1, key: 0}})
    assert failure.value.result["msg"] == message
    assert proc.get("net.ipv4.tcp_syncookies") == "1" and proc.get("net.ipv4.ip_forward") == "0"
    assert proc.conf("director") is None


def test_vlan_interface_key_uses_a_slash_for_its_dot(proc, ip_vs_loaded):
    proc.set("net.ipv4.conf.eth0/100.rp_filter", "1")
    result = run_module(lvs_sysctl.main, {"settings": {"net.ipv4.conf.eth0/100.rp_filter": 2}})
    assert result["runtime_changed"] == ["net.ipv4.conf.eth0/100.rp_filter"]
    assert proc.get("net.ipv4.conf.eth0/100.rp_filter") == "2"
    assert "net.ipv4.conf.eth0/100.rp_filter = 2\n" in proc.conf("director")
