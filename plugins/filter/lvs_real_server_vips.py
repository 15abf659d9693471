# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: lvs_real_server_vips
author: lvs.topology contributors
version_added: 0.1.0
short_description: The VIPs a real server must accept, read from lvs_virtual_services
description:
  - A real server serves a service when one of the service's C(real_servers[].host) is its
    inventory name or one of its addresses. Requires netaddr on the controller.
  - The forwarding method that counts is that of the real-server entry (the service's unless the
    entry sets its own), so a host that is DR in one service and TUN in another gets the VIPs of
    the first with V(dr) and those of the second with V(tun).
extends_documentation_fragment:
  - lvs.topology.virtual_services
options:
  inventory_hostname:
    description: The host's inventory name.
    type: str
    required: true
  addresses:
    description: The host's addresses, usually C(ansible_facts.all_ipv4_addresses + ansible_facts.all_ipv6_addresses).
    type: list
    elements: str
    required: true
  forwarding_methods:
    description: Only the services that forward to this host by one of these methods count.
    type: list
    elements: str
    required: true
"""

EXAMPLES = r"""
- name: Show the VIPs this DR real server binds on lo
  ansible.builtin.debug:
    msg: "{{ lvs_virtual_services | lvs.topology.lvs_real_server_vips(inventory_hostname, ansible_facts.all_ipv4_addresses, ['dr']) }}"
"""

RETURN = r"""
_value:
  description: The VIPs, sorted, each once.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.lvs.topology.plugins.plugin_utils._topology import TopologyError, real_server_vips


def lvs_real_server_vips(services, inventory_hostname, addresses, forwarding_methods):
    try:
        return real_server_vips(services, inventory_hostname, addresses, forwarding_methods)
    except TopologyError as error:
        raise AnsibleFilterError(str(error))


class FilterModule(object):
    def filters(self):
        return {"lvs_real_server_vips": lvs_real_server_vips}
