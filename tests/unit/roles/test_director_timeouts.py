# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The IPVS timeouts of the director role: which it sets, the unit that sets them again at boot,
and the unit's removal when none are kept; and keepalived's lvs_timeouts line."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import yaml

import pytest

from test_director_templates import render, render_value, role_file, unit_settings
from test_keepalived_template import block, render as render_keepalived, service

from ansible_collections.lvs.topology.plugins.module_utils.ipvs.timeouts import set_arguments, KERNEL_DEFAULTS


def role_vars(**context):
    """_director_ipvs_timeouts and _director_keep_timeouts, rendered from the role's vars."""
    variables = yaml.safe_load(role_file("vars", "main.yml"))
    context["_director_ipvs_timeouts"] = render_value(variables["_director_ipvs_timeouts"], **context)
    context["_director_keep_timeouts"] = render(variables["_director_keep_timeouts"], **context) == "True"
    return context


def exec_start(timeouts):
    context = role_vars(director_ipvs_timeouts=timeouts, director_backend="modules")
    unit = unit_settings(render(role_file("templates", "lvs-topology-ipvs-timeouts.service.j2"), ansible_managed="managed", **context))
    return unit["Service", "ExecStart"]


@pytest.mark.parametrize("timeouts, argv", [
    ({"tcp": 7200}, "/usr/sbin/ipvsadm --set 7200 0 0"),
    ({"tcpfin": 30, "udp": None}, "/usr/sbin/ipvsadm --set 0 30 0"),
    ({"tcp": 7200, "tcpfin": 30, "udp": 60}, "/usr/sbin/ipvsadm --set 7200 30 60"),
])
def test_the_boot_unit_sets_the_given_timeouts_and_leaves_the_others(timeouts, argv):
    assert exec_start(timeouts) == argv


def test_the_boot_unit_sets_what_the_module_sets_on_a_fresh_kernel():
    """At boot the kernel has its own values: the unit's arguments are the module's for the same wish."""
    wanted = {"tcp": 7200, "udp": 60}
    assert exec_start(wanted).split()[1:] == set_arguments(KERNEL_DEFAULTS, wanted)


@pytest.mark.parametrize("timeouts, backend, kept", [
    ({"tcp": 7200}, "modules", True),
    ({"tcp": 7200}, "keepalived", False),
    ({}, "modules", False),
    (None, "modules", False),
    ({"tcp": None}, "modules", False),
])
def test_the_unit_is_kept_only_for_timeouts_with_the_modules_backend(timeouts, backend, kept):
    assert role_vars(director_ipvs_timeouts=timeouts, director_backend=backend)["_director_keep_timeouts"] is kept


def test_the_removal_takes_the_unit_and_its_enablement():
    """The unit is removed as files: the enablement link is where its WantedBy puts it."""
    unit = unit_settings(render(role_file("templates", "lvs-topology-ipvs-timeouts.service.j2"), ansible_managed="managed",
                                **role_vars(director_ipvs_timeouts={"tcp": 7200}, director_backend="modules")))
    tasks = dict((task["name"], task) for task in yaml.safe_load(role_file("tasks", "timeouts.yml")))
    removal = tasks["Remove the unit of IPVS timeouts no longer kept"]
    assert removal["loop"] == ["/etc/systemd/system/%s.wants/{{ director_ipvs_timeouts_unit }}" % unit["Install", "WantedBy"],
                               "/etc/systemd/system/{{ director_ipvs_timeouts_unit }}"]
    assert removal["when"] == "not _director_keep_timeouts"


def global_defs(backend, **variables):
    return block(render_keepalived([service()], backend, **variables), "global_defs")


def test_keepalived_sets_the_timeouts_when_it_owns_the_table():
    lines = global_defs("keepalived", keepalived_ipvs_timeouts={"tcp": 7200, "tcpfin": None, "udp": 60})
    assert "lvs_timeouts tcp 7200 udp 60" in lines


@pytest.mark.parametrize("backend, timeouts", [("keepalived", {}), ("keepalived", None), ("modules", {"tcp": 7200})])
def test_keepalived_sets_no_timeouts_without_them_or_without_the_table(backend, timeouts):
    assert not [line for line in global_defs(backend, keepalived_ipvs_timeouts=timeouts) if line.startswith("lvs_timeouts")]
