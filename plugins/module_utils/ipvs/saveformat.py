# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The save format of ``ipvsadm -Sn``: rendering operations and tables as its lines, parsing them.

Private to the collection: this API may change without notice.

The table is read from ``ipvsadm -Sn`` (the save format, which is what ``ipvsadm -R``
reads back) and written as save-format lines, so one renderer serves the argv calls, the
batch fed to ``ipvsadm -R``, the diff and the ``commands`` result.  Everything here is
pure Python over the standard library: no command is run in this file.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections import OrderedDict

from ansible_collections.lvs.topology.plugins.module_utils.ipvs.model import (
    SERVICE_SWITCH, IpvsInputError, IpvsParseError, Operation, RealServer, ServiceEntry, ServiceSettings, VirtualService,
    address_family, join_address_port, real_server_key, split_address_port,
)
from ansible_collections.lvs.topology.plugins.module_utils.ipvs.values import MAX_FWMARK, SCHEDULER_FLAGS, TUNNEL_TYPES, normalise_netmask

PROTOCOL_BY_SWITCH = dict((switch, protocol) for protocol, switch in SERVICE_SWITCH.items())
FORWARDING_SWITCH = {"dr": "-g", "nat": "-m", "tun": "-i"}
FORWARDING_BY_SWITCH = dict((switch, method) for method, switch in FORWARDING_SWITCH.items())
CHECKSUM_SWITCH = {"nocsum": "--tun-nocsum", "csum": "--tun-csum", "remcsum": "--tun-remcsum"}
CHECKSUM_BY_SWITCH = dict((switch, checksum) for checksum, switch in CHECKSUM_SWITCH.items())


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
    """' '.join(operation_words(operation)), from the text of its service and of its settings,
    each joined once per run: a big table names each service in several lines and repeats the
    same few settings thousands of times."""
    command, service, real_server = operation.command, operation.service, operation.real_server
    service_text = _SERVICE_TEXT.get(service)
    if service_text is None:
        service_text = _SERVICE_TEXT[service] = " ".join(service.words())
    if command in ("-A", "-E"):
        settings_text = _SETTINGS_TEXT.get(operation.settings)
        if settings_text is None:
            settings_text = _SETTINGS_TEXT[operation.settings] = " ".join(service_setting_words(operation.settings))
        return "%s %s %s" % (command, service_text, settings_text)
    if command == "-D":
        return "%s %s" % (command, service_text)
    target = join_address_port(real_server.address, real_server.port)
    if command == "-d":
        return "%s %s -r %s" % (command, service_text, target)
    # Keyed by every field but address and port, which target holds.
    settings = real_server[2:]
    settings_text = _REAL_SERVER_SETTINGS_TEXT.get(settings)
    if settings_text is None:
        settings_text = _REAL_SERVER_SETTINGS_TEXT[settings] = " ".join(real_server_setting_words(real_server))
    return "%s %s -r %s %s" % (command, service_text, target, settings_text)


# The text of each service and of each distinct service or real-server settings, for the life of one module run.
_SERVICE_TEXT = {}
_SETTINGS_TEXT = {}
_REAL_SERVER_SETTINGS_TEXT = {}


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


def in_record_order(lines):
    """Save-format lines in byte order, which is independent of the kernel's hash order and
    still restorable: every -A line sorts before every -a line ('A' < 'a'). The table record
    digests the live table in this order (the host's LC_ALL=C sort orders these ASCII lines
    alike), and the rules format is written in it."""
    return sorted(lines)


# ---------------------------------------------------------------------------
# Parsing the save format (ipvsadm -Sn), strictly.
# ---------------------------------------------------------------------------

def _take_value(words, index, option):
    if index + 1 >= len(words):
        raise IpvsParseError("option %s has no value" % option)
    return words[index + 1]


def parse_fwmark(text):
    """ipvsadm 1.31 prints marks with %d, so marks above 2147483647 come out negative ("-f -1");
    both spellings of a mark from 1 to 4294967295 are read as the unsigned mark, nothing else."""
    digits = text[1:] if text.startswith("-") else text
    if not digits.isdigit():
        raise IpvsParseError("cannot read fwmark %r" % text)
    mark = int(text)
    if not -(MAX_FWMARK + 1) // 2 <= mark <= MAX_FWMARK or mark == 0:
        raise IpvsParseError("fwmark %s is out of range: a mark is 1 to %d, which ipvsadm --save prints above 2147483647 "
                             "as a negative number down to -2147483648" % (text, MAX_FWMARK))
    return mark & MAX_FWMARK


def _number(words, index, option):
    value = _take_value(words, index, option)
    if not value.isdigit():
        raise IpvsParseError("option %s has a non-numeric value %r" % (option, value))
    return int(value)


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
            timeout = _number(words, index, word)
            index += 2
        elif word == "-M":
            try:
                netmask = normalise_netmask(_take_value(words, index, word), service.family)
            except IpvsInputError as error:
                raise IpvsParseError(str(error).rstrip("."))
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
    # ipvsadm -S prints -M only with -p; without persistence a netmask would mean nothing
    # and be lost in the config, so it is refused rather than dropped.
    if "-M" in words and not timeout:
        raise IpvsParseError("-M (persistence netmask) needs -p (persistence)")
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
            values[numeric[word]] = _number(words, index, word)
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
    # ipvsadm refuses these combinations itself (process_options, tunnel_opt_check); refused
    # here too, since the config of a real server has no place for them.
    tunnel_options = [values[name] for name in ("tunnel_type", "tunnel_port", "tunnel_checksum") if values[name] is not None]
    if values["forwarding_method"] != "tun":
        if tunnel_options:
            raise IpvsParseError("tunnel options (--tun-...) need tunnelling (-i)")
        return RealServer(address=address, port=port, **values)
    values["tunnel_type"] = values["tunnel_type"] or "ipip"
    if values["tunnel_port"] is not None and values["tunnel_type"] != "gue":
        raise IpvsParseError("--tun-port applies only to --tun-type gue")
    if values["tunnel_checksum"] is not None and values["tunnel_type"] == "ipip":
        raise IpvsParseError("the checksum options (--tun-nocsum, --tun-csum, --tun-remcsum) apply only to --tun-type gue or gre")
    return RealServer(address=address, port=port, **values)


def parse_saved_table(text, source="ipvsadm -Sn"):
    """Parse ``ipvsadm -Sn`` output into an OrderedDict VirtualService -> ServiceEntry.

    Strict: an unknown token raises IpvsParseError naming it, it is never dropped, and a
    service or real server given twice is refused rather than the later line winning. source
    names the text in messages.
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
                raise IpvsParseError("unknown command %r (a saved table has only -A and -a lines)" % words[0])
            selector = tuple(words[1:4] if words[1:2] == ["-f"] and words[3:4] == ["-6"] else words[1:3])
            if selector not in selectors:
                selectors[selector] = parse_service_words(words[1:])
            service, index = selectors[selector]
            if words[0] == "-A":
                if service in table:
                    raise IpvsParseError("%s is added a second time" % service.label())
                table[service] = ServiceEntry(_parse_service_settings(service, words[1 + index:]))
            else:
                if service not in table:
                    raise IpvsParseError("real server for %s before its service" % service.label())
                real_server = _parse_real_server(words[1 + index:])
                key = real_server_key(real_server)
                if key in table[service].real_servers:
                    raise IpvsParseError("real server %s is added to %s a second time" % (
                        join_address_port(*key), service.label()))
                table[service].real_servers[key] = real_server
        except IpvsParseError as error:
            raise IpvsParseError("%s line %d (%s): %s" % (source, number, line.strip(), error))
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
