# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.lvs.topology.plugins.module_utils import _sysctl


class CheckModeModule(object):
    """What apply_sysctl_plan uses from AnsibleModule, on a host without SELinux."""

    def __init__(self, check_mode=False):
        self.check_mode = check_mode

    def fail_json(self, **result):
        raise AssertionError(result["msg"])

    def selinux_enabled(self):
        return False


@pytest.fixture
def proc(tmp_path, monkeypatch):
    monkeypatch.setattr(_sysctl, "PROC_SYS", str(tmp_path / "proc"))
    monkeypatch.setattr(_sysctl, "SYSCTL_D", str(tmp_path / "sysctl.d"))
    os.makedirs(str(tmp_path / "sysctl.d"))
    for key, value in (("net.ipv4.ip_forward", "0"), ("net.ipv4.conf.all.arp_ignore", "0"),
                       ("net.ipv4.conf.eth0/100.arp_ignore", "0"), ("net.ipv4.ip_local_port_range", "32768\t60999")):
        path = _sysctl.key_path(key)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as handle:
            handle.write(value + "\n")
    return tmp_path


@pytest.mark.parametrize("key, relative", [
    ("net.ipv4.ip_forward", "net/ipv4/ip_forward"),
    ("net.ipv4.conf.lo.arp_ignore", "net/ipv4/conf/lo/arp_ignore"),
    ("net.ipv4.conf.eth0/100.rp_filter", "net/ipv4/conf/eth0.100/rp_filter"),
])
def test_key_path_follows_sysctl_slash_convention(key, relative):
    assert _sysctl.key_path(key) == os.path.join(_sysctl.PROC_SYS, relative)


def test_interface_key_writes_vlan_dot_as_slash():
    assert _sysctl.interface_key("eth0.100", "arp_ignore") == "net.ipv4.conf.eth0/100.arp_ignore"
    assert _sysctl.interface_key("lo", "forwarding", family="ipv6") == "net.ipv6.conf.lo.forwarding"


@pytest.mark.parametrize("value, text", [(True, "1"), (False, "0"), (2, "2"), ("1", "1"),
                                         (" 32768\t60999\n", "32768 60999")])
def test_normalise_value(value, text):
    assert _sysctl.normalise_value(value) == text


def test_read_runtime_value_normalises_tabs_and_reports_missing(proc):
    assert _sysctl.read_runtime_value("net.ipv4.ip_local_port_range") == "32768 60999"
    assert _sysctl.read_runtime_value("net.ipv4.vs.conntrack") is None


def test_parse_sysctl_conf_skips_comments_and_ignore_prefix():
    text = "# comment\n; other\n\nnet.ipv4.ip_forward=1\n-net.ipv4.conf.all.rp_filter = 0\nnot a setting\n"
    assert _sysctl.parse_sysctl_conf(text) == {"net.ipv4.ip_forward": "1", "net.ipv4.conf.all.rp_filter": "0"}


def test_render_is_sorted_and_round_trips():
    text = _sysctl.render_sysctl_conf("lvs_sysctl", {"net.ipv4.vs.conntrack": "0", "net.ipv4.ip_forward": "1"})
    assert text == ("# Managed by the lvs.topology collection (lvs_sysctl module).\n"
                    "# Rewritten whole whenever its settings change: local edits are lost.\n"
                    "net.ipv4.ip_forward = 1\n"
                    "net.ipv4.vs.conntrack = 0\n")
    assert _sysctl.parse_sysctl_conf(text) == {"net.ipv4.ip_forward": "1", "net.ipv4.vs.conntrack": "0"}


def test_apply_writes_runtime_and_file_then_is_idempotent(proc):
    conf = _sysctl.conf_path("director")
    plan = _sysctl.SysctlPlan("lvs_sysctl", conf, runtime={"net.ipv4.ip_forward": 1}, conf_set={"net.ipv4.ip_forward": 1})
    first = _sysctl.apply_sysctl_plan(CheckModeModule(), plan)
    assert first["changed"] and first["runtime_changed"] == ["net.ipv4.ip_forward"] and first["conf_changed"]
    assert _sysctl.read_runtime_value("net.ipv4.ip_forward") == "1"
    assert first["diff"][0]["before"] == "net.ipv4.ip_forward = 0\n"
    assert first["diff"][0]["after"] == "net.ipv4.ip_forward = 1\n"
    assert first["diff"][1]["before"] == ""
    assert "net.ipv4.ip_forward = 1\n" in first["diff"][1]["after"]
    second = _sysctl.apply_sysctl_plan(CheckModeModule(), plan)
    assert not second["changed"] and second["runtime_changed"] == [] and not second["conf_changed"]


def test_apply_in_check_mode_touches_nothing(proc):
    conf = _sysctl.conf_path("director")
    plan = _sysctl.SysctlPlan("lvs_sysctl", conf, runtime={"net.ipv4.ip_forward": 1}, conf_set={"net.ipv4.ip_forward": 1})
    result = _sysctl.apply_sysctl_plan(CheckModeModule(check_mode=True), plan)
    assert result["changed"] and result["runtime"] == {"net.ipv4.ip_forward": "1"}
    assert _sysctl.read_runtime_value("net.ipv4.ip_forward") == "0"
    assert not os.path.exists(conf)


def test_apply_merges_other_keys_and_deletes_the_file_with_its_last_key(proc):
    conf = _sysctl.conf_path("arp")
    with open(conf, "w") as handle:
        handle.write("net.ipv4.conf.all.arp_ignore = 1\nnet.ipv4.conf.lo.arp_ignore = 1\n")
    keep_all = _sysctl.SysctlPlan("arp_suppress", conf, conf_remove=["net.ipv4.conf.lo.arp_ignore"])
    result = _sysctl.apply_sysctl_plan(CheckModeModule(), keep_all)
    assert result["conf_settings"] == {"net.ipv4.conf.all.arp_ignore": "1"}
    with open(conf) as handle:
        assert handle.read().endswith("\nnet.ipv4.conf.all.arp_ignore = 1\n")
    remove_all = _sysctl.SysctlPlan("arp_suppress", conf, conf_remove=["net.ipv4.conf.all.arp_ignore"])
    assert _sysctl.apply_sysctl_plan(CheckModeModule(), remove_all)["conf_changed"]
    assert not os.path.exists(conf)


def test_apply_refuses_unknown_keys_before_writing_anything(proc):
    plan = _sysctl.SysctlPlan("lvs_sysctl", _sysctl.conf_path("director"),
                              runtime={"net.ipv4.ip_forward": 1, "net.ipv4.vs.conntrack": 0})
    with pytest.raises(AssertionError, match="has no sysctl net.ipv4.vs.conntrack"):
        _sysctl.apply_sysctl_plan(CheckModeModule(), plan)
    assert _sysctl.read_runtime_value("net.ipv4.ip_forward") == "0"


def test_apply_rewrites_a_hand_edited_file(proc):
    conf = _sysctl.conf_path("director")
    with open(conf, "w") as handle:
        handle.write("net.ipv4.ip_forward=0\n")
    plan = _sysctl.SysctlPlan("lvs_sysctl", conf, conf_set={"net.ipv4.ip_forward": 0})
    assert _sysctl.apply_sysctl_plan(CheckModeModule(), plan)["conf_changed"]
    with open(conf) as handle:
        assert handle.read().startswith("# Managed by the lvs.topology collection (lvs_sysctl module).")
