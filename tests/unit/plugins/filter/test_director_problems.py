# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The director role's check of its variables and VIP labels: the filter, through the role's
own task (roles/director/tasks/validate.yml, which playbooks/validate.yml runs too)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

import pytest
import yaml

from jinja2.nativetypes import NativeEnvironment

from ansible.errors import AnsibleFilterError
from ansible_collections.lvs.topology.plugins.filter.lvs_director_problems import lvs_director_problems

ROLE = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "roles", "director")
INJECTION = "\nExecStartPost=/bin/sh -c id"
PATH_RULE = "is not an absolute path of letters, digits and . _ + -, segments separated by one /, none of them . or ..."
UNIT_RULE = ("is not a unit name: 1 to 255 characters, letters, digits and . _ - :, starting with a letter, a digit or _ "
             "and ending in .service.")
MODULE_RULE = "is not a kernel module name: 1 to 55 lowercase letters, digits, _ and -, not starting with -."
TASK = "Check the director variables before any file is written"


def read_yaml(*path):
    with open(os.path.join(ROLE, *path)) as handle:
        return yaml.safe_load(handle)


def check_task():
    return dict((task["name"], task) for task in read_yaml("tasks", "validate.yml"))[TASK]


def problems(**variables):
    """The role's check as its task runs it: its expression, with the filter, on the role's defaults."""
    environment = NativeEnvironment()
    environment.filters["lvs.topology.lvs_director_problems"] = lvs_director_problems
    context = dict(read_yaml("defaults", "main.yml"))
    context.update(variables)
    task = check_task()
    assert task["ansible.builtin.assert"]["that"] == "_director_variable_problems | length == 0"
    return environment.from_string(task["vars"]["_director_variable_problems"]).render(context)


def test_the_role_defaults_pass():
    assert problems() == []


def test_every_variable_a_template_or_a_command_writes_is_checked():
    written = set()
    for directory in ("templates", "tasks"):
        for name in os.listdir(os.path.join(ROLE, directory)):
            with open(os.path.join(ROLE, directory, name)) as handle:
                written.update(re.findall(r"\bdirector_[a-z_]+", handle.read()))
    written.update(re.findall(r"\bdirector_[a-z_]+", str(read_yaml("vars", "main.yml")["_director_kernel_modules"])))
    checked = set(re.findall(r"'(\w+)': \1\b", check_task()["vars"]["_director_variable_problems"]))
    # Switches the tasks only test, the host list the validation reads, choices the argument
    # spec holds to, and packages given to the package manager as names of its own.
    assert written - checked == {"director_validate_topology", "director_hosts", "director_backend", "director_manage_vip",
                                 "director_table_state", "director_packages"}


@pytest.mark.parametrize("variables", [
    {"director_rules_file": "/var/lib/lvs-topology/ipvs_v2.rules", "director_fullnat_nft_file": "/etc/nftables.d/lvs+fullnat.nft"},
    {"director_restore_unit": "lvs:ipvs.service", "director_fullnat_unit": "lvs_fullnat-2.service"},
    {"director_fullnat_snat_address": "192.0.2.1"}, {"director_fullnat_snat_address": "2001:db8::1"},
    {"director_extra_kernel_modules": ["nf_conntrack", "ip_vs_ftp", "8021q", "nf-nat"]},
    {"director_vip_interface": "enp0s31f6"}, {"director_vip_interface": "eth0.100"},
])
def test_good_values_pass(variables):
    assert problems(**variables) == []


