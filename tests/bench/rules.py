# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The bench's table of N rules, written twice from one description: as lvs_virtual_services
(what the director role takes) and as ipvsadm-restore input (the floor), so both paths load
exactly the same rules.

N counts real-server rules: N / 4 TCP services on one VIP, each with 4 real servers.
The first service is the one a long-lived connection goes through: its first real server
is the lab VM itself (local delivery, so the connection really is served), the other three
have weight 0 so no connection is ever scheduled to an address that does not exist.
For keepalived each service also carries a health check of type none: nobody answers on the
other real servers, and without a checker keepalived keeps every real server in the table.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

VIP = "198.51.100.1"
REAL_SERVERS_PER_SERVICE = 4
LOCAL_REAL_SERVER = "192.0.2.10"
OTHER_REAL_SERVERS = ("192.0.2.11", "192.0.2.12", "192.0.2.13")
# The service that carries the long-lived connection: an echo server listens on it in the VM.
CONNECTION_PORT = 7
FIRST_BULK_PORT = 10000
SCHEDULER = "wrr"
# The one weight step (d) changes: a real server beside the one the connection uses.
CHANGED_REAL_SERVER = (OTHER_REAL_SERVERS[0], CONNECTION_PORT)
CHANGED_WEIGHT = 3
# keepalived's options of each service when keepalived owns the table: no checker.
KEEPALIVED_OPTIONS = {"health_check": {"type": "none"}}


def service_ports(rules):
    if rules % REAL_SERVERS_PER_SERVICE:
        raise ValueError("the number of rules must be a multiple of %d, got %d" % (REAL_SERVERS_PER_SERVICE, rules))
    count = rules // REAL_SERVERS_PER_SERVICE
    return [CONNECTION_PORT] + [FIRST_BULK_PORT + index for index in range(count - 1)]


def real_servers(port, weight_changed=False):
    """[(address, weight)] of the service on port."""
    if port != CONNECTION_PORT:
        return [(address, 1) for address in (LOCAL_REAL_SERVER,) + OTHER_REAL_SERVERS]
    servers = [(LOCAL_REAL_SERVER, 1)] + [(address, 0) for address in OTHER_REAL_SERVERS]
    if weight_changed:
        servers = [(address, CHANGED_WEIGHT if (address, port) == CHANGED_REAL_SERVER else weight) for address, weight in servers]
    return servers


def virtual_services(rules, weight_changed=False, keepalived=False):
    """The table as the director role's lvs_virtual_services (keepalived: with KEEPALIVED_OPTIONS)."""
    services = []
    for port in service_ports(rules):
        service = {
            "name": "bench-%d" % port, "vip": VIP, "port": port, "protocol": "tcp",
            "scheduler": SCHEDULER, "forwarding_method": "dr",
            "real_servers": [{"host": address, "weight": weight} for address, weight in real_servers(port, weight_changed)],
        }
        if keepalived:
            service["keepalived"] = KEEPALIVED_OPTIONS
        services.append(service)
    return services


def restore_lines(rules):
    """The same table as ipvsadm-restore input (and as ipvsadm -Sn prints it back)."""
    lines = []
    for port in service_ports(rules):
        lines.append("-A -t %s:%d -s %s" % (VIP, port, SCHEDULER))
        for address, weight in real_servers(port):
            lines.append("-a -t %s:%d -r %s:%d -g -w %d" % (VIP, port, address, port, weight))
    return "".join(line + "\n" for line in lines)


def write_vars(path, rules, weight_changed=False, keepalived=False):
    with open(path, "w") as handle:
        json.dump({"lvs_virtual_services": virtual_services(rules, weight_changed, keepalived)}, handle)
