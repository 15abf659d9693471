# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one model of the kernel's IPVS table: parse, normalise, diff and render.

Private to the collection: this API may change without notice.

The table is read from ``ipvsadm -Sn`` (the save format, which is what ``ipvsadm -R``
reads back) and written as save-format lines, so one renderer serves the argv calls, the
batch fed to ``ipvsadm -R``, the diff and the ``commands`` result.  Everything here is
pure Python over the standard library: no command is run in this file.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
from collections import OrderedDict, namedtuple

SCHEDULERS = ("rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh", "twos")
DEFAULT_SCHEDULER = "wlc"
# Only sh and mh take flags; the order is the one ipvsadm prints them in.
SCHEDULER_FLAGS = {
    "sh": ("sh-fallback", "sh-port"),
    "mh": ("mh-fallback", "mh-port"),
}
ALL_SCHEDULER_FLAGS = ("sh-fallback", "sh-port", "mh-fallback", "mh-port")
PROTOCOLS = ("tcp", "udp", "sctp", "fwmark")
FAMILIES = ("ipv4", "ipv6")
PERSISTENCE_ENGINES = ("sip",)
FORWARDING_METHODS = ("dr", "nat", "tun")
TUNNEL_TYPES = ("ipip", "gue", "gre")
TUNNEL_CHECKSUMS = ("nocsum", "csum", "remcsum")

MAX_PORT = 65535
MAX_FWMARK = 4294967295
MAX_WEIGHT = 65535
MAX_THRESHOLD = 2147483647
# ipvsadm refuses persistence timeouts above 31 days.
MAX_PERSISTENCE_TIMEOUT = 86400 * 31

SERVICE_SWITCH = {"tcp": "-t", "udp": "-u", "sctp": "--sctp-service"}
PROTOCOL_BY_SWITCH = dict((switch, protocol) for protocol, switch in SERVICE_SWITCH.items())
FORWARDING_SWITCH = {"dr": "-g", "nat": "-m", "tun": "-i"}
FORWARDING_BY_SWITCH = dict((switch, method) for method, switch in FORWARDING_SWITCH.items())
CHECKSUM_SWITCH = {"nocsum": "--tun-nocsum", "csum": "--tun-csum", "remcsum": "--tun-remcsum"}
CHECKSUM_BY_SWITCH = dict((switch, checksum) for checksum, switch in CHECKSUM_SWITCH.items())
# The persistence granularity the kernel uses when none is given (one client address).
FULL_IPV4_NETMASK = "255.255.255.255"
FULL_IPV6_PREFIX = 128


class IpvsInputError(ValueError):
    """A value that cannot describe an IPVS rule; the message is one sentence for the user."""


class IpvsParseError(ValueError):
    """ipvsadm printed something this parser does not know; never guessed around."""


class VirtualService(namedtuple("VirtualService", "protocol family address port fwmark")):
    """The identity of a virtual service: what ipvsadm's -t/-u/--sctp-service/-f select."""

    __slots__ = ()

    def words(self):
        """The ipvsadm words that name this service."""
        if self.protocol == "fwmark":
            return ["-f", str(self.fwmark), "-6"] if self.family == "ipv6" else ["-f", str(self.fwmark)]
        return [SERVICE_SWITCH[self.protocol], join_address_port(self.address, self.port)]

    def label(self):
        """A short human name, used in messages."""
        if self.protocol == "fwmark":
            return "fwmark %d (%s)" % (self.fwmark, self.family)
        return "%s %s" % (self.protocol, join_address_port(self.address, self.port))

    def default_real_server_port(self):
        """ipvsadm copies the service port to a real server given without one."""
        return 0 if self.protocol == "fwmark" else self.port


ServiceSettings = namedtuple(
    "ServiceSettings",
    "scheduler scheduler_flags persistence_timeout persistence_netmask persistence_engine one_packet")
DEFAULT_SERVICE_SETTINGS = ServiceSettings(DEFAULT_SCHEDULER, (), 0, None, None, False)

RealServer = namedtuple(
    "RealServer",
    "address port forwarding_method weight upper_threshold lower_threshold tunnel_type tunnel_port tunnel_checksum")


def real_server_key(real_server):
    """Real servers of one service are unique by address and port, as in the kernel."""
    return (real_server.address, real_server.port)


class ServiceEntry(object):
    """A service's settings and its real servers keyed by (address, port), in table order."""

    __slots__ = ("settings", "real_servers")

    def __init__(self, settings, real_servers=None):
        self.settings = settings
        self.real_servers = real_servers if real_servers is not None else OrderedDict()

    def copy(self):
        return ServiceEntry(self.settings, OrderedDict(self.real_servers))


Operation = namedtuple("Operation", "command service settings real_server")
# command is one of ipvsadm's -A -E -D (services) and -a -e -d (real servers).


