# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: lvs_keepalived_problems
author: lvs.topology contributors
version_added: 0.1.0
short_description: List every problem of the keepalived role's variables
description:
  - Checks the values the keepalived role writes into C(keepalived.conf), on the controller,
    before any host changes; C(playbooks/validate.yml) and the role itself run it.
  - Each value must be what keepalived reads as one word of its kind, so no value can add a
    line (such as a C(notify_master) script) to the file.
  - C(keepalived_backend) - V(modules) or V(keepalived).
  - C(keepalived_instance_name) - 1 to 64 letters, digits, C(_) and C(-), starting with a letter.
  - C(keepalived_interface), C(keepalived_vip_interface), C(keepalived_sync_interface) and every
    VIP interface - empty (the default) or 1 to 15 characters (the kernel's IFNAMSIZ), letters,
    digits and C(. _ - @), starting with a letter, a digit or C(_).
  - "VIP labels - the interface name alone or followed by C(:) and more letters, digits or
    C(. _ - : @), 15 characters at most."
  - C(keepalived_virtual_router_id) 1-255, C(keepalived_priority) 1-254,
    C(keepalived_preempt_delay) 0-1000, C(keepalived_sync_id) 0-255, all whole numbers;
    C(keepalived_vrrp_version) 2 or 3.
  - C(keepalived_advert_interval) - seconds, 0.01 to 40.95 with at most two decimals with
    VRRPv3, a whole number from 1 to 255 with VRRPv2.
  - C(keepalived_auth_pass) - empty, or 1 to 8 printable ASCII characters without blanks,
    quotes, C(#), C(!), C($), C(\) or braces, with VRRPv2 only; the sentence never shows it.
  - C(keepalived_unicast_peers) - a list of IP addresses, without IPv6 zone ids.
  - "C(inventory_hostname) and C(keepalived_hosts) - 1 to 253 letters, digits and C(. _ - :), starting with a letter, a digit or C(_)."
options:
  _input:
    description:
      - The role's variables by name and C(inventory_hostname), as the role's C(tasks/validate.yml)
        passes them; a variable left out is not checked.
    type: dict
    required: true
  vips:
    description: The VIPs the role writes (C(address), C(prefix), C(interface), C(label)), as P(lvs.topology.lvs_director_vips#filter) gives them.
    type: list
    elements: dict
"""

EXAMPLES = r"""
- name: Check the keepalived variables before keepalived.conf is written
  ansible.builtin.assert:
    that: problems | length == 0
    fail_msg: "{{ problems }}"
  vars:
    problems: >-
      {{ {'keepalived_instance_name': keepalived_instance_name, 'keepalived_priority': keepalived_priority}
         | lvs.topology.lvs_keepalived_problems(_keepalived_vips) }}
"""

RETURN = r"""
_value:
  description: One sentence per problem; empty when every value can be written.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.lvs.topology.plugins.module_utils._keepalived import keepalived_problems


def lvs_keepalived_problems(variables, vips=None):
    if not isinstance(variables, dict):
        raise AnsibleFilterError("lvs_keepalived_problems takes the keepalived variables as a mapping, got %s." % type(variables).__name__)
    return keepalived_problems(variables, vips)


class FilterModule(object):
    def filters(self):
        return {"lvs_keepalived_problems": lvs_keepalived_problems}
