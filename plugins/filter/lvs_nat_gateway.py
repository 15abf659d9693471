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
  - The address of the first director that shares a subnet with the real server's RIP.
  - Returns C(None) when the host serves no NAT service. Requires netaddr on the controller.
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
"""

EXAMPLES = r"""
- name: Show the gateway of this NAT real server
  ansible.builtin.debug:
    msg: "{{ lvs_virtual_services | lvs.topology.lvs_nat_gateway(hostvars, groups['directors'], inventory_hostname, ansible_facts.all_ipv4_addresses) }}"
"""

RETURN = r"""
_value:
  description: The DIP, or C(None).
  type: str
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.lvs.topology.plugins.plugin_utils._topology import TopologyError, nat_gateway


def lvs_nat_gateway(services, hostvars, directors, inventory_hostname, addresses):
    try:
        return nat_gateway(services, hostvars, directors, inventory_hostname, addresses)
    except TopologyError as error:
        raise AnsibleFilterError(str(error))


class FilterModule(object):
    def filters(self):
        return {"lvs_nat_gateway": lvs_nat_gateway}
