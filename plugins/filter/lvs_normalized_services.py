# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: lvs_normalized_services
author: lvs.topology contributors
version_added: 0.1.0
short_description: lvs_virtual_services with every default of the model filled in
description:
  - The services as the collection reads them - C(protocol), C(scheduler), C(flags) and
    C(forwarding_method) filled in with the model's defaults (the IPVS modules' own, from
    their module_utils), C(vip) written as the modules write addresses, C(port) and C(fwmark)
    as integers, C(flags) in the order ipvsadm prints them, C(persistence) with C(timeout),
    C(netmask) and C(engine), and C(keepalived) with its defaults when given.
  - Each real server's C(forwarding_method) is its effective one - its own when the model gives
    it, else the service's.
  - With O(hostvars) and O(directors), each real server also gets its C(address), the RIP
    P(lvs.topology.lvs_ipvs_config#filter) resolves (the director role's FULLNAT table reads it).
  - Templates and role variables read defaults here instead of restating them.
  - Fails with every problem of the values (the ones M(lvs.topology.ipvs_table) would refuse,
    a name that is not safe, bad keepalived options), so nothing it returns can reach a host
    unchecked. The problems that need the facts of the hosts are
    P(lvs.topology.lvs_topology_problems#filter)'s.
  - Requires netaddr on the controller.
extends_documentation_fragment:
  - lvs.topology.virtual_services
options:
  hostvars:
    description:
      - The C(hostvars) magic variable; given, each real server gets its C(address) from the
        facts of its host, which must be gathered, as with P(lvs.topology.lvs_ipvs_config#filter).
    type: dict
  directors:
    description: Inventory names of the directors, usually C(groups['directors']); read with O(hostvars).
    type: list
    elements: str
"""

EXAMPLES = r"""
- name: The schedulers the model uses, defaults included
  ansible.builtin.debug:
    msg: "{{ lvs_virtual_services | lvs.topology.lvs_normalized_services | map(attribute='scheduler') | unique }}"

- name: The RIP of every real server of the first service
  ansible.builtin.debug:
    msg: "{{ (lvs_virtual_services | lvs.topology.lvs_normalized_services(hostvars, groups['directors']) | first).real_servers | map(attribute='address') }}"
"""

RETURN = r"""
_value:
  description:
    - One mapping per service with C(name), C(vip), C(port) (null for a fwmark service without one),
      C(protocol), C(fwmark) (null but for fwmark services), C(scheduler), C(flags), C(persistence)
      (null for none), C(forwarding_method) (C(fullnat) included), C(keepalived) (null when not given)
      and C(real_servers) (C(host), C(port), C(weight), C(upper_threshold), C(lower_threshold),
      C(forwarding_method), and C(address) with O(hostvars)).
  type: list
  elements: dict
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.lvs.topology.plugins.plugin_utils._topology import TopologyError, normalize_services


def lvs_normalized_services(services, hostvars=None, directors=None):
    try:
        return normalize_services(services, hostvars, directors)
    except TopologyError as error:
        raise AnsibleFilterError(str(error))


class FilterModule(object):
    def filters(self):
        return {"lvs_normalized_services": lvs_normalized_services}
