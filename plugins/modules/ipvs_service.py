#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: ipvs_service
short_description: Manage one IPVS virtual service (ipvsadm -A/-E/-D), optionally with its whole pool
version_added: 0.1.0
description:
  - Makes one virtual service of the kernel's IPVS table what the task declares, as
    C(ipvsadm -A), C(-E) and C(-D) do, idempotently.
  - Options left unset take ipvsadm's defaults (scheduler V(wlc), no persistence, no flags), so a
    task describes the whole service; a service that differs is edited in place with C(-E).
  - With O(real_servers) the same task manages the service's pool; every item takes the options of
    M(lvs.topology.ipvs_real_server) (without O(lvs.topology.ipvs_real_server#module:virtual_service)).
author:
  - lvs.topology contributors (@lvs-topology)
extends_documentation_fragment:
  - lvs.topology.ipvs
  - lvs.topology.ipvs.service_identity
  - lvs.topology.ipvs.service_address
  - lvs.topology.ipvs.service_settings
  - lvs.topology.host_lock
options:
  state:
    description:
      - V(present) creates or edits the service, V(absent) deletes it with all its real servers (C(ipvsadm -D)).
    type: str
    choices: [present, absent]
    default: present
  real_servers:
    description:
      - The service's real servers. Each item takes C(address) (required), C(port), C(forwarding_method),
        C(weight), C(upper_threshold), C(lower_threshold), C(tunnel_type), C(tunnel_port),
        C(tunnel_checksum) exactly as documented for M(lvs.topology.ipvs_real_server), and C(state)
        (V(present), V(absent) or V(drained), which sets weight 0 and keeps the other live settings).
      - A real server listed twice is refused. Unset means the pool is not managed by this task.
    type: list
    elements: dict
  purge_real_servers:
    description:
      - Remove the real servers of the service that O(real_servers) does not list.
      - Default is V(true) when O(real_servers) is given, so the list is the whole pool.
    type: bool
seealso:
  - module: lvs.topology.ipvs_real_server
  - module: lvs.topology.ipvs_table
  - module: lvs.topology.ipvs_info
"""

EXAMPLES = r"""
- name: Create a persistent wrr web service (ipvsadm -A -t 192.0.2.100:80 -s wrr -p 20)
  lvs.topology.ipvs_service:
    address: 192.0.2.100
    port: 80
    scheduler: wrr
    persistence_timeout: 20

- name: Switch it to wlc in place, keeping its connections (ipvsadm -E)
  lvs.topology.ipvs_service:
    address: 192.0.2.100
    port: 80
    scheduler: wlc
    persistence_timeout: 20

- name: A NAT service and its whole pool in one task
  lvs.topology.ipvs_service:
    address: 192.0.2.100
    port: 443
    scheduler: rr
    real_servers:
      - address: 198.51.100.11
        forwarding_method: nat
        port: 8443
      - address: 198.51.100.12
        forwarding_method: nat
        port: 8443
        weight: 2

- name: Source hashing with port hashing and fallback
  lvs.topology.ipvs_service:
    protocol: udp
    address: 2001:db8::100
    port: 53
    scheduler: sh
    scheduler_flags: [sh-fallback, sh-port]

- name: A firewall-mark service persistent per /24 of clients
  lvs.topology.ipvs_service:
    protocol: fwmark
    fwmark: 10
    persistence_timeout: 600
    persistence_netmask: 255.255.255.0

- name: Delete a service and its real servers
  lvs.topology.ipvs_service:
    address: 192.0.2.100
    port: 80
    state: absent
"""

RETURN = r"""
commands:
  description: The save-format lines that ran (or would run in check mode), in order; empty when nothing changed.
  returned: always
  type: list
  elements: str
  sample:
    - -A -t 192.0.2.100:80 -s wrr -p 20
    - -a -t 192.0.2.100:80 -r 198.51.100.11:80 -g -w 1
diff:
  description: The service's save-format lines before and after.
  returned: when diff mode is on
  type: dict
  sample:
    before: ""
    after: "-A -t 192.0.2.100:80 -s wrr -p 20\n"
lock_waited:
  description:
    - Seconds this run waited for the host lock while another run held it; V(0) when it did not wait.
  returned: always
  type: float
  sample: 12.75
lock_holder:
  description:
    - The run this one waited for, as it wrote itself into the lock file - the last one when several
      held the lock in turn; null when none had written itself yet.
  returned: when the run waited for the host lock, and when it failed waiting
  type: dict
  contains:
    module:
      description: The module that held the lock, as Ansible named it to the module.
      returned: always
      type: str
      sample: lvs.topology.ipvs_table
    pid:
      description: Its process id on the host.
      returned: always
      type: int
      sample: 4242
    user:
      description: Who ran it - the user C(sudo) became root for, else the user it ran as.
      returned: always
      type: str
      sample: jenkins
    since:
      description: When it took the lock, in UTC.
      returned: always
      type: str
      sample: "2024-05-01T12:00:03Z"
    log_info:
      description: Its C(ansible_target_log_info).
      returned: when that was set
      type: str
      sample: site.yml, Jenkins build 118
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.lvs.topology.plugins.module_utils._lock import hold_host_lock, lock_argument_spec
from ansible_collections.lvs.topology.plugins.module_utils.ipvs.host import run_table_change
from ansible_collections.lvs.topology.plugins.module_utils.ipvs.values import (
    desired_service_from_params, service_module_spec, virtual_service_from_params,
)


def build_module():
    spec, rules = service_module_spec()
    return AnsibleModule(argument_spec=dict(spec, **lock_argument_spec()), supports_check_mode=True, **rules)


def plan_service(params, have):
    """The service as the task declares it, or the service to delete."""
    service = virtual_service_from_params(params)
    if params["state"] == "absent":
        return [], [service]
    return [desired_service_from_params(params, have, where="")], []


def main():
    module = build_module()
    # Held from before the table is read until the process exits after exit_json.
    lock = hold_host_lock(module)

    def report(host, have, desired, absent, result, operations):
        result.update(lock.returned())
    run_table_change(module, plan_service, report=report)


if __name__ == "__main__":
    main()
