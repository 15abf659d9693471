# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The keepalived role's check of its variables: the filter, through the role's own task
(roles/keepalived/tasks/validate.yml, which playbooks/validate.yml runs too)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

import pytest
import yaml

from jinja2.nativetypes import NativeEnvironment

from ansible.errors import AnsibleFilterError
from ansible_collections.lvs.topology.plugins.filter.lvs_keepalived_problems import lvs_keepalived_problems

ROLE = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "roles", "keepalived")
INJECTION = "\n    notify_master /bin/sh"
# The defaults of roles/keepalived/defaults/main.yml that are templates, as they come out for lb01.
TEMPLATED_DEFAULTS = {"keepalived_hosts": ["lb01", "lb02"], "keepalived_backend": "modules",
                      "keepalived_priority": 150, "keepalived_sync_id": 51, "keepalived_ipvs_timeouts": {}}
VIPS = [{"address": "192.0.2.100", "prefix": 32, "interface": "eth0", "label": "eth0:0"},
        {"address": "2001:db8::100", "prefix": 128, "interface": "eth0", "label": None}]
INTERFACE_RULE = "letters, digits and . _ - @, starting with a letter, a digit or _."
AUTH_PASS_RULE = "keepalived_auth_pass must be 1 to 8 printable ASCII characters without blanks, quotes, #, !, $, \\ or braces."
V3_ADVERT = "is not a number of seconds from 0.01 to 40.95 with at most two decimals (VRRPv3)."
HOST_RULE = "cannot be named in keepalived.conf: a host name there is 1 to 253 letters, digits and . _ - :, starting with a letter, a digit or _."


def read_yaml(*path):
    with open(os.path.join(ROLE, *path)) as handle:
        return yaml.safe_load(handle)


def role_defaults():
    """The role's defaults for lb01 of the pair lb01, lb02, with the network default (no interface set)."""
    defaults = read_yaml("defaults", "main.yml")
    return dict((name, TEMPLATED_DEFAULTS.get(name, value) if "{{" in str(value) else value) for name, value in defaults.items())


def validate_task():
    task, = read_yaml("tasks", "validate.yml")
    return task


def problems(vips=None, **variables):
    """The role's check as its task runs it: its expression, with the filter, on the role's defaults (VIPS unless given)."""
    environment = NativeEnvironment()
    environment.filters["lvs.topology.lvs_keepalived_problems"] = lvs_keepalived_problems
    context = dict(role_defaults(), inventory_hostname="lb01", _keepalived_vips=VIPS if vips is None else vips)
    context.update(variables)
    return environment.from_string(validate_task()["vars"]["_keepalived_problems"]).render(context)


def test_the_role_defaults_pass():
    assert problems() == []


def test_every_variable_the_template_writes_is_checked():
    with open(os.path.join(ROLE, "templates", "keepalived.conf.j2")) as handle:
        written = set(re.findall(r"\bkeepalived_[a-z_]+", handle.read()))
    checked = set(re.findall(r"'(\w+)': \1\b", validate_task()["vars"]["_keepalived_problems"]))
    # Booleans the template only tests in {% if %}: they never reach the file as text.
    assert written - checked == {"keepalived_preempt", "keepalived_sync_daemon"}
    assert "inventory_hostname" in checked


@pytest.mark.parametrize("variables", [
    {"keepalived_interface": "eth0.100", "keepalived_sync_interface": "br-lan", "keepalived_vip_interface": "enp0s31f6"},
    {"keepalived_unicast_peers": ["192.0.2.11", "2001:db8::12"]},
    {"keepalived_vrrp_version": 2, "keepalived_auth_pass": "Ab1%&()*", "keepalived_advert_interval": 255},
    {"keepalived_vrrp_version": "2", "keepalived_auth_pass": "x", "keepalived_advert_interval": "1"},
    {"keepalived_advert_interval": 0.01}, {"keepalived_advert_interval": "40.95"}, {"keepalived_advert_interval": 0.5},
    {"keepalived_virtual_router_id": 255, "keepalived_priority": 1, "keepalived_preempt_delay": 1000, "keepalived_sync_id": 0},
    {"keepalived_virtual_router_id": "1", "keepalived_priority": "254"},
    {"keepalived_instance_name": "VI-lvs_2", "keepalived_backend": "keepalived"},
    {"inventory_hostname": "lb01.example.com", "keepalived_hosts": ["lb01.example.com", "2001:db8::12"]},
])
def test_good_values_pass(variables):
    assert problems(**variables) == []


