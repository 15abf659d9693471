# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: lvs_topology_problems
author: lvs.topology contributors
version_added: 0.1.0
short_description: List every problem of an lvs_virtual_services model
description:
  - Checks the data model against the gathered facts of the directors and real servers,
    on the controller, before any host changes; returns every problem of every service at
    once, one sentence each, and never fails on a malformed model.
  - The values of each service are checked by the code M(lvs.topology.ipvs_table) runs on the
    director, on the C(config) item the service becomes, so the filter refuses exactly what the
    module would refuse, in the module's sentence - addresses and families, ports, fwmark
    (1-4294967295), protocols, schedulers and the flags each takes, persistence timeout,
    contiguous netmask and engine, weights, thresholds and their order, a real server listed
    twice, DR and TUN port remapping. A real server whose address cannot be told yet (no
    facts) has every other value checked.
  - Adds what only the controller can check - malformed services and unknown keys, service
    names outside C([A-Za-z0-9][A-Za-z0-9_.-]{0,63}), the keepalived options (an absolute HTTP
    C(path) and a C(script) of safe characters, numbers, a boolean, a sorry server that resolves),
    the same name or VIP:port:protocol twice, a VIP used as a RIP, unknown inventory hosts, hosts
    without facts, a TUN service across address families, DR real servers off the directors'
    L2 segment, and NAT real servers that cannot use a DIP as their gateway.
  - Whether the kernel of each director has the scheduler modules is checked on the directors
    by the director role's C(validate) entry point.
  - Requires netaddr on the controller.
extends_documentation_fragment:
  - lvs.topology.virtual_services
  - lvs.topology.virtual_services.inventory
options:
  # Stricter than the shared wording: real servers are checked against facts too.
  hostvars:
    description: The C(hostvars) magic variable; facts of the directors and named real servers must be gathered.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Check the topology before any host changes
  ansible.builtin.assert:
    that: problems | length == 0
    fail_msg: "{{ problems }}"
  vars:
    problems: "{{ lvs_virtual_services | lvs.topology.lvs_topology_problems(hostvars, groups['directors']) }}"
  run_once: true
"""

RETURN = r"""
_value:
  description: One sentence per problem; empty when the model can be deployed.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.lvs.topology.plugins.plugin_utils._topology import TopologyError, require_netaddr, topology_problems


def lvs_topology_problems(services, hostvars, directors):
    try:
        require_netaddr()
    except TopologyError as error:
        raise AnsibleFilterError(str(error))
    return topology_problems(services, hostvars, directors)


class FilterModule(object):
    def filters(self):
        return {"lvs_topology_problems": lvs_topology_problems}