# ---------------------------------------------------------------------------
# Values: every value that reaches ipvsadm passes through one of these.
# ---------------------------------------------------------------------------

def normalise_address(value, what="address"):
    """Return (compressed address, family) or raise; addresses can never be read as options."""
    text = str(value).strip() if value is not None else ""
    known = _NORMALISED_ADDRESSES.get(text)
    if known is not None:
        return known
    if "%" in text or "/" in text:
        raise IpvsInputError("%s %r is not a plain IPv4 or IPv6 address (no prefix length or zone index)." % (what, value))
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        raise IpvsInputError("%s %r is not a valid IPv4 or IPv6 address." % (what, value))
    # Big tables repeat the same few addresses thousands of times; ipaddress is slow-ish.
    known = _NORMALISED_ADDRESSES[text] = (address.compressed, "ipv%d" % address.version)
    return known


_NORMALISED_ADDRESSES = {}


def address_family(address):
    return "ipv6" if ":" in address else "ipv4"


def checked_int(value, what, minimum, maximum):
    """Return value as an int within [minimum, maximum] or raise one sentence."""
    if isinstance(value, bool):
        raise IpvsInputError("%s must be an integer from %d to %d, got %r." % (what, minimum, maximum, value))
    try:
        number = int(str(value).strip(), 10)
    except (TypeError, ValueError):
        raise IpvsInputError("%s must be an integer from %d to %d, got %r." % (what, minimum, maximum, value))
    if not minimum <= number <= maximum:
        raise IpvsInputError("%s must be from %d to %d, got %d." % (what, minimum, maximum, number))
    return number


def normalise_netmask(value, family):
    """Persistence granularity: a dotted IPv4 mask (or prefix length) / an IPv6 prefix length.

    Returns None for the kernel's default (one client address), so defaults compare equal.
    """
    if value is None or value == "":
        return None
    text = str(value).strip()
    if family == "ipv6":
        prefix = checked_int(text, "persistence_netmask for an IPv6 service (a prefix length)", 1, 128)
        return None if prefix == FULL_IPV6_PREFIX else prefix
    if text.isdigit():
        prefix = checked_int(text, "persistence_netmask prefix length", 0, 32)
        mask = str(ipaddress.IPv4Network(u"0.0.0.0/%d" % prefix).netmask)
    else:
        try:
            mask = str(ipaddress.IPv4Address(u"%s" % text))
        except ValueError:
            raise IpvsInputError("persistence_netmask %r is not an IPv4 netmask such as 255.255.255.0." % (value,))
    return None if mask == FULL_IPV4_NETMASK else mask


def join_address_port(address, port):
    if ":" in address:
        return "[%s]:%d" % (address, port)
    return "%s:%d" % (address, port)


def split_address_port(text):
    """'192.0.2.1:80' or '[2001:db8::1]:80' from ipvsadm -> (address, port)."""
    if text.startswith("["):
        address, separator, port = text[1:].partition("]:")
    else:
        address, separator, port = text.rpartition(":")
    if not separator or not port.isdigit():
        raise IpvsParseError("cannot read address:port %r" % text)
    try:
        normalised, dummy = normalise_address(address)
    except IpvsInputError:
        raise IpvsParseError("cannot read address %r" % text)
    return normalised, int(port)


# ---------------------------------------------------------------------------
# Rendering: one function turns an operation into save-format words.
# ---------------------------------------------------------------------------

def service_setting_words(settings):
    words = ["-s", settings.scheduler]
    if settings.persistence_timeout:
        words += ["-p", str(settings.persistence_timeout)]
        if settings.persistence_netmask is not None:
            words += ["-M", str(settings.persistence_netmask)]
    if settings.persistence_engine:
        words += ["--pe", settings.persistence_engine]
    if settings.one_packet:
        words.append("-o")
    if settings.scheduler_flags:
        words += ["-b", ",".join(settings.scheduler_flags)]
    return words


def real_server_setting_words(real_server):
    words = [FORWARDING_SWITCH[real_server.forwarding_method], "-w", str(real_server.weight)]
    if real_server.forwarding_method == "tun":
        words += ["--tun-type", real_server.tunnel_type]
        if real_server.tunnel_type == "gue":
            words += ["--tun-port", str(real_server.tunnel_port)]
        if real_server.tunnel_type in ("gue", "gre"):
            words.append(CHECKSUM_SWITCH[real_server.tunnel_checksum])
    # ipvsadm -S never prints thresholds; we add them so a saved table restores completely.
    if real_server.upper_threshold:
        words += ["-x", str(real_server.upper_threshold)]
    if real_server.lower_threshold:
        words += ["-y", str(real_server.lower_threshold)]
    return words


