#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: ipvs_counters
short_description: Zero the IPVS packet, byte and connection counters (ipvsadm -Z)
version_added: 0.1.0
description:
  - Zeroes the counters of one virtual service and its real servers, or of every service and the
    kernel's totals (C(/proc/net/ip_vs_stats)), as C(ipvsadm -Z) does, and returns the counters it
    read just before (C(ipvsadm -Ln --stats --exact)), so nothing counted is lost unseen.
  - The service is selected with the options of M(lvs.topology.ipvs_service) (O(protocol), O(address),
    O(port), O(fwmark), O(family)); with none of them every service is zeroed. A selected service
    that is not in the table fails the task, and nothing is zeroed.
  - Zeroing is an action, not a state - the counters start moving again with the next packet - so
    the task reports changed every time it zeroes, in check mode too (where it runs nothing). It
    reports not changed only when the kernel has no IPVS table loaded and there is nothing to zero;
    it never loads C(ip_vs).
  - The rates (C(ipvsadm -Ln --rate)) are zeroed with the counters.
  - The counters are not live. The kernel counts per CPU, and only its rate estimator, once every 2
    seconds, adds those counts into the figures C(ipvsadm) reads and C(ipvsadm -Z) zeroes (Linux 6.1,
    C(ip_vs_est.c); C(ip_vs_zero_stats) in C(ip_vs_ctl.c) takes the added-up figures as the new zero).
    So RV(counters) misses up to the last 2 seconds of traffic, and that traffic shows up after the
    zeroing, counted as if it came after it - more than 2 seconds of it on a loaded or emulated host,
    which runs the estimator late.
author:
  - lvs.topology contributors (@lvs-topology)
extends_documentation_fragment:
  - lvs.topology.ipvs.service_selector
  - lvs.topology.ipvs.service_address
  - lvs.topology.host_lock
attributes:
  check_mode:
    support: full
    description: Reads the counters and reports changed; runs no C(ipvsadm -Z).
  diff_mode:
    support: none
    description: Counters are not configuration; RV(counters) holds what was zeroed.
options:
  state:
    description:
      - V(zeroed) zeroes the counters (C(ipvsadm -Z)).
    type: str
    choices: [zeroed]
    default: zeroed
notes:
  - Needs C(ipvsadm) on the managed host.
seealso:
  - module: lvs.topology.ipvs_info
  - module: lvs.topology.ipvs_service
"""

EXAMPLES = r"""
- name: Zero the counters of one service and its real servers (ipvsadm -Z -t 192.0.2.100:80)
  lvs.topology.ipvs_counters:
    address: 192.0.2.100
    port: 80
  register: zeroed

- name: Show what the service had counted
  ansible.builtin.debug:
    msg: "{{ zeroed.counters[0].stats.connections }} connections"

- name: Zero a firewall-mark service
  lvs.topology.ipvs_counters:
    protocol: fwmark
    fwmark: 10

- name: Zero every service and the totals (ipvsadm -Z)
  lvs.topology.ipvs_counters:
"""

RETURN = r"""
counters:
  description:
    - The counters of each zeroed service and its real servers, read just before the zeroing
      (C(ipvsadm -Ln --stats --exact)); up to the last 2 seconds of traffic are not in them yet.
    - Each service is named as in M(lvs.topology.ipvs_info) (C(protocol) with C(address) and C(port), or
      C(fwmark) and C(family)), with C(stats) and C(real_servers), each real server with C(address),
      C(port) and C(stats).
  returned: always
  type: list
  elements: dict
  sample:
    - protocol: tcp
      address: 192.0.2.100
      port: 80
      stats: {connections: 12, packets_in: 80, packets_out: 0, bytes_in: 5100, bytes_out: 0}
      real_servers:
        - address: 192.0.2.11
          port: 80
          stats: {connections: 12, packets_in: 80, packets_out: 0, bytes_in: 5100, bytes_out: 0}
commands:
  description: The ipvsadm arguments that ran (or would run in check mode); empty when there was nothing to zero.
  returned: always
  type: list
  elements: str
  sample: ["-Z -t 192.0.2.100:80"]
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
from ansible_collections.lvs.topology.plugins.module_utils.ipvs.host import IpvsHost
from ansible_collections.lvs.topology.plugins.module_utils.ipvs.listing import STATS_FIELDS, listed_counters
from ansible_collections.lvs.topology.plugins.module_utils.ipvs.model import (
    IpvsInputError, IpvsParseError, service_identity_config,
)
from ansible_collections.lvs.topology.plugins.module_utils.ipvs.values import (
    PROTOCOLS, SERVICE_IDENTITY_RULES, SERVICE_IDENTITY_SPEC, virtual_service_from_params,
)

# The service identity of ipvs_service, without its default protocol: no selector means every service.
SELECTOR_OPTIONS = ("protocol", "address", "port", "fwmark")


def build_module():
    return AnsibleModule(
        argument_spec=dict(
            SERVICE_IDENTITY_SPEC,
            protocol=dict(type="str", choices=list(PROTOCOLS)),
            state=dict(type="str", default="zeroed", choices=["zeroed"]),
            **lock_argument_spec()
        ),
        required_by=dict(address=("port",), port=("address",)),
        supports_check_mode=True,
        **SERVICE_IDENTITY_RULES
    )


def selected_service(module):
    """The VirtualService the task selects, or None for every service; checked before the host is read."""
    params = module.params
    if not any(params[name] is not None for name in SELECTOR_OPTIONS):
        if params["family"] is not None:
            module.fail_json(msg="family selects no service on its own; give protocol fwmark and fwmark with it, "
                                 "or leave it out to zero every service.")
        return None
    try:
        return virtual_service_from_params(params)
    except IpvsInputError as error:
        module.fail_json(msg=str(error))


def zeroed_counters(service, listed):
    """One service's entry of the counters result, from its -Ln --stats --exact lines."""
    stats, per_server = listed_counters(listed, STATS_FIELDS, "a --stats line")
    entry = service_identity_config(service)
    entry["stats"] = stats
    entry["real_servers"] = [OrderedDict([("address", address), ("port", port), ("stats", values)])
                             for (address, port), values in per_server.items()]
    return entry


def main():
    module = build_module()
    service = selected_service(module)
    # Held from before the counters are read until the process exits after exit_json.
    lock = hold_host_lock(module)
    host = IpvsHost(module)
    if not host.ipvs_present():
        # ipvsadm -Z would load ip_vs only to zero counters that cannot exist yet.
        if service is not None:
            module.fail_json(msg="%s is not in the IPVS table (ip_vs is not loaded); nothing was zeroed." % service.label())
        result = dict(changed=False, counters=[], commands=[])
        result.update(lock.returned())
        module.exit_json(**result)

    listing = host.listing("--stats", "--exact")
    if service is not None and service not in listing.services:
        module.fail_json(msg="%s is not in the IPVS table; nothing was zeroed." % service.label())
    try:
        counted = [zeroed_counters(listed_service, listing.services[listed_service])
                   for listed_service in ([service] if service is not None else listing.services)]
    except IpvsParseError as error:
        module.fail_json(msg="Cannot read the output of ipvsadm -Ln --stats --exact: %s." % error)
    arguments = ["-Z"] + (service.words() if service is not None else [])
    if not module.check_mode:
        host.ipvsadm_output(*arguments)
    result = dict(changed=True, counters=counted, commands=[" ".join(arguments)])
    result.update(lock.returned())
    module.exit_json(**result)


if __name__ == "__main__":
    main()
