#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: ipvs_info
short_description: Read the IPVS table, its counters, rates, connections, timeouts and sync daemons
version_added: 0.1.0
description:
  - Returns the services and real servers of the kernel's IPVS table in the shape of
    O(lvs.topology.ipvs_table#module:config), each with its counters (C(ipvsadm -Ln --stats --exact)) and rates
    (C(--rate --exact)); real servers also with ActiveConn and InActConn (C(--thresholds)).
  - Also the IPVS timeouts (C(ipvsadm -L --timeout)), the connection-sync daemons (C(--daemon))
    and, on request, the connection entries (C(ipvsadm -Lcn)).
  - Changes nothing; when the kernel has no IPVS table loaded it loads nothing and says so in RV(ipvs_loaded).
  - Live, as the kernel holds them at the moment of the call - the table itself, C(active_connections) and
    C(inactive_connections) of every real server, RV(connections) and RV(connection_count).
  - Not live - the counters C(stats) (connections, packets and bytes in and out, as C(ipvsadm -L --stats) and
    C(/proc/net/ip_vs_stats) show them) and the rates C(rates). The kernel counts per CPU, and only its rate
    estimator, once every 2 seconds, adds those counts up into the figures C(ipvsadm) and this module read
    (Linux 6.1, C(estimation_timer) in C(net/netfilter/ipvs/ip_vs_est.c)). So a read misses up to the last
    2 seconds of traffic, and more when a loaded or emulated host runs that timer late.
  - The rates lag further - at each 2 second update the estimator moves them only a quarter of the way towards
    the rate of those 2 seconds, so after a change in traffic they take about 8 updates (16 seconds) to come
    within 10 % of the new rate.
  - To check that traffic was counted, repeat the read (C(until), C(retries), C(delay)) until the counters reach
    at least what was sent, with a timeout generous for a slow host (a minute or two); two reads that agree
    prove nothing, as the estimator may simply not have run between them.
author:
  - lvs.topology contributors (@lvs-topology)
attributes:
  check_mode:
    support: full
    description: The module changes nothing, so it runs the same in check mode.
  diff_mode:
    support: none
    description: Nothing changes, so there is nothing to diff.
options:
  connections:
    description:
      - Also return the connection entries of C(ipvsadm -Lcn) in RV(connections).
    type: bool
    default: false
  connection_limit:
    description:
      - Return at most this many connection entries; RV(connection_count) still counts them all.
    type: int
    default: 100
notes:
  - Needs C(ipvsadm) on the managed host.
seealso:
  - module: lvs.topology.ipvs_table
"""

EXAMPLES = r"""
- name: Read the IPVS table with counters
  lvs.topology.ipvs_info:
  register: ipvs

- name: Show how many connections each real server has
  ansible.builtin.debug:
    msg: "{{ item.address }}: {{ item.active_connections }} active"
  loop: "{{ ipvs.services | map(attribute='real_servers') | flatten }}"

- name: Also fetch the first 20 connection entries
  lvs.topology.ipvs_info:
    connections: true
    connection_limit: 20
"""

RETURN = r"""
ipvs_loaded:
  description: Whether the kernel's IPVS table exists (C(ip_vs) loaded). When false every list is empty.
  returned: always
  type: bool
version:
  description: IPVS version reported by the kernel.
  returned: when RV(ipvs_loaded)
  type: str
  sample: 1.2.1
table_size:
  description: Size of the IPVS connection hash table.
  returned: when RV(ipvs_loaded)
  type: int
  sample: 4096
services:
  description:
    - The services, as M(lvs.topology.ipvs_table) gathers them, each with C(stats) and C(rates).
    - Every real server also has C(stats), C(rates), C(active_connections) and C(inactive_connections).
    - C(stats) and C(rates) are as of the kernel's last estimator run, every 2 seconds - up to 2 seconds behind
      the traffic (more on a loaded host), the rates also smoothed over about 16 seconds.
      C(active_connections) and C(inactive_connections) are live.
  returned: always
  type: list
  elements: dict
  sample:
    - protocol: tcp
      address: 192.0.2.100
      port: 80
      scheduler: wlc
      scheduler_flags: []
      persistence_timeout: 0
      one_packet: false
      stats: {connections: 12, packets_in: 80, packets_out: 0, bytes_in: 5100, bytes_out: 0}
      rates: {connections_per_second: 0, packets_in_per_second: 1, packets_out_per_second: 0,
              bytes_in_per_second: 60, bytes_out_per_second: 0}
      real_servers:
        - address: 192.0.2.11
          port: 80
          forwarding_method: dr
          weight: 1
          upper_threshold: 0
          lower_threshold: 0
          active_connections: 1
          inactive_connections: 4
          stats: {connections: 6, packets_in: 40, packets_out: 0, bytes_in: 2550, bytes_out: 0}
          rates: {connections_per_second: 0, packets_in_per_second: 0, packets_out_per_second: 0,
                  bytes_in_per_second: 30, bytes_out_per_second: 0}
timeouts:
  description: IPVS timeouts in seconds.
  returned: when RV(ipvs_loaded)
  type: dict
  sample: {tcp: 900, tcpfin: 120, udp: 300}
sync_daemons:
  description: The running connection-sync daemons, as C(ipvsadm -Ln --daemon) lists them.
  returned: always
  type: list
  elements: dict
  sample:
    - {state: master, mcast_interface: eth1, syncid: 1}
connections:
  description: Connection entries of C(ipvsadm -Lcn), at most O(connection_limit), live; C(expires) is in seconds.
  returned: when O(connections=true)
  type: list
  elements: dict
  sample:
    - {protocol: tcp, expires: 899, state: ESTABLISHED, source: "203.0.113.5:40210",
       virtual: "192.0.2.100:80", destination: "192.0.2.11:80"}
connection_count:
  description: The number of connection entries in the kernel, live.
  returned: when O(connections=true)
  type: int
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.lvs.topology.plugins.module_utils.ipvs.host import IpvsHost
from ansible_collections.lvs.topology.plugins.module_utils.ipvs.listing import (
    RATE_FIELDS, STATS_FIELDS, THRESHOLD_COLUMNS, counters, listed_counters, parse_connections, parse_daemons, parse_timeouts,
)
from ansible_collections.lvs.topology.plugins.module_utils.ipvs.model import IpvsParseError, service_config


def build_module():
    return AnsibleModule(
        argument_spec=dict(
            connections=dict(type="bool", default=False),
            connection_limit=dict(type="int", default=100),
        ),
        supports_check_mode=True,
    )


def services_with_counters(table, stats, rates, thresholds):
    """The table in config shape, with the counters of the three listings merged in by key."""
    services = []
    for service, entry in table.items():
        config = service_config(service, entry)
        per_server = {}
        for name, listing, fields, where in (("stats", stats, STATS_FIELDS, "a --stats line"),
                                             ("rates", rates, RATE_FIELDS, "a --rate line")):
            listed = listing.services.get(service)
            if listed is not None:
                config[name], per_server[name] = listed_counters(listed, fields, where)
        listed_thresholds = thresholds.services.get(service)
        for server in config["real_servers"]:
            key = (server["address"], server["port"])
            for name, servers in per_server.items():
                if key in servers:
                    server[name] = servers[key]
            if listed_thresholds is not None and key in listed_thresholds["real_servers"]:
                values = counters(listed_thresholds["real_servers"][key], THRESHOLD_COLUMNS, "a --thresholds line")
                server["active_connections"] = values["active_connections"]
                server["inactive_connections"] = values["inactive_connections"]
        services.append(config)
    return services


def main():
    module = build_module()
    if module.params["connection_limit"] < 0:
        module.fail_json(msg="connection_limit must be 0 or more, got %d." % module.params["connection_limit"])
    host = IpvsHost(module)
    if not host.ipvs_present():
        result = dict(changed=False, ipvs_loaded=False, services=[], sync_daemons=[])
        if module.params["connections"]:
            result.update(connections=[], connection_count=0)
        module.exit_json(**result)

    table = host.read_table()
    stats = host.listing("--stats", "--exact")
    try:
        result = dict(
            changed=False, ipvs_loaded=True, version=stats.version, table_size=stats.table_size,
            services=services_with_counters(table, stats, host.listing("--rate", "--exact"), host.listing("--thresholds")),
            timeouts=parse_timeouts(host.ipvsadm_output("-L", "--timeout")),
            sync_daemons=parse_daemons(host.ipvsadm_output("-L", "--daemon")),
        )
        if module.params["connections"]:
            result["connections"], result["connection_count"] = parse_connections(
                host.ipvsadm_output("-Lcn"), module.params["connection_limit"])
    except IpvsParseError as error:
        module.fail_json(msg="Cannot read the output of ipvsadm: %s." % error)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
