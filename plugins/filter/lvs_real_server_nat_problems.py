# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: lvs_real_server_nat_problems
author: lvs.topology contributors
version_added: 0.1.0
short_description: List every problem of the real_server_nat role's gateways and unit name
description:
  - The real_server_nat role writes its gateways into a systemd unit that runs as root and names
    the unit file after O(route_unit); the role checks them with this filter before it changes
    the host.
  - The gateway must be exactly an IPv4 address and O(gateway6) exactly an IPv6 address, each
    unless empty (no default route of that family); the unit name 1 to 255 letters, digits and
    C(. _ - :), starting with a letter, a digit or C(_) and ending in C(.service), so it stays in
    C(/etc/systemd/system).
options:
  _input:
    description: The IPv4 gateway (C(real_server_nat_gateway) of the role); empty for none.
    type: str
    required: true
  route_unit:
    description: The unit name (C(real_server_nat_route_unit) of the role).
    type: str
    required: true
  gateway6:
    description: The IPv6 gateway (C(real_server_nat_gateway6) of the role); empty for none.
    type: str
    default: ""
"""

EXAMPLES = r"""
- name: Check the gateway and the unit name before the unit is written
  ansible.builtin.assert:
    that: problems | length == 0
    fail_msg: "{{ problems }}"
  vars:
    problems: "{{ real_server_nat_gateway | lvs.topology.lvs_real_server_nat_problems(real_server_nat_route_unit, real_server_nat_gateway6) }}"
"""

RETURN = r"""
_value:
  description: One sentence per problem; empty when both can be written.
  type: list
  elements: str
"""

from ansible_collections.lvs.topology.plugins.module_utils._names import ip_address_problem, unit_name_problem


def lvs_real_server_nat_problems(gateway, route_unit, gateway6=""):
    problems = [gateway and ip_address_problem(gateway, "real_server_nat_gateway", version=4),
                gateway6 and ip_address_problem(gateway6, "real_server_nat_gateway6", version=6),
                unit_name_problem(route_unit, "real_server_nat_route_unit")]
    return [problem for problem in problems if problem]


class FilterModule(object):
    def filters(self):
        return {"lvs_real_server_nat_problems": lvs_real_server_nat_problems}
