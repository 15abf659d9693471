# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: lvs_real_server_entries
author: lvs.topology contributors
version_added: 0.1.0
short_description: Every virtual service entry of one real server, ready for lvs.topology.ipvs_real_server
description:
  - Finds the services of lvs_virtual_services that name the real server (by inventory name or
    by one of its addresses) and returns, for each, the service identity and the resolved real
    server - what the drain, enable and rolling maintenance playbooks hand to
    M(lvs.topology.ipvs_real_server).
  - Requires netaddr on the controller.
extends_documentation_fragment:
  - lvs.topology.virtual_services
  - lvs.topology.virtual_services.inventory
options:
  host:
    description: The real server, as an inventory name or an address.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Drain web02 on this director
  lvs.topology.ipvs_real_server:
    virtual_service: "{{ item.virtual_service }}"
    address: "{{ item.address }}"
    port: "{{ item.port }}"
    forwarding_method: "{{ item.forwarding_method }}"
    state: drained
  loop: "{{ lvs_virtual_services | lvs.topology.lvs_real_server_entries(hostvars, groups['directors'], 'web02') }}"
"""

RETURN = r"""
_value:
  description:
    - One mapping per service the host serves - C(service) (its name), C(virtual_service) (C(protocol),
      C(address), C(port) or C(fwmark), C(family)) and the real server's C(address), C(port),
      C(forwarding_method) (the kernel's, of this real server - its own, else the service's), C(weight) and
      thresholds as P(lvs.topology.lvs_ipvs_config#filter) resolves them.
  type: list
  elements: dict
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.lvs.topology.plugins.plugin_utils._topology import TopologyError, real_server_entries


def lvs_real_server_entries(services, hostvars, directors, host):
    try:
        return real_server_entries(services, hostvars, directors, host)
    except TopologyError as error:
        raise AnsibleFilterError(str(error))


class FilterModule(object):
    def filters(self):
        return {"lvs_real_server_entries": lvs_real_server_entries}
