# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: lvs_keepalived_virtual_servers
author: lvs.topology contributors
version_added: 0.1.0
short_description: Turn lvs_virtual_services into keepalived virtual_server blocks
description:
  - The same services, real servers and RIPs as P(lvs.topology.lvs_ipvs_config#filter), plus
    what keepalived needs to own the table - C(lb_kind) (V(DR), V(NAT), V(TUN); FULLNAT is V(NAT))
    of the service and of each real server (written as the real server's C(lvs_method) where it differs),
    C(delay_loop), the C(health_check) (V(tcp) is C(TCP_CHECK), V(http) C(HTTP_GET), V(misc)
    C(MISC_CHECK), V(none) no checker), C(sorry_server), C(quorum) and C(inhibit_on_failure)
    - read from each service's optional C(keepalived) mapping, defaults filled in.
  - Every value it returns has passed the model's checks (service names, HTTP paths and
    check scripts of safe characters, numbers), so none can add a line to C(keepalived.conf).
  - Requires netaddr on the controller.
extends_documentation_fragment:
  - lvs.topology.virtual_services
  - lvs.topology.virtual_services.inventory
"""

EXAMPLES = r"""
- name: Write keepalived.conf from the data model
  ansible.builtin.template:
    src: keepalived.conf.j2
    dest: /etc/keepalived/keepalived.conf
    mode: "0640"
  vars:
    virtual_servers: "{{ lvs_virtual_services | lvs.topology.lvs_keepalived_virtual_servers(hostvars, groups['directors']) }}"
"""

RETURN = r"""
_value:
  description:
    - One mapping per service - the keys of P(lvs.topology.lvs_ipvs_config#filter) plus C(name),
      C(lb_kind), C(delay_loop), C(health_check) (C(type), C(path), C(status), C(script),
      C(connect_timeout), C(retry), C(delay_before_retry)), C(sorry_server) (C(address), C(port))
      or null, C(quorum) or null, and C(inhibit_on_failure).
    - Each of its C(real_servers) also has C(lb_kind), that of its own forwarding method.
  type: list
  elements: dict
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.lvs.topology.plugins.plugin_utils._topology import TopologyError, keepalived_virtual_servers


def lvs_keepalived_virtual_servers(services, hostvars, directors):
    try:
        return keepalived_virtual_servers(services, hostvars, directors)
    except TopologyError as error:
        raise AnsibleFilterError(str(error))


class FilterModule(object):
    def filters(self):
        return {"lvs_keepalived_virtual_servers": lvs_keepalived_virtual_servers}
