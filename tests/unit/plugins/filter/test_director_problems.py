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
from ansible.plugins.filter.core import FilterModule as CoreFilters
from ansible_collections.lvs.topology.plugins.filter.lvs_director_problems import lvs_director_problems
from ansible_collections.lvs.topology.plugins.filter.lvs_director_vips import lvs_director_vips

ROLE = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "roles", "director")
INJECTION = "\nExecStartPost=/bin/sh -c id"
PATH_RULE = "is not an absolute path of letters, digits and . _ + -, segments separated by one /, none of them . or ..."
UNIT_RULE = ("is not a unit name: 1 to 255 characters, letters, digits and . _ - :, starting with a letter, a digit or _ "
             "and ending in .service.")
MODULE_RULE = "is not a kernel module name: 1 to 55 lowercase letters, digits, _ and -, not starting with -."
TASK = "Check the director variables and the labels of its VIPs before any file is written"
LONG_NIC = "enx0123456789ab"


def read_yaml(*path):
    with open(os.path.join(ROLE, *path)) as handle:
        return yaml.safe_load(handle)


def check_task():
    return dict((task["name"], task) for task in read_yaml("tasks", "validate.yml"))[TASK]


def facts(nic, default_route=True):
    """The network facts of a director whose one NIC, named nic, holds 192.0.2.0/24 and 2001:db8::/64."""
    key = nic.replace("-", "_").replace(".", "_")
    result = {"interfaces": ["lo", nic],
              key: {"type": "ether", "ipv4": {"address": "192.0.2.10", "netmask": "255.255.255.0", "prefix": "24"},
                    "ipv6": [{"address": "2001:db8::10", "prefix": "64", "scope": "global"}]}}
    if default_route:
        result["default_ipv4"] = {"address": "192.0.2.10", "interface": nic}
    return result


def model(*vips):
    return [{"name": "web%d" % index, "vip": vip, "port": 80, "real_servers": [{"host": "2001:db8::21" if ":" in vip else "192.0.2.21"}]}
            for index, vip in enumerate(vips)]


def render(expression, context):
    environment = NativeEnvironment()
    environment.filters.update(CoreFilters().filters())
    environment.filters["lvs.topology.lvs_director_problems"] = lvs_director_problems
    environment.filters["lvs.topology.lvs_director_vips"] = lvs_director_vips
    return environment.from_string(expression).render(context)


def problems(**variables):
    """The role's check as its task runs it: its expressions, with the filters, on the role's
    defaults (a director that owns its table and puts its VIPs up itself, with one NIC eth0,
    unless given)."""
    # director_backend and director_ipvs_timeouts as their defaults render with lvs_director_backend and lvs_ipvs_timeouts unset.
    context = dict(read_yaml("defaults", "main.yml"), director_backend="modules", director_ipvs_timeouts={}, director_manage_vip=True,
                   ansible_facts=facts("eth0"), lvs_virtual_services=model("192.0.2.100"))
    context.update(variables)
    task = check_task()
    assert task["ansible.builtin.assert"]["that"] == "_director_variable_problems | length == 0"
    context["_director_vips"] = render(task["vars"]["_director_vips"], context)
    return render(task["vars"]["_director_variable_problems"], context)


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
    # Switches the tasks only test, the host list the validation reads, and packages given to
    # the package manager as names of its own.
    assert written - checked == {"director_validate_topology", "director_hosts", "director_manage_vip", "director_packages"}


