# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The table of bad inputs (tests/unit/fixtures/bad_inputs.yml), each through the real entry points.

A service of the data model goes through the lvs_topology_problems filter as Ansible calls
it and, where the module has the rule too, through ipvs_table with the item the service
becomes: both refuse it with the same sentence, each naming the service its own way, and
ipvsadm is never asked to change anything. The director and keepalived roles' variables go
through lvs_director_problems and lvs_keepalived_problems, the host values through the
modules that write them, which change nothing."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import os
from collections import Counter

import pytest
import yaml

from host_module_harness import FakeProcSys, ModuleFail, captured_proc_values, kernel_module_switch, run_module
from test_ipvs_modules import FakeIpvsadm, live
from test_model_rules import HOSTVARS, SERVICE
from test_vip_address import BASE, commands_for

from ansible_collections.lvs.topology.plugins.filter import lvs_director_problems, lvs_keepalived_problems, lvs_topology_problems
from ansible_collections.lvs.topology.plugins.module_utils.ipvs import values
from ansible_collections.lvs.topology.plugins.modules import (
    arp_suppress, ipvs_real_server, ipvs_service, ipvs_table, lvs_sysctl, vip_address,
)
from ansible_collections.lvs.topology.plugins.plugin_utils._topology import REAL_SERVER_DEFAULTS, SERVICE_DEFAULTS, ipvs_item

TABLE_PATH = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "bad_inputs.yml")
with open(TABLE_PATH) as table_file:
    TABLE = yaml.safe_load(table_file)

TOPOLOGY_PROBLEMS = lvs_topology_problems.FilterModule().filters()["lvs_topology_problems"]
DIRECTOR_PROBLEMS = lvs_director_problems.FilterModule().filters()["lvs_director_problems"]
KEEPALIVED_PROBLEMS = lvs_keepalived_problems.FilterModule().filters()["lvs_keepalived_problems"]
with open(os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "roles", "director", "defaults", "main.yml")) as defaults_file:
    # The role's plain defaults, and the table owned by the role (lvs_director_backend unset).
    DIRECTOR_DEFAULTS = dict((name, value) for name, value in yaml.safe_load(defaults_file).items() if "{{" not in str(value))
    DIRECTOR_DEFAULTS["director_backend"] = "modules"
MODEL_WHERE = "Service web"
MODULE_WHERE = "config[0]"
IPVS_MODULES = {"ipvs_table": ipvs_table, "ipvs_service": ipvs_service, "ipvs_real_server": ipvs_real_server}
HOST_MODULES = {"vip_address": vip_address, "arp_suppress": arp_suppress, "lvs_sysctl": lvs_sysctl}
VIP_ADDRESS_DEFAULTS = {"address": "192.0.2.101", "interface": "lo"}


@pytest.fixture
def module_run(monkeypatch):
    """A fresh module run: the checks ipvs_table keeps for the life of one run start empty, as in a new process."""
    monkeypatch.setattr(values, "_CHECKED_ITEMS", {})


def cases(*kinds):
    """pytest params of the table's cases of these kinds; a case with xfail is a known bug, strictly expected to fail."""
    params = []
    for kind in kinds:
        for index, case in enumerate(TABLE[kind]):
            marks = [pytest.mark.xfail(strict=True, reason=case["xfail"])] if case.get("xfail") else []
            params.append(pytest.param(kind, case, id="%s-%d-%s" % (kind, index, case["rule"]), marks=marks))
    return params


def every_case():
    return [case for kind in TABLE for case in TABLE[kind]]


def test_the_table_is_big_and_covers_each_rule_several_times():
    rules = Counter(case["rule"] for case in every_case())
    assert len(every_case()) >= 200
    assert [rule for rule, count in rules.items() if count < 2] == []


def test_each_case_names_its_rule_and_sentence():
    for case in every_case():
        assert set(case) - {"rule", "service", "services", "config", "args", "vars", "vips", "sentence", "module", "xfail"} == set()
        assert case["rule"] and case["sentence"]


def model_of(case):
    """The case's lvs_virtual_services: its services, or the service web with the case's keys."""
    if "services" in case:
        return copy.deepcopy(case["services"])
    service = copy.deepcopy(SERVICE)
    service.update(copy.deepcopy(case["service"]))
    return [service]