@pytest.mark.parametrize("variables, expected", [
    ({"keepalived_instance_name": "VI_LVS" + INJECTION},
     ["keepalived_instance_name 'VI_LVS\\n    notify_master /bin/sh' is not a name: 1 to 64 letters, digits, _ and -, starting with a letter."]),
    ({"keepalived_instance_name": "1VI"}, ["keepalived_instance_name '1VI' is not a name: 1 to 64 letters, digits, _ and -, starting with a letter."]),
    ({"keepalived_interface": "eth0" + INJECTION},
     ["keepalived_interface 'eth0\\n    notify_master /bin/sh' is not an interface name: " + INTERFACE_RULE]),
    ({"keepalived_sync_interface": "eth0 "}, ["keepalived_sync_interface 'eth0 ' is not an interface name: " + INTERFACE_RULE]),
    ({"keepalived_vip_interface": "a-very-long-nic0"},
     ["keepalived_vip_interface 'a-very-long-nic0' has 16 characters; the kernel keeps at most 15 in an interface name (IFNAMSIZ)."]),
    ({"keepalived_vrrp_version": 2, "keepalived_auth_pass": "s3cret" + INJECTION}, [AUTH_PASS_RULE]),
    ({"keepalived_vrrp_version": 2, "keepalived_auth_pass": "123456789"}, [AUTH_PASS_RULE]),
    ({"keepalived_vrrp_version": 2, "keepalived_auth_pass": "pa ss"}, [AUTH_PASS_RULE]),
    ({"keepalived_vrrp_version": 2, "keepalived_auth_pass": 'pa"ss'}, [AUTH_PASS_RULE]),
    ({"keepalived_vrrp_version": 2, "keepalived_auth_pass": "pa#ss"}, [AUTH_PASS_RULE]),
    ({"keepalived_vrrp_version": 2, "keepalived_auth_pass": "pa!ss"}, [AUTH_PASS_RULE]),
    ({"keepalived_vrrp_version": 2, "keepalived_auth_pass": "}pass{"}, [AUTH_PASS_RULE]),
    ({"keepalived_vrrp_version": 2, "keepalived_auth_pass": "$PASS"}, [AUTH_PASS_RULE]),
    ({"keepalived_vrrp_version": 2, "keepalived_auth_pass": "pass\\"}, [AUTH_PASS_RULE]),
    ({"keepalived_vrrp_version": 2, "keepalived_auth_pass": u"pässe"}, [AUTH_PASS_RULE]),
    ({"keepalived_auth_pass": "s3cret"}, ["keepalived_auth_pass needs keepalived_vrrp_version 2: VRRPv3 has no authentication."]),
    ({"keepalived_unicast_peers": ["192.0.2.12" + INJECTION]},
     ["keepalived_unicast_peers entry '192.0.2.12\\n    notify_master /bin/sh' is not an IP address (for example 192.0.2.100 or 2001:db8::100)."]),
    ({"keepalived_unicast_peers": ["fe80::12%eth0"]},
     ["keepalived_unicast_peers entry 'fe80::12%eth0' has an IPv6 zone id (after the %), which lvs.topology refuses: give the address without it."]),
    ({"keepalived_unicast_peers": ["192.0.2.0/25"]},
     ["keepalived_unicast_peers entry '192.0.2.0/25' is not an IP address (for example 192.0.2.100 or 2001:db8::100)."]),
    ({"keepalived_unicast_peers": "192.0.2.12"}, ["keepalived_unicast_peers must be a list of IP addresses, not '192.0.2.12'."]),
    ({"keepalived_virtual_router_id": "51" + INJECTION},
     ["keepalived_virtual_router_id '51\\n    notify_master /bin/sh' is not a whole number from 1 to 255."]),
    ({"keepalived_virtual_router_id": 256}, ["keepalived_virtual_router_id 256 is not a whole number from 1 to 255."]),
    ({"keepalived_virtual_router_id": 0}, ["keepalived_virtual_router_id 0 is not a whole number from 1 to 255."]),
    ({"keepalived_virtual_router_id": True}, ["keepalived_virtual_router_id True is not a whole number from 1 to 255."]),
    ({"keepalived_priority": 255}, ["keepalived_priority 255 is not a whole number from 1 to 254."]),
    ({"keepalived_priority": 150.0}, ["keepalived_priority 150.0 is not a whole number from 1 to 254."]),
    ({"keepalived_priority": "150" + INJECTION}, ["keepalived_priority '150\\n    notify_master /bin/sh' is not a whole number from 1 to 254."]),
    ({"keepalived_preempt_delay": 1001}, ["keepalived_preempt_delay 1001 is not a whole number from 0 to 1000."]),
    ({"keepalived_preempt_delay": "0" + INJECTION},
     ["keepalived_preempt_delay '0\\n    notify_master /bin/sh' is not a whole number from 0 to 1000."]),
    ({"keepalived_sync_id": 256}, ["keepalived_sync_id 256 is not a whole number from 0 to 255."]),
    ({"keepalived_sync_id": "51" + INJECTION}, ["keepalived_sync_id '51\\n    notify_master /bin/sh' is not a whole number from 0 to 255."]),
    ({"keepalived_vrrp_version": 4}, ["keepalived_vrrp_version 4 is not 2 or 3."]),
    ({"keepalived_vrrp_version": "3" + INJECTION}, ["keepalived_vrrp_version '3\\n    notify_master /bin/sh' is not 2 or 3."]),
    ({"keepalived_advert_interval": "1" + INJECTION}, ["keepalived_advert_interval '1\\n    notify_master /bin/sh' " + V3_ADVERT]),
    ({"keepalived_advert_interval": 0}, ["keepalived_advert_interval 0 " + V3_ADVERT]),
    ({"keepalived_advert_interval": 41}, ["keepalived_advert_interval 41 " + V3_ADVERT]),
    ({"keepalived_advert_interval": 0.005}, ["keepalived_advert_interval 0.005 " + V3_ADVERT]),
    ({"keepalived_vrrp_version": 2, "keepalived_advert_interval": 0.5},
     ["keepalived_advert_interval 0.5 is not a whole number of seconds from 1 to 255 (VRRPv2)."]),
    ({"keepalived_vrrp_version": 2, "keepalived_advert_interval": 256},
     ["keepalived_advert_interval 256 is not a whole number of seconds from 1 to 255 (VRRPv2)."]),
    ({"keepalived_backend": "both"}, ["keepalived_backend 'both' is not one of modules, keepalived."]),
    ({"inventory_hostname": "lb01" + INJECTION, "keepalived_hosts": ["lb01" + INJECTION, "lb02"]},
     ["Host 'lb01\\n    notify_master /bin/sh' " + HOST_RULE]),
    ({"keepalived_hosts": ["lb01", "lb 02"]}, ["Host 'lb 02' " + HOST_RULE]),
    ({"keepalived_hosts": "lb01"}, ["keepalived_hosts must be a list of inventory hosts, not 'lb01'."]),
])
def test_each_bad_value_is_one_sentence(variables, expected):
    assert problems(**variables) == expected