@pytest.mark.parametrize("variables", [
    {"director_rules_file": "/var/lib/lvs-topology/ipvs_v2.rules", "director_fullnat_nft_file": "/etc/nftables.d/lvs+fullnat.nft"},
    {"director_restore_unit": "lvs:ipvs.service", "director_fullnat_unit": "lvs_fullnat-2.service"},
    {"director_fullnat_snat_address": "192.0.2.1"}, {"director_fullnat_snat_address": "2001:db8::1"},
    {"director_extra_kernel_modules": ["nf_conntrack", "ip_vs_ftp", "8021q", "nf-nat"]},
    {"director_vip_interface": "enp0s31f6"}, {"director_vip_interface": "eth0.100"},
    {"director_ipvs_timeouts": {"tcp": 7200, "tcpfin": None, "udp": "60"}}, {"director_ipvs_timeouts": None},
    {"director_ipvs_timeouts_unit": "ipvs-timeouts.service"},
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


def test_the_vip_labels_of_a_long_nic_name_are_refused_one_sentence_each():
    services = model("192.0.2.100", "192.0.2.101", "2001:db8::100")
    found = problems(ansible_facts=facts(LONG_NIC), lvs_virtual_services=services)
    # The IPv6 VIP has no label; each IPv4 one has its own sentence.
    assert found == ["VIP 192.0.2.100 label 'enx0123456789ab:0' has 17 characters; the kernel keeps at most 15 in an address label (IFNAMSIZ).",
                     "VIP 192.0.2.101 label 'enx0123456789ab:1' has 17 characters; the kernel keeps at most 15 in an address label (IFNAMSIZ)."]


def test_the_eleventh_vip_on_a_thirteen_character_nic_gets_a_label_too_long():
    services = model(*("192.0.2.%d" % host for host in range(100, 111)))
    assert problems(ansible_facts=facts("enp0s20f0u1u2"), lvs_virtual_services=services) == [
        "VIP 192.0.2.110 label 'enp0s20f0u1u2:10' has 16 characters; the kernel keeps at most 15 in an address label (IFNAMSIZ)."]


def test_a_vip_outside_every_subnet_goes_on_director_vip_interface_and_its_label_is_checked():
    found = problems(ansible_facts=facts("eth0", default_route=False), lvs_virtual_services=model("203.0.113.100"),
                     director_vip_interface="vlan-uplink-100")
    # The interface name itself is the kernel's longest; its labels are longer.
    assert found == [
        "VIP 203.0.113.100 label 'vlan-uplink-100:0' has 17 characters; the kernel keeps at most 15 in an address label (IFNAMSIZ)."]


def test_no_vip_labels_are_checked_when_the_role_leaves_the_vips_to_keepalived():
    assert problems(ansible_facts=facts(LONG_NIC), lvs_virtual_services=model("192.0.2.100"), director_manage_vip=False) == []


EMPTY_MODEL = ("lvs_virtual_services is %s, so director_table_state overridden would delete every service of this director's "
               "IPVS table; list its services, or set director_allow_empty_table: true to empty the table on purpose.")

KEEPALIVED_EMPTY_MODEL = EMPTY_MODEL.replace("director_table_state overridden", "keepalived, which owns the table,") % "an empty list"


@pytest.mark.parametrize("variables, expected", [
    ({"lvs_virtual_services": []}, [EMPTY_MODEL % "an empty list"]),
    ({"lvs_virtual_services": None}, [EMPTY_MODEL % "null"]),
    ({"lvs_virtual_services": [], "director_allow_empty_table": False}, [EMPTY_MODEL % "an empty list"]),
    ({"lvs_virtual_services": [], "director_allow_empty_table": "no"}, [EMPTY_MODEL % "an empty list"]),
    ({"lvs_virtual_services": [], "director_allow_empty_table": True}, []),
    ({"lvs_virtual_services": None, "director_allow_empty_table": "yes"}, []),
    ({"lvs_virtual_services": [], "director_table_state": "merged"}, []),
    ({"lvs_virtual_services": [], "director_backend": "keepalived"}, [KEEPALIVED_EMPTY_MODEL]),
    ({"lvs_virtual_services": [], "director_backend": "keepalived", "director_table_state": "merged"}, [KEEPALIVED_EMPTY_MODEL]),
    ({"lvs_virtual_services": [], "director_backend": "keepalived", "director_allow_empty_table": True}, []),
    ({"lvs_virtual_services": model("192.0.2.100")}, []),
], ids=["empty", "null", "false", "no", "allowed", "allowed-as-text", "merged", "keepalived", "keepalived-merged", "keepalived-allowed", "one-service"])
def test_an_empty_model_that_would_empty_the_table_is_refused_naming_the_variable(variables, expected):
    """The role's defaults: overridden, the table programmed by the role, emptying not allowed."""
    assert problems(**variables) == expected


def test_the_role_passes_its_opt_in_to_ipvs_table():
    tasks = dict((task["name"], task) for task in read_yaml("tasks", "main.yml"))
    assert tasks["Program the IPVS table"]["lvs.topology.ipvs_table"]["allow_empty_table"] == "{{ director_allow_empty_table | bool }}"
    assert read_yaml("defaults", "main.yml")["director_allow_empty_table"] is False


def test_a_filter_call_without_the_model_or_the_state_does_not_check_emptiness():
    assert lvs_director_problems({"director_table_state": "overridden"}) == []
    assert lvs_director_problems({"lvs_virtual_services": []}) == []
    assert lvs_director_problems({"lvs_virtual_services": [], "director_table_state": "overridden"}) == [EMPTY_MODEL % "an empty list"]