def item_of(service):
    """The ipvs_table item the service becomes, as the model's translation writes it (real servers by address)."""
    read = dict(SERVICE_DEFAULTS)
    read.update((key, value) for key, value in service.items() if value is not None)
    if isinstance(read["flags"], str):
        read["flags"] = [flag for flag in read["flags"].split(",") if flag]
    # A real server's forwarding method is the service's unless it has its own.
    inherited = dict(REAL_SERVER_DEFAULTS, forwarding_method=read["forwarding_method"])
    read["real_servers"] = [dict(inherited, **real_server) for real_server in read["real_servers"]]
    return ipvs_item(read, lambda real_server: real_server["host"])


@pytest.mark.parametrize("kind, case", cases("model"))
def test_a_bad_service_is_refused_by_the_model_and_the_module_with_one_sentence(kernel, module_run, kind, case):
    problems = TOPOLOGY_PROBLEMS(model_of(case), HOSTVARS, ["director"])
    assert len(problems) == 1 and case["sentence"] in problems[0], problems
    # A rule across services, or of the model's own keys, has no ipvs_table item to check.
    if "services" in case or case.get("module") is False:
        return
    assert problems[0].startswith(MODEL_WHERE)
    fake = FakeIpvsadm(live())
    with pytest.raises(ModuleFail) as failure:
        run_module(ipvs_table.main, dict(state="overridden", config=[item_of(model_of(case)[0])]), fake)
    assert failure.value.result["msg"] == MODULE_WHERE + problems[0][len(MODEL_WHERE):]
    assert fake.changes() == []


@pytest.mark.parametrize("kind, case", cases("ipvs_table", "ipvs_service", "ipvs_real_server"))
def test_a_bad_ipvs_module_argument_is_refused_before_anything_runs(kernel, module_run, kind, case):
    fake = FakeIpvsadm(live())
    args = case["args"] if "args" in case else dict(state="overridden", config=case["config"])
    with pytest.raises(ModuleFail) as failure:
        run_module(IPVS_MODULES[kind].main, copy.deepcopy(args), fake)
    assert case["sentence"] in failure.value.result["msg"]
    assert fake.changes() == []


@pytest.mark.parametrize("kind, case", cases("director"))
def test_a_bad_director_variable_is_refused_with_one_sentence(kind, case):
    problems = DIRECTOR_PROBLEMS(dict(DIRECTOR_DEFAULTS, **copy.deepcopy(case["vars"])), copy.deepcopy(case.get("vips")))
    assert len(problems) == 1 and case["sentence"] in problems[0], problems


@pytest.mark.parametrize("kind, case", cases("keepalived"))
def test_a_bad_keepalived_variable_is_refused_with_one_sentence(kind, case):
    problems = KEEPALIVED_PROBLEMS(copy.deepcopy(case["vars"]), copy.deepcopy(case.get("vips")))
    assert len(problems) == 1 and case["sentence"] in problems[0], problems


def files_under(root):
    """{path: content} of every file under root."""
    found = {}
    for directory, dummy, names in os.walk(str(root)):
        for name in names:
            path = os.path.join(directory, name)
            with open(path, "rb") as handle:
                found[path] = handle.read()
    return found


@pytest.fixture
def host(tmp_path, monkeypatch):
    """The files the host modules write (a /proc/sys, sysctl.d, modules-load.d, unit files) in tmp_path."""
    values = captured_proc_values("proc_sys_net_ipv4_conf.txt")
    values.update(captured_proc_values("proc_sys_net_ipv4_vs.txt"))
    FakeProcSys(tmp_path, monkeypatch, values)
    monkeypatch.setattr(lvs_sysctl, "MODULES_LOAD_D", str(tmp_path / "modules-load.d"))
    monkeypatch.setattr(vip_address, "SYSTEMD_UNIT_DIR", str(tmp_path / "units"))
    for module in (lvs_sysctl, vip_address):
        kernel_module_switch(monkeypatch, module)
    return tmp_path


@pytest.mark.parametrize("kind, case", cases("vip_address", "arp_suppress", "lvs_sysctl"))
def test_a_bad_host_value_is_refused_by_its_module_which_changes_nothing(host, kind, case):
    args = dict(VIP_ADDRESS_DEFAULTS, **case["args"]) if kind == "vip_address" else copy.deepcopy(case["args"])
    commands = commands_for(BASE)
    before = files_under(host)
    with pytest.raises(ModuleFail) as failure:
        run_module(HOST_MODULES[kind].main, args, commands)
    assert case["sentence"] in failure.value.result["msg"]
    assert commands.calls == [] and files_under(host) == before
