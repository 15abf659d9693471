# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the real-server roles write for each address family: the TUN role's modules-load.d file
and the NAT role's route unit, rendered from the roles' own variables and templates."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest
import yaml

from test_director_templates import render, render_value

ROLES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "roles")


def role_file(role, *path):
    with open(os.path.join(ROLES, role, *path)) as handle:
        return handle.read()


def role_variables(role, context, *names):
    """The role's vars/main.yml variables names, rendered in order into context."""
    variables = yaml.safe_load(role_file(role, "vars", "main.yml"))
    for name in names:
        context[name] = render_value(variables[name], **context)
    return context


def written_lines(text):
    """The lines a service reads: not the comments."""
    return [line for line in text.splitlines() if line and not line.startswith("#")]


@pytest.mark.parametrize("vips, modules", [
    (["192.0.2.40", "192.0.2.41"], ["ipip"]),
    (["2001:db8:0:2::41"], ["ip6_tunnel"]),
    (["192.0.2.40", "2001:db8:0:2::41", "2001:db8:0:2::42"], ["ipip", "ip6_tunnel"]),
])
def test_tun_loads_one_module_a_line_for_the_families_of_its_vips(vips, modules):
    context = role_variables("real_server_tun", {"real_server_tun_vips": vips}, "_real_server_tun_devices", "_real_server_tun_modules")
    text = render(role_file("real_server_tun", "templates", "modules-load.conf.j2"), ansible_managed="managed", **context)
    # systemd-modules-load reads one module name a line.
    assert written_lines(text) == modules and text.endswith("\n")


@pytest.mark.parametrize("gateway, gateway6, commands", [
    ("198.51.100.1", None, ["/usr/sbin/ip -4 route replace default via 198.51.100.1"]),
    ("", "2001:db8:0:198::1", ["/usr/sbin/ip -6 route replace default via 2001:db8:0:198::1"]),
    ("198.51.100.1", "2001:db8:0:198::1",
     ["/usr/sbin/ip -4 route replace default via 198.51.100.1", "/usr/sbin/ip -6 route replace default via 2001:db8:0:198::1"]),
])
def test_nat_route_unit_restores_the_default_route_of_each_family_it_serves(gateway, gateway6, commands):
    context = role_variables("real_server_nat", {"real_server_nat_gateway": gateway, "real_server_nat_gateway6": gateway6},
                             "_real_server_nat_routes")
    unit = render(role_file("real_server_nat", "templates", "lvs-topology-nat-route.service.j2"), ansible_managed="managed", **context)
    assert [line.split("=", 1)[1] for line in unit.splitlines() if line.startswith("ExecStart=")] == commands
