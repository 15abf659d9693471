# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: lvs_director_vips
author: lvs.topology contributors
version_added: 0.1.0
short_description: Where a director carries each VIP of lvs_virtual_services
description:
  - Each VIP goes on the interface whose subnet holds it (the client-facing one), else on
    the given interface, else on the interface of the default route.
  - IPv4 VIPs get an C(eth0:N) label, as C(ip addr add VIP dev eth0 label eth0:0) does.
  - Requires netaddr on the controller.
extends_documentation_fragment:
  - lvs.topology.virtual_services
options:
  facts:
    description: The director's C(ansible_facts) (network subset).
    type: dict
    required: true
  interface:
    description: Interface for VIPs outside every subnet of the director.
    type: str
    required: false
"""

EXAMPLES = r"""
- name: Show where the VIPs go on this director
  ansible.builtin.debug:
    msg: "{{ lvs_virtual_services | lvs.topology.lvs_director_vips(ansible_facts) }}"
"""

RETURN = r"""
_value:
  description: One entry per VIP with C(address), C(prefix) (32 or 128), C(interface) and C(label) (None for IPv6).
  type: list
  elements: dict
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.lvs.topology.plugins.plugin_utils._topology import TopologyError, director_vips


def lvs_director_vips(services, facts, interface=None):
    try:
        return director_vips(services, facts, interface or None)
    except TopologyError as error:
        raise AnsibleFilterError(str(error))


class FilterModule(object):
    def filters(self):
        return {"lvs_director_vips": lvs_director_vips}
