# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The real_server_nat role's check of the values its route unit is written from, through the
role's own task."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest
import yaml

from jinja2.nativetypes import NativeEnvironment

from ansible_collections.lvs.topology.plugins.filter.lvs_real_server_nat_problems import lvs_real_server_nat_problems

ROLE = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "roles", "real_server_nat")
UNIT_RULE = ("is not a unit name: 1 to 255 characters, letters, digits and . _ - :, starting with a letter, a digit or _ "
             "and ending in .service.")


def problems(gateway, route_unit=None, gateway6=""):
    """The role's first task as it runs: its condition, then its expression with the filter."""
    with open(os.path.join(ROLE, "tasks", "main.yml")) as handle:
        task = yaml.safe_load(handle)[0]
    with open(os.path.join(ROLE, "defaults", "main.yml")) as handle:
        default_unit = yaml.safe_load(handle)["real_server_nat_route_unit"]
    environment = NativeEnvironment()
    environment.filters["lvs.topology.lvs_real_server_nat_problems"] = lvs_real_server_nat_problems
    context = {"real_server_nat_gateway": gateway, "real_server_nat_gateway6": gateway6,
               "real_server_nat_route_unit": route_unit or default_unit}
    assert task["ansible.builtin.assert"]["that"] == "_real_server_nat_problems | length == 0"
    if not environment.from_string("{{ %s }}" % task["when"]).render(context):
        return None
    return environment.from_string(task["vars"]["_real_server_nat_problems"]).render(context)


def test_a_gateway_and_the_default_unit_pass():
    assert problems("192.0.2.1") == []


def test_no_gateway_no_check():
    assert problems("") is None and problems(None) is None and problems(None, gateway6=None) is None


def test_an_ipv6_gateway_alone_or_beside_an_ipv4_one_passes():
    assert problems("", gateway6="2001:db8:0:198::1") == []
    assert problems("192.0.2.1", gateway6="2001:db8:0:198::1") == []


@pytest.mark.parametrize("gateway, gateway6, expected", [
    ("", "192.0.2.1", ["real_server_nat_gateway6 '192.0.2.1' is not an IPv6 address (for example 2001:db8::100)."]),
    ("192.0.2.1", "2001:db8::1\nExecStartPost=/bin/sh -c id",
     ["real_server_nat_gateway6 '2001:db8::1\\nExecStartPost=/bin/sh -c id' is not an IPv6 address (for example 2001:db8::100)."]),
    ("2001:db8::1", "fe80::1%eth0",
     ["real_server_nat_gateway '2001:db8::1' is not an IPv4 address (for example 192.0.2.100).",
      "real_server_nat_gateway6 'fe80::1%eth0' has an IPv6 zone id (after the %), which lvs.topology refuses: give the address without it."]),
])
def test_each_bad_gateway_of_either_family_is_one_sentence(gateway, gateway6, expected):
    assert problems(gateway, gateway6=gateway6) == expected


@pytest.mark.parametrize("gateway, route_unit, expected", [
    ("192.0.2.1\nExecStartPost=/bin/sh -c id", None,
     ["real_server_nat_gateway '192.0.2.1\\nExecStartPost=/bin/sh -c id' is not an IPv4 address (for example 192.0.2.100)."]),
    ("2001:db8::1", None, ["real_server_nat_gateway '2001:db8::1' is not an IPv4 address (for example 192.0.2.100)."]),
    ("fe80::1%eth0", None,
     ["real_server_nat_gateway 'fe80::1%eth0' has an IPv6 zone id (after the %), which lvs.topology refuses: give the address without it."]),
    ("192.0.2.1", "../../../etc/cron.d/route.service", ["real_server_nat_route_unit '../../../etc/cron.d/route.service' " + UNIT_RULE]),
    ("192.0.2.1", "lvs route.service", ["real_server_nat_route_unit 'lvs route.service' " + UNIT_RULE]),
    ("192.0.2.1", "lvs-route.timer", ["real_server_nat_route_unit 'lvs-route.timer' " + UNIT_RULE]),
    ("192.0.2.1 ", "lvs-route.service\n",
     ["real_server_nat_gateway '192.0.2.1 ' is not an IPv4 address (for example 192.0.2.100).",
      "real_server_nat_route_unit 'lvs-route.service\\n' " + UNIT_RULE]),
])
def test_each_bad_value_is_one_sentence(gateway, route_unit, expected):
    assert problems(gateway, route_unit) == expected