def operation_words(operation):
    """Save-format words of one operation: argv = [ipvsadm] + words, batch line = ' '.join(words)."""
    words = [operation.command] + operation.service.words()
    if operation.command in ("-A", "-E"):
        return words + service_setting_words(operation.settings)
    if operation.command == "-D":
        return words
    words += ["-r", join_address_port(operation.real_server.address, operation.real_server.port)]
    if operation.command in ("-a", "-e"):
        words += real_server_setting_words(operation.real_server)
    return words


def operation_line(operation):
    return " ".join(operation_words(operation))


def table_operations(table, services=None):
    """The -A/-a operations that rebuild the table (or only the given services) from empty."""
    for service in (table if services is None else services):
        entry = table.get(service)
        if entry is None:
            continue
        yield Operation("-A", service, entry.settings, None)
        for real_server in entry.real_servers.values():
            yield Operation("-a", service, None, real_server)


def table_lines(table, services=None):
    return [operation_line(operation) for operation in table_operations(table, services)]


# ---------------------------------------------------------------------------
# Parsing the save format (ipvsadm -Sn), strictly.
# ---------------------------------------------------------------------------

def _take_value(words, index, option):
    if index + 1 >= len(words):
        raise IpvsParseError("option %s has no value" % option)
    return words[index + 1]


def parse_fwmark(text):
    """ipvsadm 1.31 prints marks with %d, so marks above 2147483647 come out negative ("-f -1")."""
    digits = text[1:] if text.startswith("-") else text
    if not digits.isdigit():
        raise IpvsParseError("cannot read fwmark %r" % text)
    return int(text) & MAX_FWMARK


def parse_service_words(words):
    """Read the service selector at the start of words; return (VirtualService, next index)."""
    if not words:
        raise IpvsParseError("missing service")
    switch = words[0]
    if switch in PROTOCOL_BY_SWITCH:
        address, port = split_address_port(_take_value(words, 0, switch))
        return VirtualService(PROTOCOL_BY_SWITCH[switch], address_family(address), address, port, None), 2
    if switch == "-f":
        mark = parse_fwmark(_take_value(words, 0, switch))
        if len(words) > 2 and words[2] == "-6":
            return VirtualService("fwmark", "ipv6", None, None, mark), 3
        return VirtualService("fwmark", "ipv4", None, None, mark), 2
    raise IpvsParseError("unknown service selector %r" % switch)


def _parse_service_settings(service, words):
    scheduler, flags, timeout, netmask, engine, one_packet = None, (), 0, None, None, False
    index = 0
    while index < len(words):
        word = words[index]
        if word == "-s":
            scheduler = _take_value(words, index, word)
            index += 2
        elif word == "-p":
            timeout = int(_take_value(words, index, word))
            index += 2
        elif word == "-M":
            netmask = normalise_netmask(_take_value(words, index, word), service.family)
            index += 2
        elif word == "--pe":
            engine = _take_value(words, index, word)
            index += 2
        elif word == "-o":
            one_packet = True
            index += 1
        elif word == "-b":
            flags = tuple(_take_value(words, index, word).split(","))
            index += 2
        else:
            raise IpvsParseError("unknown token %r in a service line" % word)
    if scheduler is None:
        raise IpvsParseError("service %s has no scheduler" % service.label())
    for flag in flags:
        if flag not in SCHEDULER_FLAGS.get(scheduler, ()):
            raise IpvsParseError("unknown scheduler flag %r for scheduler %s" % (flag, scheduler))
    return ServiceSettings(scheduler, flags, timeout, netmask, engine, one_packet)


def _parse_real_server(words):
    if len(words) < 2 or words[0] != "-r":
        raise IpvsParseError("a real-server line must continue with -r address:port")
    address, port = split_address_port(words[1])
    values = {"forwarding_method": "dr", "weight": 1, "upper_threshold": 0, "lower_threshold": 0,
              "tunnel_type": None, "tunnel_port": None, "tunnel_checksum": None}
    numeric = {"-w": "weight", "-x": "upper_threshold", "-y": "lower_threshold", "--tun-port": "tunnel_port"}
    index = 2
    while index < len(words):
        word = words[index]
        if word in FORWARDING_BY_SWITCH:
            values["forwarding_method"] = FORWARDING_BY_SWITCH[word]
            index += 1
        elif word in numeric:
            value = _take_value(words, index, word)
            if not value.isdigit():
                raise IpvsParseError("option %s has a non-numeric value %r" % (word, value))
            values[numeric[word]] = int(value)
            index += 2
        elif word == "--tun-type":
            values["tunnel_type"] = _take_value(words, index, word)
            if values["tunnel_type"] not in TUNNEL_TYPES:
                raise IpvsParseError("unknown tunnel type %r" % values["tunnel_type"])
            index += 2
        elif word in CHECKSUM_BY_SWITCH:
            values["tunnel_checksum"] = CHECKSUM_BY_SWITCH[word]
            index += 1
        else:
            raise IpvsParseError("unknown token %r in a real-server line" % word)
    if values["forwarding_method"] == "tun" and values["tunnel_type"] is None:
        values["tunnel_type"] = "ipip"
    return RealServer(address=address, port=port, **values)


