# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: lvs_director_problems
author: lvs.topology contributors
version_added: 0.1.0
short_description: List every problem of the director role's variables, VIP labels and an empty model
description:
  - Checks the values the director role writes into its systemd units, C(modules-load.d), the
    C(modprobe) command and the FULLNAT nftables table, on the controller, before any host
    changes; C(playbooks/validate.yml) and the role itself run it (the role's C(tasks/validate.yml)).
  - "C(director_rules_file) and C(director_fullnat_nft_file) - absolute paths of letters, digits
    and C(. _ + -), segments separated by one C(/), none of them C(.) or C(..) (no blank, quote,
    C(%) or newline: they are written into unit lines)."
  - C(director_restore_unit) and C(director_fullnat_unit) - 1 to 255 letters, digits and
    C(. _ - :), starting with a letter, a digit or C(_) and ending in C(.service).
  - C(director_fullnat_snat_address) - empty (masquerade) or an IP address, without an IPv6 zone id.
  - C(director_extra_kernel_modules) - a list of kernel module names, each 1 to 55 lowercase
    letters, digits, C(_) and C(-), not starting with C(-).
  - C(director_vip_interface) and every VIP interface - empty (the default) or 1 to 15 characters
    (the kernel's IFNAMSIZ), letters, digits and C(. _ - @), starting with a letter, a digit or C(_).
  - "VIP labels - the interface name alone or followed by C(:) and more letters, digits or
    C(. _ - : @), 15 characters at most: a long NIC name, or many VIPs on a NIC with a long name,
    makes labels (C(eth0:0), C(eth0:1), ...) the kernel refuses."
  - C(lvs_virtual_services) - not empty (nor null) unless C(director_allow_empty_table) is C(true), since
    with C(director_backend=modules) (the default when left out) and C(director_table_state=overridden)
    the role would delete every service of the director's IPVS table, and with C(director_backend=keepalived)
    keepalived would.
    Checked when C(lvs_virtual_services) and C(director_table_state) are both given.
options:
  _input:
    description:
      - The role's variables by name, as the role's C(tasks/validate.yml) passes them; a variable
        left out is not checked. C(director_allow_empty_table) is a boolean (the role passes it
        through the C(bool) filter); anything but C(true) refuses an empty model.
    type: dict
    required: true
  vips:
    description: The VIPs the role puts on the director (C(address), C(prefix), C(interface), C(label)), as P(lvs.topology.lvs_director_vips#filter) gives them.
    type: list
    elements: dict
"""

EXAMPLES = r"""
- name: Check the director variables and VIP labels before any file is written
  ansible.builtin.assert:
    that: problems | length == 0
    fail_msg: "{{ problems }}"
  vars:
    problems: >-
      {{ {'director_rules_file': director_rules_file, 'director_extra_kernel_modules': director_extra_kernel_modules}
         | lvs.topology.lvs_director_problems(lvs_virtual_services | lvs.topology.lvs_director_vips(ansible_facts)) }}
"""

RETURN = r"""
_value:
  description: One sentence per problem; empty when every value can be written.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.lvs.topology.plugins.module_utils._director import director_problems


def lvs_director_problems(variables, vips=None):
    if not isinstance(variables, dict):
        raise AnsibleFilterError("lvs_director_problems takes the director variables as a mapping, got %s." % type(variables).__name__)
    return director_problems(variables, vips)


class FilterModule(object):
    def filters(self):
        return {"lvs_director_problems": lvs_director_problems}
