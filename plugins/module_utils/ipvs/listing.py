# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parsers for ipvsadm's listing formats: -Ln --stats/--rate/--thresholds, -Lcn, --timeout, --daemon.

Private to the collection: this API may change without notice.

The rules themselves are read from the save format (see saveformat.py); these listings carry
what -Sn does not print: counters, rates, thresholds and connection counts.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
from collections import Counter, OrderedDict

from ansible_collections.lvs.topology.plugins.module_utils.ipvs.model import IpvsParseError, Operation, VirtualService, real_server_key, split_address_port
from ansible_collections.lvs.topology.plugins.module_utils.ipvs.saveformat import operation_line, parse_fwmark

LISTING_PROTOCOLS = {"TCP": "tcp", "UDP": "udp", "SCTP": "sctp"}
STATS_FIELDS = ("connections", "packets_in", "packets_out", "bytes_in", "bytes_out")
RATE_FIELDS = ("connections_per_second", "packets_in_per_second", "packets_out_per_second",
               "bytes_in_per_second", "bytes_out_per_second")
# Each pattern is used with fullmatch, on one line: '$' would also match before a trailing
# newline, so a value that ends in one would pass for a whole line.
VERSION_PATTERN = re.compile(r"IP Virtual Server version (\S+) \(size=(\d+)\)")
TIMEOUT_PATTERN = re.compile(r"Timeout \(tcp tcpfin udp\): (\d+) (\d+) (\d+)")
DAEMON_PATTERN = re.compile(r"(master|backup) sync daemon \((.*)\)")
# A real server's line of -Ln --thresholds: (the line up to its thresholds, Uthreshold,
# Lthreshold); ActiveConn and InActConn follow. Blanks, not \s, between the columns: a match
# never reaches into the next line.
THRESHOLDS_LINE = re.compile(r"([ \t]*->[ \t]+\S+[ \t]+(\d+)[ \t]+(\d+))[ \t]+\d+[ \t]+\d+[ \t]*")
# A line THRESHOLDS_LINE matches whose Uthreshold and Lthreshold are not both 0 (ipvsadm prints
# them with %u, so a 0 is followed by blanks): one search of the whole listing, in place of a
# match per line, tells whether any real server has thresholds.
THRESHOLDS_SET = re.compile(r"^[ \t]*->[ \t]+\S+[ \t]+(?!0[ \t]+0[ \t])\d+[ \t]+\d+[ \t]+\d+[ \t]+\d+[ \t]*$", re.M)


class Listing(object):
    """One -Ln listing: the IPVS version line and, per service, the columns after its name."""

    __slots__ = ("version", "table_size", "services")

    def __init__(self):
        self.version = None
        self.table_size = None
        self.services = OrderedDict()


def _listed_service(words):
    """'TCP  192.0.2.1:80 ...', 'FWM  7 ...' or 'FWM  7 IPv6 ...' -> (VirtualService, rest)."""
    if words[0] in LISTING_PROTOCOLS and len(words) > 1:
        address, port = split_address_port(words[1])
        family = "ipv6" if ":" in address else "ipv4"
        return VirtualService(LISTING_PROTOCOLS[words[0]], family, address, port, None), words[2:]
    if words[0] == "FWM" and len(words) > 1:
        mark = parse_fwmark(words[1])
        if len(words) > 2 and words[2] == "IPv6":
            return VirtualService("fwmark", "ipv6", None, None, mark), words[3:]
        return VirtualService("fwmark", "ipv4", None, None, mark), words[2:]
    raise IpvsParseError("unknown service line %r" % " ".join(words))


def parse_listing(text):
    """Parse any ``ipvsadm -Ln`` variant into a Listing; unknown lines raise IpvsParseError."""
    listing = Listing()
    current = None
    for line in text.splitlines():
        words = line.split()
        if not words:
            continue
        # Real-server lines first: they are nearly all of a big table's listing.
        if words[0] == "->":
            if words[1:2] == ["RemoteAddress:Port"]:
                continue
            if current is None or len(words) < 2:
                raise IpvsParseError("real-server line before any service: %r" % line)
            current["real_servers"][split_address_port(words[1])] = words[2:]
            continue
        version = VERSION_PATTERN.fullmatch(line.strip()) if words[0] == "IP" else None
        if version:
            listing.version, listing.table_size = version.group(1), int(version.group(2))
        elif words[0] == "Prot":
            continue
        else:
            service, rest = _listed_service(words)
            current = {"columns": rest, "real_servers": OrderedDict()}
            listing.services[service] = current
    return listing


def counters(columns, names, where):
    """Map the leading numeric columns to names; fail on anything that is not a number."""
    if len(columns) < len(names) or not all(column.isdigit() for column in columns[:len(names)]):
        raise IpvsParseError("expected %d numbers (%s) in %s, got %r" % (len(names), " ".join(names), where, columns))
    return OrderedDict(zip(names, (int(column) for column in columns[:len(names)])))


def listed_counters(listed, names, where):
    """(the service's counters, {(address, port): each real server's}) of one service of a
    listing, its columns named by names (STATS_FIELDS, RATE_FIELDS)."""
    return counters(listed["columns"], names, where), OrderedDict(
        (key, counters(columns, names, where)) for key, columns in listed["real_servers"].items())


THRESHOLD_COLUMNS = ("upper_threshold", "lower_threshold", "active_connections", "inactive_connections")