@pytest.mark.parametrize("variables, expected", [
    ({"director_rules_file": "/etc/lvs/ipvs.rules" + INJECTION},
     ["director_rules_file '/etc/lvs/ipvs.rules\\nExecStartPost=/bin/sh -c id' " + PATH_RULE]),
    ({"director_rules_file": "ipvs.rules"}, ["director_rules_file 'ipvs.rules' " + PATH_RULE]),
    ({"director_rules_file": "/etc/lvs topology/ipvs.rules"}, ["director_rules_file '/etc/lvs topology/ipvs.rules' " + PATH_RULE]),
    ({"director_rules_file": "/etc/%h.rules"}, ["director_rules_file '/etc/%h.rules' " + PATH_RULE]),
    ({"director_rules_file": "/etc/lvs/../ipvs.rules"}, ["director_rules_file '/etc/lvs/../ipvs.rules' " + PATH_RULE]),
    ({"director_rules_file": "/etc//ipvs.rules"}, ["director_rules_file '/etc//ipvs.rules' " + PATH_RULE]),
    ({"director_rules_file": "/etc/lvs/"}, ["director_rules_file '/etc/lvs/' " + PATH_RULE]),
    ({"director_fullnat_nft_file": '/etc/"fullnat".nft'}, ["director_fullnat_nft_file '/etc/\"fullnat\".nft' " + PATH_RULE]),
    ({"director_fullnat_nft_file": "/etc/fullnat.nft;id"}, ["director_fullnat_nft_file '/etc/fullnat.nft;id' " + PATH_RULE]),
    ({"director_restore_unit": "../../etc/cron.d/x.service"}, ["director_restore_unit '../../etc/cron.d/x.service' " + UNIT_RULE]),
    ({"director_fullnat_unit": "fullnat.timer"}, ["director_fullnat_unit 'fullnat.timer' " + UNIT_RULE]),
    ({"director_fullnat_snat_address": "192.0.2.1 masquerade"},
     ["director_fullnat_snat_address '192.0.2.1 masquerade' is not an IP address (for example 192.0.2.100 or 2001:db8::100)."]),
    ({"director_fullnat_snat_address": "fe80::1%eth0"},
     ["director_fullnat_snat_address 'fe80::1%eth0' has an IPv6 zone id (after the %), which lvs.topology refuses: give the address without it."]),
    ({"director_extra_kernel_modules": ["nf_conntrack\nbinfmt_misc"]},
     ["director_extra_kernel_modules entry 'nf_conntrack\\nbinfmt_misc' " + MODULE_RULE]),
    ({"director_extra_kernel_modules": ["--remove"]}, ["director_extra_kernel_modules entry '--remove' " + MODULE_RULE]),
    ({"director_extra_kernel_modules": ["IP_VS"]}, ["director_extra_kernel_modules entry 'IP_VS' " + MODULE_RULE]),
    ({"director_extra_kernel_modules": ["m" * 56]}, ["director_extra_kernel_modules entry '%s' %s" % ("m" * 56, MODULE_RULE)]),
    ({"director_extra_kernel_modules": "nf_conntrack"},
     ["director_extra_kernel_modules must be a list of kernel module names, not 'nf_conntrack'."]),
    ({"director_vip_interface": "eth0" + INJECTION},
     ["director_vip_interface 'eth0\\nExecStartPost=/bin/sh -c id' is not an interface name: "
      "letters, digits and . _ - @, starting with a letter, a digit or _."]),
    ({"director_rules_file": "rules", "director_restore_unit": "x", "director_extra_kernel_modules": ["a b", "ok", "-"]},
     ["director_rules_file 'rules' " + PATH_RULE, "director_restore_unit 'x' " + UNIT_RULE,
      "director_extra_kernel_modules entry 'a b' " + MODULE_RULE, "director_extra_kernel_modules entry '-' " + MODULE_RULE]),
])
def test_bad_values_are_refused_one_sentence_each(variables, expected):
    assert problems(**variables) == expected


def test_the_check_runs_on_the_directors_only():
    assert check_task()["when"] == "inventory_hostname in director_hosts"


def test_the_filter_takes_a_mapping():
    with pytest.raises(AnsibleFilterError, match="takes the director variables as a mapping"):
        lvs_director_problems(["director_rules_file"])
