# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Planning a change of the IPVS table: the operations from the live table to the desired one.

Private to the collection: this API may change without notice.

Also the table those operations leave (for check mode and the diff), the diff itself, as
save-format lines, and the undo of a change the kernel rejected part way: which operations a
table read back shows, and the operations that take the services a change touched back to
what they were. Pure Python over the standard library: no command is run in this file.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections import OrderedDict

from ansible_collections.lvs.topology.plugins.module_utils.ipvs.model import DesiredService, Operation, ServiceEntry, real_server_key
from ansible_collections.lvs.topology.plugins.module_utils.ipvs.saveformat import table_lines
from ansible_collections.lvs.topology.plugins.module_utils.ipvs.values import DEFAULT_SERVICE_SETTINGS


def plan_operations(have, desired, absent_services=(), purge_other_services=False):
    """Return the operations that turn the live table into the desired one.

    Edits happen in place (-E/-e), never as delete and add; services are added before
    their real servers; new real servers are added before old ones are removed so a pool
    is never emptied needlessly; a deleted service takes its real servers with it.
    Dict lookups only: linear in the size of the table.
    """
    service_changes, real_server_edits, real_server_adds, real_server_deletes, service_deletes = [], [], [], [], []
    wanted_keys = set()
    for want in desired:
        service = want.service
        wanted_keys.add(service)
        entry = have.get(service)
        live_servers = entry.real_servers if entry is not None else {}
        if entry is None:
            service_changes.append(Operation("-A", service, want.settings or DEFAULT_SERVICE_SETTINGS, None))
        elif want.settings is not None and want.settings != entry.settings:
            service_changes.append(Operation("-E", service, want.settings, None))
        for key, real_server in want.real_servers.items():
            live = live_servers.get(key)
            if live is None:
                real_server_adds.append(Operation("-a", service, None, real_server))
            elif live != real_server:
                real_server_edits.append(Operation("-e", service, None, real_server))
        for key in want.absent_real_servers:
            if key in live_servers and key not in want.real_servers:
                real_server_deletes.append(Operation("-d", service, None, live_servers[key]))
        if want.purge_real_servers:
            absent = set(want.absent_real_servers)
            for key, live in live_servers.items():
                if key not in want.real_servers and key not in absent:
                    real_server_deletes.append(Operation("-d", service, None, live))
    doomed = [service for service in absent_services if service in have and service not in wanted_keys]
    if purge_other_services:
        doomed_set = set(doomed)
        doomed += [service for service in have if service not in wanted_keys and service not in doomed_set]
    service_deletes = [Operation("-D", service, None, None) for service in doomed]
    return service_changes + real_server_edits + real_server_adds + real_server_deletes + service_deletes


def took_effect(operation, table):
    """Whether table (read back after the operation ran, or might have) shows its effect.

    A plan changes each service and each real server at most once, so no operation of it hides
    another one's effect.
    """
    entry = table.get(operation.service)
    if operation.command == "-D":
        return entry is None
    if operation.command in ("-A", "-E"):
        return entry is not None and entry.settings == operation.settings
    key = real_server_key(operation.real_server)
    if operation.command == "-d":
        return entry is None or key not in entry.real_servers
    return entry is not None and entry.real_servers.get(key) == operation.real_server


def undo_operations(table, before, services):
    """The operations that make each of services in table what it was in before; no other
    service is named in them.

    Planned as any change is: edits in place, so a service in both tables is never deleted and
    added again, and its connections survive; a service that was not in before is deleted, one
    that was is added again with its real servers, weights and thresholds.
    """
    services = list(OrderedDict.fromkeys(services))
    desired = [DesiredService(service, before[service].settings, OrderedDict(before[service].real_servers), purge_real_servers=True)
               for service in services if service in before]
    return plan_operations(table, desired, [service for service in services if service not in before])


def apply_to_table(table, operations):
    """A copy of table with the operations applied, as the kernel would (for diff and check mode)."""
    touched = set(operation.service for operation in operations)
    result = OrderedDict()
    for service, entry in table.items():
        result[service] = entry.copy() if service in touched else entry
    for operation in operations:
        command, service = operation.command, operation.service
        if command == "-A":
            result[service] = ServiceEntry(operation.settings)
        elif command == "-E":
            result[service].settings = operation.settings
        elif command == "-D":
            result.pop(service, None)
        elif command in ("-a", "-e"):
            result[service].real_servers[real_server_key(operation.real_server)] = operation.real_server
        else:
            result[service].real_servers.pop(real_server_key(operation.real_server), None)
    return result


def render_diff(before, after, services=None):
    """Before/after as save-format lines (of the given services, or of the whole table)."""
    if services is not None:
        services = list(OrderedDict.fromkeys(services))
    return {
        "before": "".join(line + "\n" for line in table_lines(before, services)),
        "after": "".join(line + "\n" for line in table_lines(after, services)),
    }
