#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: ipvs_real_server
short_description: Manage one real server of an IPVS virtual service (ipvsadm -a/-e/-d), or drain it
version_added: 0.1.0
description:
  - Makes one real server of an existing virtual service what the task declares, as C(ipvsadm -a),
    C(-e) and C(-d) do, idempotently. Options left unset take ipvsadm's defaults (V(dr), weight 1,
    no thresholds), so the task describes the whole real server.
  - O(state=drained) sets weight 0 and keeps the other live settings - existing connections finish,
    no new ones arrive - and with O(drain_timeout) waits for the active connections to end.
  - The service itself is managed by M(lvs.topology.ipvs_service); this module refuses to create it.
author:
  - lvs.topology contributors (@lvs-topology)
extends_documentation_fragment:
  - lvs.topology.ipvs
  - lvs.topology.ipvs.real_server
  - lvs.topology.host_lock
options:
  virtual_service:
    description:
      - The service the real server belongs to, by its identity - the keys C(protocol), C(address),
        C(port), C(fwmark) and C(family), exactly as documented for M(lvs.topology.ipvs_service).
    type: dict
    required: true
  state:
    description:
      - V(present) adds or edits the real server, V(absent) removes it (C(ipvsadm -d)),
        V(drained) sets its weight to 0 (adding it with weight 0 if it is missing).
    type: str
    choices: [present, absent, drained]
    default: present
  drain_timeout:
    description:
      - With O(state=drained), wait up to this many seconds for the real server's ActiveConn to
        reach 0, checking every second, and report what remained in RV(active_connections).
        The task does not fail when connections remain. V(0) does not wait.
      - The host lock is released before this wait, once the weight is 0, so other runs on the
        host go ahead while the connections end.
    type: int
    default: 0
seealso:
  - module: lvs.topology.ipvs_service
  - module: lvs.topology.ipvs_table
"""

EXAMPLES = r"""
- name: Add a DR real server with weight 1 (ipvsadm -a -t 192.0.2.100:80 -r 192.0.2.11:80 -g -w 1)
  lvs.topology.ipvs_real_server:
    virtual_service:
      address: 192.0.2.100
      port: 80
    address: 192.0.2.11
    weight: 1

- name: Switch it to NAT with weight 2 in place (ipvsadm -e ... -m -w 2)
  lvs.topology.ipvs_real_server:
    virtual_service:
      address: 192.0.2.100
      port: 80
    address: 192.0.2.11
    forwarding_method: nat
    weight: 2

- name: A GUE tunnel real server of an IPv6 fwmark service
  lvs.topology.ipvs_real_server:
    virtual_service:
      protocol: fwmark
      fwmark: 7
      family: ipv6
    address: 2001:db8:1::11
    forwarding_method: tun
    tunnel_type: gue
    tunnel_port: 6080
    tunnel_checksum: csum

- name: Drain a real server before maintenance, waiting up to two minutes
  lvs.topology.ipvs_real_server:
    virtual_service:
      address: 192.0.2.100
      port: 80
    address: 192.0.2.11
    state: drained
    drain_timeout: 120
  register: drain

- name: Remove it (ipvsadm -d)
  lvs.topology.ipvs_real_server:
    virtual_service:
      address: 192.0.2.100
      port: 80
    address: 192.0.2.11
    state: absent
"""

RETURN = r"""
commands:
  description: The save-format lines that ran (or would run in check mode); empty when nothing changed.
  returned: always
  type: list
  elements: str
  sample:
    - -e -t 192.0.2.100:80 -r 192.0.2.11:80 -m -w 2
diff:
  description: The service's save-format lines before and after.
  returned: when diff mode is on
  type: dict
active_connections:
  description: ActiveConn of the real server when the task ended (after waiting for O(drain_timeout)).
  returned: when O(state=drained)
  type: int
  sample: 0
inactive_connections:
  description: InActConn of the real server when the task ended.
  returned: when O(state=drained)
  type: int
  sample: 3
drained:
  description: Whether no active connection remained.
  returned: when O(state=drained)
  type: bool
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

from collections import OrderedDict

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.lvs.topology.plugins.module_utils._lock import hold_host_lock, lock_argument_spec
from ansible_collections.lvs.topology.plugins.module_utils.ipvs.host import run_table_change, wait_for_drain
from ansible_collections.lvs.topology.plugins.module_utils.ipvs.model import DesiredService, IpvsInputError, normalise_address, real_server_key
from ansible_collections.lvs.topology.plugins.module_utils.ipvs.values import (
    MAX_PORT, checked_int, real_server_from_params, real_server_module_spec, validated_identity, virtual_service_from_params,
)


def build_module():
    spec, rules = real_server_module_spec()
    return AnsibleModule(argument_spec=dict(spec, **lock_argument_spec()), supports_check_mode=True, **rules)


def desired_real_server(params, have):
    """The DesiredService for this task, or None when there is nothing to remove."""
    service = virtual_service_from_params(validated_identity(params["virtual_service"], "virtual_service"))
    state = params["state"]
    address, dummy = normalise_address(params["address"], "Real server address")
    port = params["port"]
    port = service.default_real_server_port() if port is None else checked_int(port, "Real server port", 0, MAX_PORT)
    entry = have.get(service)
    if entry is None:
        if state == "absent":
            return None
        raise IpvsInputError("Virtual service %s does not exist; create it first with lvs.topology.ipvs_service." % service.label())
    if checked_int(params["drain_timeout"], "drain_timeout", 0, 86400) and state != "drained":
        raise IpvsInputError("drain_timeout applies only with state drained.")
    if state == "absent":
        return DesiredService(service, absent_real_servers=[(address, port)])
    base = entry.real_servers.get((address, port)) if state == "drained" else None
    real_server = real_server_from_params(service, params, base, 0 if state == "drained" else None)
    return DesiredService(service, real_servers=OrderedDict([(real_server_key(real_server), real_server)]))


def plan_real_server(params, have):
    desired = desired_real_server(params, have)
    return ([desired] if desired else []), []


def drain_report(lock):
    """The report step: the lock's part of the result and, with state=drained, wait for the
    active connections to end and report what remained."""
    def report(host, have, desired, absent, result, operations):
        module = host.module
        result.update(lock.returned())
        if module.params["state"] != "drained":
            return
        service, key = desired[0].service, list(desired[0].real_servers)[0]
        if module.check_mode:
            counts = host.real_server_connections(service, key) if service in have else None
        else:
            # The weight is 0 now and waiting only reads the connection counters, for up to
            # drain_timeout: other runs on this host need not wait for the connections too.
            lock.release()
            counts = wait_for_drain(host, service, key, module.params["drain_timeout"])
        active, inactive = counts or (0, 0)
        result.update(active_connections=active, inactive_connections=inactive, drained=active == 0)
    return report


def main():
    module = build_module()
    # Held from before the table is read until the process exits after exit_json, or, with
    # state=drained, until the weight is 0 and the wait for connections begins.
    lock = hold_host_lock(module)
    run_table_change(module, plan_real_server, report=drain_report(lock))


if __name__ == "__main__":
    main()