def parse_saved_table(text):
    """Parse ``ipvsadm -Sn`` output into an OrderedDict VirtualService -> ServiceEntry.

    Strict: an unknown token raises IpvsParseError naming it, it is never dropped.
    """
    table = OrderedDict()
    # Every real-server line repeats its service's selector; read each selector once.
    selectors = {}
    for number, line in enumerate(text.splitlines(), 1):
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        try:
            if words[0] not in ("-A", "-a"):
                raise IpvsParseError("unknown command %r" % words[0])
            selector = tuple(words[1:4] if words[1:2] == ["-f"] and words[3:4] == ["-6"] else words[1:3])
            if selector not in selectors:
                selectors[selector] = parse_service_words(words[1:])
            service, index = selectors[selector]
            if words[0] == "-A":
                table[service] = ServiceEntry(_parse_service_settings(service, words[1 + index:]))
            else:
                if service not in table:
                    raise IpvsParseError("real server for %s before its service" % service.label())
                real_server = _parse_real_server(words[1 + index:])
                table[service].real_servers[real_server_key(real_server)] = real_server
        except IpvsParseError as error:
            raise IpvsParseError("ipvsadm -Sn line %d (%s): %s" % (number, line.strip(), error))
    return table


def with_thresholds(table, thresholds):
    """Fill in the thresholds that -Sn does not print, from a -Ln --thresholds listing.

    thresholds maps VirtualService -> {(address, port): (upper, lower)}.
    """
    for service, entry in table.items():
        listed = thresholds.get(service)
        if not listed:
            continue
        for key, real_server in entry.real_servers.items():
            if key in listed:
                upper, lower = listed[key]
                entry.real_servers[key] = real_server._replace(upper_threshold=upper, lower_threshold=lower)
    return table


# ---------------------------------------------------------------------------
# Diff: the minimal ordered operations from the live table to the desired one.
# ---------------------------------------------------------------------------

class DesiredService(object):
    """What one service should become.

    settings None leaves an existing service's settings alone (a real-server-only change);
    real_servers maps (address, port) -> RealServer to be present; absent_real_servers lists
    keys to remove; purge_real_servers removes every real server not in real_servers.
    """

    __slots__ = ("service", "settings", "real_servers", "absent_real_servers", "purge_real_servers")

    def __init__(self, service, settings=None, real_servers=None, absent_real_servers=(), purge_real_servers=False):
        self.service = service
        self.settings = settings
        self.real_servers = real_servers if real_servers is not None else OrderedDict()
        self.absent_real_servers = absent_real_servers
        self.purge_real_servers = purge_real_servers


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


# ---------------------------------------------------------------------------
# The config shape: what gathered returns and what ipvs_table takes.
# ---------------------------------------------------------------------------

def service_identity_config(service):
    if service.protocol == "fwmark":
        return OrderedDict([("protocol", "fwmark"), ("fwmark", service.fwmark), ("family", service.family)])
    return OrderedDict([("protocol", service.protocol), ("address", service.address), ("port", service.port)])


def real_server_config(real_server):
    config = OrderedDict([
        ("address", real_server.address), ("port", real_server.port),
        ("forwarding_method", real_server.forwarding_method), ("weight", real_server.weight),
        ("upper_threshold", real_server.upper_threshold), ("lower_threshold", real_server.lower_threshold),
    ])
    if real_server.forwarding_method == "tun":
        config["tunnel_type"] = real_server.tunnel_type
        if real_server.tunnel_type == "gue":
            config["tunnel_port"] = real_server.tunnel_port
        if real_server.tunnel_type in ("gue", "gre"):
            config["tunnel_checksum"] = real_server.tunnel_checksum
    return config


def service_config(service, entry):
    config = service_identity_config(service)
    settings = entry.settings
    config["scheduler"] = settings.scheduler
    config["scheduler_flags"] = list(settings.scheduler_flags)
    config["persistence_timeout"] = settings.persistence_timeout
    if settings.persistence_timeout and settings.persistence_netmask is not None:
        config["persistence_netmask"] = str(settings.persistence_netmask)
    if settings.persistence_engine:
        config["persistence_engine"] = settings.persistence_engine
    config["one_packet"] = settings.one_packet
    config["real_servers"] = [real_server_config(real_server) for real_server in entry.real_servers.values()]
    return config


def table_config(table):
    return [service_config(service, entry) for service, entry in table.items()]
