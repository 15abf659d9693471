# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: lvs_nat_gateway
author: lvs.topology contributors
version_added: 0.1.0
short_description: The DIP a NAT real server routes its replies through
description:
  - The address of the first director that shares a subnet with the real server's RIP, in the
    first service of the address family O(family) that forwards to this host by NAT (the real
    server's own C(forwarding_method), else the service's).
  - Returns C(None) when no service of that family forwards to the host by NAT. Requires netaddr
    on the controller.
extends_documentation_fragment:
  - lvs.topology.virtual_services
  - lvs.topology.virtual_services.inventory
options:
  inventory_hostname:
    description: The real server's inventory name.
    type: str
    required: true
  addresses:
    description: The real server's addresses.
    type: list
    elements: str
    required: true
  family:
    description:
      - The address family of the gateway, V(4) or V(6). NAT keeps the VIP's family, so V(6)
        reads the services with an IPv6 VIP and returns the director's IPv6 address on the real
        server's IPv6 subnet, for its IPv6 default route.
    type: int
    choices: [4, 6]
    default: 4
"""

EXAMPLES = r"""
- name: Show the gateway of this NAT real server
  ansible.builtin.debug:
    msg: "{{ lvs_virtual_services | lvs.topology.lvs_nat_gateway(hostvars, groups['directors'], inventory_hostname, ansible_facts.all_ipv4_addresses) }}"

- name: Show the IPv6 gateway of this NAT real server
  ansible.builtin.debug:
    msg: >-
      {{ lvs_virtual_services | lvs.topology.lvs_nat_gateway(hostvars, groups['directors'], inventory_hostname,
                                                             ansible_facts.all_ipv4_addresses + ansible_facts.all_ipv6_addresses, family=6) }}
"""

RETURN = r"""
_value:
  description: The DIP of that family, or C(None).
  type: str
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.lvs.topology.plugins.plugin_utils._topology import TopologyError, nat_gateway


def lvs_nat_gateway(services, hostvars, directors, inventory_hostname, addresses, family=4):
    try:
        return nat_gateway(services, hostvars, directors, inventory_hostname, addresses, family)
    except TopologyError as error:
        raise AnsibleFilterError(str(error))


class FilterModule(object):
    def filters(self):
        return {"lvs_nat_gateway": lvs_nat_gateway}