def real_server_thresholds(listing):
    """VirtualService -> {(address, port): (upper, lower)} from a -Ln --thresholds listing."""
    result = {}
    for service, listed in listing.services.items():
        per_server = result.setdefault(service, {})
        for key, columns in listed["real_servers"].items():
            values = counters(columns, THRESHOLD_COLUMNS, "a --thresholds line")
            per_server[key] = (values["upper_threshold"], values["lower_threshold"])
    return result


def parse_connections(text, limit):
    """Parse ``ipvsadm -Lcn``: up to limit entries and the total number of entries."""
    entries, total = [], 0
    for line in text.splitlines():
        words = line.split()
        if not words or line.startswith("IPVS connection entries") or words[0] == "pro":
            continue
        if len(words) < 6 or ":" not in words[1]:
            raise IpvsParseError("unknown connection line %r" % line)
        total += 1
        if len(entries) < limit:
            minutes, dummy, seconds = words[1].partition(":")
            entries.append(OrderedDict([
                ("protocol", words[0].lower()), ("expires", int(minutes) * 60 + int(seconds)), ("state", words[2]),
                ("source", words[3]), ("virtual", words[4]), ("destination", words[5]),
            ]))
    return entries, total


def parse_timeouts(text):
    match = TIMEOUT_PATTERN.fullmatch(text.strip())
    if not match:
        raise IpvsParseError("unknown --timeout output %r" % text.strip())
    return OrderedDict(zip(("tcp", "tcpfin", "udp"), (int(value) for value in match.groups())))


def parse_daemons(text):
    """Parse ``ipvsadm -Ln --daemon``: one dict per running sync daemon (master, backup)."""
    daemons = []
    for line in text.splitlines():
        if not line.strip():
            continue
        match = DAEMON_PATTERN.fullmatch(line.strip())
        if not match:
            raise IpvsParseError("unknown --daemon line %r" % line)
        daemon = OrderedDict([("state", match.group(1))])
        for pair in match.group(2).split(", "):
            name, separator, value = pair.partition("=")
            if not separator:
                raise IpvsParseError("unknown --daemon field %r" % pair)
            name = {"mcast": "mcast_interface"}.get(name, name)
            daemon[name] = int(value) if value.isdigit() and name != "mcast_interface" else value
        daemons.append(daemon)
    return daemons


def saved_after_change(saved_before, have, operations, lines):
    """The lines ipvsadm -Sn prints after a change, as a Counter: those it printed before
    (saved_before) with exactly the operations applied; None when saved_before lacks a line
    that an operation replaces or removes.

    have is the table parsed from saved_before, lines the operations' save-format lines. The
    lines the change does not touch are kept as ipvsadm printed them; only the touched ones
    are rendered, so this costs a count of the listing's lines, not a parse or a rendering of
    the whole table. -Sn never prints thresholds: see thresholds_unset.
    """
    expected = Counter(saved_before.splitlines())
    # An add's line is the table line itself; the adds up to the next removal are counted at once.
    added = []
    for operation, line in zip(operations, lines):
        command = operation.command
        if command in ("-A", "-a"):
            added.append(line)
            continue
        if added:
            expected.update(added)
            added = []
        gone = _replaced_lines(operation, have)
        if gone is None:
            return None
        for old_line in gone:
            if not expected[old_line]:
                return None
            expected[old_line] -= 1
            if not expected[old_line]:
                del expected[old_line]
        if command in TABLE_COMMAND:
            expected[TABLE_COMMAND[command] + line[len(command):]] += 1
    expected.update(added)
    return expected


def operations_set_thresholds(operations):
    """True when an operation adds or edits a real server with thresholds."""
    return any(operation.command in ("-a", "-e") and (operation.real_server.upper_threshold or operation.real_server.lower_threshold)
               for operation in operations)


def thresholds_unset(thresholds, operations=()):
    """True when no real server of a -Ln --thresholds listing has thresholds and none of the
    operations sets any: the table then has none, and its -Sn lines alone are the whole table."""
    if operations_set_thresholds(operations):
        return False
    return THRESHOLDS_SET.search(thresholds) is None


def _threshold_lines(thresholds):
    """(line, THRESHOLDS_LINE match or None) for each line of a -Ln --thresholds listing; split
    on newlines only, so joining the lines again gives back the listing."""
    return [(line, THRESHOLDS_LINE.fullmatch(line)) for line in thresholds.split("\n")]


def without_connection_counters(thresholds):
    """A -Ln --thresholds listing without each real server's ActiveConn and InActConn, which
    move with traffic; every other character as listed."""
    return "\n".join(match.group(1) if match else line for line, match in _threshold_lines(thresholds))


# The table line an operation leaves: an edit's line is the add's with the edit's command.
TABLE_COMMAND = {"-A": "-A", "-E": "-A", "-a": "-a", "-e": "-a"}


def _replaced_lines(operation, have):
    """The table lines an operation removes or replaces, rendered from the table before it
    (have); None when have does not hold them."""
    command, service = operation.command, operation.service
    if command in ("-A", "-a"):
        return []
    entry = have.get(service)
    if entry is None:
        return None
    if command in ("-e", "-d"):
        live = entry.real_servers.get(real_server_key(operation.real_server))
        return None if live is None else [operation_line(Operation("-a", service, None, live))]
    lines = [operation_line(Operation("-A", service, entry.settings, None))]
    if command == "-D":
        lines += [operation_line(Operation("-a", service, None, real_server)) for real_server in entry.real_servers.values()]
    return lines