def test_the_password_never_shows_in_a_sentence():
    found = problems(keepalived_vrrp_version=3, keepalived_auth_pass="s3cret" + INJECTION)
    assert found == [AUTH_PASS_RULE, "keepalived_auth_pass needs keepalived_vrrp_version 2: VRRPv3 has no authentication."]
    assert not [sentence for sentence in found if "s3cret" in sentence]


@pytest.mark.parametrize("vip, expected", [
    # Ten VIPs on a 13-character NIC: the eleventh label, eth-longnames:10, has 16 characters.
    ({"address": "192.0.2.110", "prefix": 32, "interface": "eth-longnames", "label": "eth-longnames:10"},
     ["VIP 192.0.2.110 label 'eth-longnames:10' has 16 characters; the kernel keeps at most 15 in an address label (IFNAMSIZ)."]),
    ({"address": "192.0.2.110", "prefix": 32, "interface": "eth0", "label": "eth0:0" + INJECTION},
     ["VIP 192.0.2.110 label 'eth0:0\\n    notify_master /bin/sh' is not an address label: the interface name, alone or followed by : "
      "and more letters, digits or . _ - : @."]),
    ({"address": "192.0.2.110", "prefix": 32, "interface": "eth{0}", "label": None},
     ["VIP 192.0.2.110 interface 'eth{0}' is not an interface name: " + INTERFACE_RULE]),
    ({"address": "fe80::1%eth0", "prefix": 128, "interface": "eth0", "label": None},
     ["VIP 'fe80::1%eth0' has an IPv6 zone id (after the %), which lvs.topology refuses: give the address without it."]),
])
def test_vip_interfaces_and_labels_are_checked(vip, expected):
    assert problems(vips=VIPS + [vip]) == expected


def test_a_15_character_label_passes():
    assert problems(vips=[{"address": "192.0.2.110", "prefix": 32, "interface": "eth-longname", "label": "eth-longname:10"}]) == []


def test_every_problem_at_once_in_one_list():
    found = problems(vips=VIPS + [{"address": "192.0.2.110", "prefix": 32, "interface": "eth-longnames", "label": "eth-longnames:10"}],
                     keepalived_instance_name="VI LVS", keepalived_priority=0, keepalived_unicast_peers=["192.0.2.12", "fe80::1%eth0"],
                     keepalived_vip_interface="eth-longnames:")
    assert found == [
        "keepalived_instance_name 'VI LVS' is not a name: 1 to 64 letters, digits, _ and -, starting with a letter.",
        "keepalived_vip_interface 'eth-longnames:' is not an interface name: " + INTERFACE_RULE,
        "keepalived_priority 0 is not a whole number from 1 to 254.",
        "keepalived_unicast_peers entry 'fe80::1%eth0' has an IPv6 zone id (after the %), which lvs.topology refuses: give the address without it.",
        "VIP 192.0.2.110 label 'eth-longnames:10' has 16 characters; the kernel keeps at most 15 in an address label (IFNAMSIZ).",
    ]


def test_variables_must_be_a_mapping():
    with pytest.raises(AnsibleFilterError) as error:
        lvs_keepalived_problems(["keepalived_priority"])
    assert str(error.value) == "lvs_keepalived_problems takes the keepalived variables as a mapping, got list."
