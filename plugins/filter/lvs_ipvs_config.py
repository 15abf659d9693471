# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: lvs_ipvs_config
author: lvs.topology contributors
version_added: 0.1.0
short_description: Turn lvs_virtual_services into the config of lvs.topology.ipvs_table
description:
  - Fills the model's defaults, resolves each real server (inventory name or address) to
    its RIP and maps the forwarding method of each real server (its own, else the service's)
    to the kernel's (C(fullnat) is IPVS masquerading), as C(ipvsadm -a ... -g|-i|-m) takes one
    per real server.
  - Each item is built by the code M(lvs.topology.ipvs_table) runs and returned as it reads it -
    integers, addresses as the module writes them, scheduler flags in ipvsadm's order - with the
    options the model sets. Fails with the first problem of a service (every problem of the
    values when no RIP is needed to see it); P(lvs.topology.lvs_topology_problems#filter) lists them all.
  - A real server named by inventory name gets its address on a director's segment, else its
    default address, from its gathered facts. Requires netaddr on the controller.
options:
  as_json:
    description:
      - Return the config as JSON text, ready for the C(config) option, instead of a list.
      - Faster for big tables than piping the list through C(to_json), which copies every
        value of the list Ansible hands it; the director role passes the table this way.
    type: bool
    default: false
extends_documentation_fragment:
  - lvs.topology.virtual_services
  - lvs.topology.virtual_services.inventory
"""

EXAMPLES = r"""
- name: Program the IPVS table from the data model
  lvs.topology.ipvs_table:
    config: "{{ lvs_virtual_services | lvs.topology.lvs_ipvs_config(hostvars, groups['directors']) }}"
    state: overridden

- name: The same, the config as JSON text (what the director role does, for big tables)
  lvs.topology.ipvs_table:
    config: "{{ lvs_virtual_services | lvs.topology.lvs_ipvs_config(hostvars, groups['directors'], as_json=true) }}"
    state: overridden
"""

RETURN = r"""
_value:
  description:
    - The services in the shape of the C(config) option of lvs.topology.ipvs_table.
    - JSON text of that list when O(as_json=true).
  type: raw
"""

import json

from ansible.errors import AnsibleFilterError
from ansible_collections.lvs.topology.plugins.plugin_utils._topology import TopologyError, ipvs_config


def lvs_ipvs_config(services, hostvars, directors, as_json=False):
    try:
        config = ipvs_config(services, hostvars, directors)
    except TopologyError as error:
        raise AnsibleFilterError(str(error))
    # The list holds only str, int and list values: the standard encoder takes it as is,
    # where to_json would first copy each of its dicts out of Ansible's lazy containers.
    return json.dumps(config) if as_json else config


class FilterModule(object):
    def filters(self):
        return {"lvs_ipvs_config": lvs_ipvs_config}
