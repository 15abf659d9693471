# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the director role's variables may be: each one reaches a file or a command that root
runs (a systemd unit, modules-load.d, modprobe's argv, the FULLNAT nftables table, a unit
file name, ipvsadm --set), so each is checked by the rules of _names (and the IPVS timeouts
by those of ipvs.timeouts) before the role changes the host; and
a model without services may empty a director's table only when the role is told so.

Standard library only. Private to the collection: this API may change without notice.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.lvs.topology.plugins.module_utils._names import (
    absolute_path_problem,
    distinct_problems,
    ip_address_problem,
    kernel_module_problem,
    optional_interface_problem,
    shown,
    unit_name_problem,
    vip_problems,
)
from ansible_collections.lvs.topology.plugins.module_utils.ipvs.timeouts import timeouts_problem


def _optional_address_problem(value, what):
    """An empty address variable means 'the interface's own' (masquerade); anything else must be an address."""
    if value is None or value == "":
        return None
    return ip_address_problem(value, what)


def _kernel_module_problems(modules):
    if not isinstance(modules, (list, tuple)):
        return ["director_extra_kernel_modules must be a list of kernel module names, not %s." % shown(modules)]
    return [kernel_module_problem(module, "director_extra_kernel_modules entry") for module in modules]


# The role's variables that reach a file or a command, each with its rule.
RULES = (
    ("director_rules_file", absolute_path_problem),
    ("director_fullnat_nft_file", absolute_path_problem),
    ("director_restore_unit", unit_name_problem),
    ("director_ipvs_timeouts_unit", unit_name_problem),
    ("director_ipvs_timeouts", timeouts_problem),
    ("director_fullnat_unit", unit_name_problem),
    ("director_fullnat_snat_address", _optional_address_problem),
    ("director_vip_interface", optional_interface_problem),
)


def _empty_table_problem(variables):
    """An empty model would delete every service of the director: with the modules backend when
    the table is made exactly the model (ipvs_table refuses that on the host too), with the
    keepalived backend always, since keepalived drops every virtual server its configuration no
    longer lists. This says so on the controller before any host changes, naming the role's
    variables."""
    if "lvs_virtual_services" not in variables or "director_table_state" not in variables:
        return None
    services = variables["lvs_virtual_services"]
    if services is not None and services != []:
        return None
    if variables.get("director_allow_empty_table") is True:
        return None
    backend = variables.get("director_backend", "modules")
    if backend == "modules" and variables["director_table_state"] != "overridden":
        return None
    owner = "director_table_state overridden" if backend == "modules" else "keepalived, which owns the table,"
    return ("lvs_virtual_services is %s, so %s would delete every service of this director's "
            "IPVS table; list its services, or set director_allow_empty_table: true to empty the table on purpose."
            % ("null" if services is None else "an empty list", owner))


def director_problems(variables, vips=None):
    """Every problem of the director role's variables, one sentence each (empty: none).

    variables: the role's variables by name; one that is missing is not checked, so a caller
    can check a part. vips: the VIPs the role puts on the director, from lvs_director_vips.
    """
    problems = [rule(variables[name], name) for name, rule in RULES if name in variables]
    problems.append(_empty_table_problem(variables))
    if "director_extra_kernel_modules" in variables:
        problems.extend(_kernel_module_problems(variables["director_extra_kernel_modules"]))
    problems.extend(vip_problems(vips))
    return distinct_problems(problems)
