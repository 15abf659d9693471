# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The parsers on real ipvsadm 1.31 output captured from a lab VM (see fixtures/ipvs/capture.sh)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections import Counter

import pytest

from ansible_collections.lvs.topology.plugins.module_utils.ipvs.listing import (
    DAEMON_PATTERN, THRESHOLDS_LINE, TIMEOUT_PATTERN, VERSION_PATTERN, parse_connections, parse_daemons, parse_listing, parse_timeouts,
    real_server_thresholds, saved_after_change, thresholds_unset, without_connection_counters,
)
from ansible_collections.lvs.topology.plugins.module_utils.ipvs.model import IpvsParseError, Operation, RealServer, ServiceSettings, VirtualService
from ansible_collections.lvs.topology.plugins.module_utils.ipvs.record import table_digest
from ansible_collections.lvs.topology.plugins.module_utils.ipvs.saveformat import (
    in_record_order, operation_line, operation_words, parse_saved_table, table_lines, table_operations, with_thresholds,
)
from ansible_collections.lvs.topology.tests.unit.plugins.module_utils.ipvs_fixtures import captured

SAVED = captured("save_all_features.txt")
WEB = VirtualService("tcp", "ipv4", "192.0.2.102", 80, None)


@pytest.fixture(scope="module")
def table():
    return parse_saved_table(SAVED)


def test_every_scheduler_of_the_kernel_is_read(table):
    schedulers = set(entry.settings.scheduler for entry in table.values())
    assert schedulers == {"rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh"}


@pytest.mark.parametrize("service, settings", [
    (VirtualService("tcp", "ipv4", "192.0.2.101", 80, None), ServiceSettings("sh", ("sh-fallback", "sh-port"), 0, None, None, False)),
    (VirtualService("tcp", "ipv4", "192.0.2.101", 82, None), ServiceSettings("mh", ("mh-port",), 0, None, None, False)),
    (VirtualService("tcp", "ipv4", "192.0.2.102", 0, None), ServiceSettings("wlc", (), 300, "255.255.255.0", None, False)),
    (VirtualService("udp", "ipv4", "192.0.2.102", 5060, None), ServiceSettings("rr", (), 60, None, "sip", False)),
    (VirtualService("udp", "ipv4", "192.0.2.102", 53, None), ServiceSettings("rr", (), 0, None, None, True)),
    (VirtualService("sctp", "ipv4", "192.0.2.102", 3868, None), ServiceSettings("rr", (), 0, None, None, False)),
    (VirtualService("tcp", "ipv6", "2001:db8::100", 443, None), ServiceSettings("wlc", (), 120, 64, None, False)),
    (VirtualService("fwmark", "ipv6", None, None, 8), ServiceSettings("wlc", (), 60, 96, None, False)),
    # ipvsadm prints the mark with %d: "-A -f -1" is fwmark 4294967295
    (VirtualService("fwmark", "ipv4", None, None, 4294967295), ServiceSettings("rr", (), 0, None, None, False)),
])
def test_service_settings(table, service, settings):
    assert table[service].settings == settings


@pytest.mark.parametrize("key, real_server", [
    (("198.51.100.12", 8080), RealServer("198.51.100.12", 8080, "nat", 2, 0, 0, None, None, None)),
    (("203.0.113.13", 80), RealServer("203.0.113.13", 80, "tun", 3, 0, 0, "ipip", None, None)),
    (("203.0.113.14", 80), RealServer("203.0.113.14", 80, "tun", 1, 0, 0, "gue", 6080, "csum")),
    (("203.0.113.15", 80), RealServer("203.0.113.15", 80, "tun", 1, 0, 0, "gue", 6081, "remcsum")),
    (("203.0.113.16", 80), RealServer("203.0.113.16", 80, "tun", 1, 0, 0, "gre", None, "nocsum")),
    (("203.0.113.17", 80), RealServer("203.0.113.17", 80, "tun", 1, 0, 0, "gre", None, "csum")),
    (("203.0.113.18", 80), RealServer("203.0.113.18", 80, "dr", 0, 0, 0, None, None, None)),
])
def test_real_servers_of_every_forwarding_and_tunnel_kind(table, key, real_server):
    assert table[WEB].real_servers[key] == real_server


def test_mixed_family_and_fwmark_real_servers(table):
    ipv6 = table[VirtualService("tcp", "ipv6", "2001:db8::100", 443, None)].real_servers
    assert list(ipv6) == [("203.0.113.19", 443), ("2001:db8::11", 443), ("2001:db8::12", 8443)]
    assert table[VirtualService("fwmark", "ipv6", None, None, 8)].real_servers[("2001:db8::11", 0)].forwarding_method == "dr"


def test_rendering_reproduces_the_save_output_line_for_line(table):
    expected = SAVED.replace("-A -f -1 ", "-A -f 4294967295 ").splitlines()
    assert table_lines(table) == expected


def every_kind_of_operation(table):
    """Each of the six commands on every service and real server of a table, and each real
    server again with thresholds."""
    for service, entry in table.items():
        yield Operation("-A", service, entry.settings, None)
        yield Operation("-E", service, entry.settings, None)
        yield Operation("-D", service, None, None)
        for real_server in entry.real_servers.values():
            for command in ("-a", "-e", "-d"):
                yield Operation(command, service, None, real_server)
                yield Operation(command, service, None, real_server._replace(upper_threshold=100, lower_threshold=50))


def test_a_line_is_its_argv_words_joined(table):
    """A batch line is rendered from the text of its service and settings, kept from the lines
    before; argv words are rendered afresh. Both must say the same, the first time and again."""
    operations = list(every_kind_of_operation(table))
    words = [" ".join(operation_words(operation)) for operation in operations]
    assert [operation_line(operation) for operation in operations] == words
    assert [operation_line(operation) for operation in operations] == words


def test_thresholds_come_from_the_thresholds_listing():
    table = parse_saved_table(SAVED)
    with_thresholds(table, real_server_thresholds(parse_listing(captured("thresholds_all_features.txt"))))
    assert table[WEB].real_servers[("192.0.2.11", 80)][4:6] == (100, 50)
    assert "-a -t 192.0.2.102:80 -r 192.0.2.11:80 -g -w 1 -x 100 -y 50" in table_lines(table)


@pytest.mark.parametrize("name", ["list_all_features.txt", "stats_all_features.txt", "rate_all_features.txt",
                                  "thresholds_all_features.txt"])
def test_every_listing_names_the_same_services_and_real_servers(table, name):
    listing = parse_listing(captured(name))
    assert (listing.version, listing.table_size) == ("1.2.1", 4096)
    assert list(listing.services) == list(table)
    for service, listed in listing.services.items():
        assert sorted(listed["real_servers"]) == sorted(table[service].real_servers)


def test_service_listing_without_version_line():
    listing = parse_listing(captured("thresholds_one_service.txt"))
    assert listing.version is None
    assert listing.services[WEB]["real_servers"][("203.0.113.17", 80)] == ["0", "0", "3", "0"]


def test_connections_timeouts_and_daemons():
    entries, total = parse_connections(captured("connections.txt"), 2)
    assert total == 4
    assert entries[0] == {"protocol": "tcp", "expires": 53, "state": "SYN_RECV", "source": "192.0.2.10:55840",
                          "virtual": "192.0.2.102:80", "destination": "203.0.113.17:80"}
    assert parse_timeouts(captured("timeout.txt")) == {"tcp": 900, "tcpfin": 120, "udp": 300}
    assert parse_daemons(captured("daemon.txt")) == [{"state": "master", "mcast_interface": "eth0", "syncid": 5, "maxlen": 1472,
                                                      "group": "224.0.0.81", "port": 8848, "ttl": 1}]
    assert parse_daemons("") == []


@pytest.mark.parametrize("text, message", [
    ("-A -t 192.0.2.1:80 -s wlc -Z\n", "unknown token '-Z' in a service line"),
    ("-A -t 192.0.2.1:80 -s wlc -b flag-1\n", "unknown scheduler flag 'flag-1' for scheduler wlc"),
    ("-A -t 192.0.2.1:80 -s wlc\n-a -t 192.0.2.1:80 -r 192.0.2.11:80 -g -w 1 --tun-bogus\n", "unknown token '--tun-bogus'"),
    ("-a -t 192.0.2.1:80 -r 192.0.2.11:80 -g -w 1\n", "real server for tcp 192.0.2.1:80 before its service"),
    ("-X -t 192.0.2.1:80\n", "unknown command '-X'"),
    ("-A -t 192.0.2.1:http -s wlc\n", "cannot read address:port '192.0.2.1:http'"),
    ("-A -t 192.0.2.1:80 -s\n", "option -s has no value"),
    ("-A -q 192.0.2.1:80 -s wlc\n", "unknown service selector '-q'"),
    ("-A -f 4294967296 -s rr\n", "fwmark 4294967296 is out of range"),
    ("-A -f -2147483649 -s rr\n", "fwmark -2147483649 is out of range"),
    ("-A -t 192.0.2.1:80 -s wlc -p 1d\n", "option -p has a non-numeric value '1d'"),
    ("-A -t 192.0.2.1:80 -s wlc\n-A -t 192.0.2.1:80 -s rr\n", "tcp 192.0.2.1:80 is added a second time"),
    ("-A -t 192.0.2.1:80 -s wlc\n-a -t 192.0.2.1:80 -r 192.0.2.11:80 -g -w 1\n-a -t 192.0.2.1:80 -r 192.0.2.11:80 -g -w 2\n",
     "real server 192.0.2.11:80 is added to tcp 192.0.2.1:80 a second time"),
    # What a config has no place for is refused, never dropped.
    ("-A -t 192.0.2.1:80 -s wlc -M 255.255.255.0\n", "-M (persistence netmask) needs -p"),
    ("-A -t 192.0.2.1:80 -s wlc\n-a -t 192.0.2.1:80 -r 192.0.2.11:80 -m -w 1 --tun-type ipip\n", "tunnel options (--tun-...) need tunnelling (-i)"),
    ("-A -t 192.0.2.1:80 -s wlc\n-a -t 192.0.2.1:80 -r 192.0.2.11:80 -i -w 1 --tun-type gre --tun-port 1\n", "--tun-port applies only to --tun-type gue"),
    ("-A -t 192.0.2.1:80 -s wlc\n-a -t 192.0.2.1:80 -r 192.0.2.11:80 -i -w 1 --tun-nocsum\n", "apply only to --tun-type gue or gre"),
])
def test_the_save_parser_is_strict(text, message):
    with pytest.raises(IpvsParseError) as error:
        parse_saved_table(text)
    assert message in str(error.value)
    assert str(error.value).startswith("ipvsadm -Sn line ")


def test_in_record_order_puts_services_first_and_is_the_records_order():
    lines = table_lines(parse_saved_table(SAVED))
    ordered = in_record_order(lines)
    assert ordered == sorted(lines)
    assert ordered.index(next(line for line in ordered if line.startswith("-a"))) == sum(1 for line in lines if line.startswith("-A"))
    assert table_digest("\n".join(reversed(lines))) == table_digest("\n".join(ordered))


@pytest.mark.parametrize("parse, text", [
    (parse_listing, "BOGUS 192.0.2.1:80 wlc\n"),
    (parse_listing, "  -> 192.0.2.11:80 Route 1 0 0\n"),
    (parse_timeouts, "Timeout: 1 2\n"),
    (parse_daemons, "master sync daemon mcast=eth0\n"),
])
def test_the_listing_parsers_are_strict(parse, text):
    with pytest.raises(IpvsParseError):
        parse(text)


@pytest.mark.parametrize("pattern, line", [
    (VERSION_PATTERN, "IP Virtual Server version 1.2.1 (size=4096)"),
    (TIMEOUT_PATTERN, "Timeout (tcp tcpfin udp): 900 120 300"),
    (DAEMON_PATTERN, "master sync daemon (mcast=eth0, syncid=5, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)"),
])
def test_the_line_patterns_match_a_whole_line_only(pattern, line):
    # '^...$' took a line with a newline after it; the parsers match whole lines.
    assert pattern.fullmatch(line)
    assert not pattern.fullmatch(line + "\n")
    assert not pattern.fullmatch(line + "\nExecStart=/bin/sh")


def test_a_thresholds_line_never_reaches_into_the_next_line():
    listing = captured("thresholds_all_features.txt")
    split = "  -> 192.0.2.11:8001              5\n          0          0          0\n"
    # With \s between the columns the two lines would read as one real server with thresholds
    # 5 and 0, and lose two of their numbers as connection counters.
    assert thresholds_unset(split) is True
    assert without_connection_counters(split) == split
    # Real output: only each real server's two connection counters go.
    cleared = without_connection_counters(listing)
    assert cleared.count("\n") == listing.count("\n")
    assert "  -> 192.0.2.11:8001              0          0\n" in cleared


# The -Sn lines after a change, predicted from those before it and its operations, against
# captured listings.
EMPTY = ("", captured("thresholds_empty.txt"))


def readback(edit=lambda saved, thresholds: (saved, thresholds)):
    """The captured -Sn and --thresholds without the service of mark 4294967295, which ipvsadm
    prints as "-f -1" and the renderer as its value, and with the one threshold cleared (as
    ipvsadm -e -x 0 -y 0 leaves it), so that text alone can tell; edit() changes them further."""
    saved = "".join(line + "\n" for line in SAVED.splitlines() if line != "-A -f -1 -s rr")
    thresholds = "".join(line + "\n" for line in captured("thresholds_all_features.txt").splitlines()
                         if line.split() != ["FWM", "-1", "rr"])
    thresholds = thresholds.replace("192.0.2.11:80                100        50 ", "192.0.2.11:80                0          0  ")
    return edit(saved, thresholds)


def show_change(before, after, have, operations):
    """Whether the -Sn lines predicted from before and the operations are those of after."""
    expected = saved_after_change(before[0], have, operations, [operation_line(operation) for operation in operations])
    return expected == Counter(after[0].splitlines())


def build_from_empty(have):
    return list(table_operations(parse_saved_table(readback()[0])))


def edit_weight(have):
    service = VirtualService("tcp", "ipv4", "192.0.2.100", 8002, None)
    live = have[service].real_servers[("192.0.2.11", 8002)]
    return [Operation("-e", service, None, live._replace(weight=3))]


def delete_web(have):
    return [Operation("-D", WEB, None, None)]


def without_web(saved, thresholds):
    """The listings with the service 192.0.2.102:80 and its real servers gone."""
    saved = "".join(line + "\n" for line in saved.splitlines() if " 192.0.2.102:80 " not in line + " ")
    kept, skipping = [], False
    for line in thresholds.splitlines():
        if not line.startswith("  ->"):
            skipping = line.split()[:2] == ["TCP", "192.0.2.102:80"]
        if not skipping:
            kept.append(line + "\n")
    return saved, "".join(kept)


@pytest.mark.parametrize("before, operations, after", [
    (EMPTY, build_from_empty, readback()),
    (readback(), edit_weight, readback(lambda saved, thresholds: (saved.replace("-r 192.0.2.11:8002 -g -w 2", "-r 192.0.2.11:8002 -g -w 3"),
                                                                  thresholds))),
    (readback(), delete_web, readback(without_web)),
], ids=["from-empty", "one-weight", "service-deleted"])
def test_the_predicted_listing_is_the_one_ipvsadm_prints(before, operations, after):
    have = parse_saved_table(before[0])
    assert show_change(before, after, have, operations(have)) is True


@pytest.mark.parametrize("edit", [
    lambda saved: saved.replace("-r 192.0.2.11:8002 -g -w 2", "-r 192.0.2.11:8002 -g -w 3"),
    lambda saved: saved.replace("-A -t 192.0.2.100:8002 -s wrr\n", ""),
    lambda saved: saved + "-a -t 192.0.2.100:8002 -r 192.0.2.12:8002 -g -w 1\n",
], ids=["weight", "service-missing", "real-server-more"])
def test_a_listing_that_differs_is_not_the_predicted_one(edit):
    have = parse_saved_table(EMPTY[0])
    assert show_change(EMPTY, (edit(readback()[0]), None), have, build_from_empty(have)) is False


def test_thresholds_are_unset_only_when_none_is_listed_or_asked():
    cleared = readback()[1]
    assert thresholds_unset(cleared) is True
    assert thresholds_unset(captured("thresholds_empty.txt")) is True
    assert thresholds_unset(captured("thresholds_all_features.txt")) is False
    have = parse_saved_table(readback()[0])
    asked = [Operation("-e", WEB, None, have[WEB].real_servers[("192.0.2.11", 80)]._replace(upper_threshold=5))]
    assert thresholds_unset(cleared, asked) is False
    assert thresholds_unset(cleared, edit_weight(have)) is True


def test_a_line_the_change_replaces_must_be_in_the_listing_before():
    before = readback()
    have = parse_saved_table(before[0])
    # A line ipvsadm printed otherwise than the renderer would cannot be replaced: no prediction.
    assert saved_after_change(before[0].replace("-w 2\n", "-w 2 \n"), have, edit_weight(have), ["-e x"]) is None


def thresholds_set_per_line(listing):
    """The rule thresholds_unset() applies in one search, line by line: some real-server line
    (THRESHOLDS_LINE) with an Uthreshold or Lthreshold other than 0."""
    return any(match and (match.group(2), match.group(3)) != ("0", "0")
               for match in (THRESHOLDS_LINE.fullmatch(line) for line in listing.split("\n")))


def with_thresholds_listed(line, upper, lower):
    match = THRESHOLDS_LINE.fullmatch(line)
    return line[:match.start(2)] + upper + line[match.end(2):match.start(3)] + lower + line[match.end(3):]


@pytest.mark.parametrize("upper, lower", [("0", "0"), ("5", "0"), ("0", "5"), ("10", "20"), ("100", "0")])
def test_one_search_for_thresholds_reads_each_line_as_a_match_per_line_does(upper, lower):
    """Each real-server line of the captured listing given these thresholds in turn, the others
    none; and the same line ending in a carriage return, which is no real-server line."""
    lines = captured("thresholds_all_features.txt").split("\n")
    cleared = [with_thresholds_listed(line, "0", "0") if THRESHOLDS_LINE.fullmatch(line) else line for line in lines]
    assert thresholds_unset("\n".join(cleared)) is True
    edited = 0
    for number, line in enumerate(cleared):
        if not THRESHOLDS_LINE.fullmatch(line):
            continue
        for ending in ("", "\r"):
            listing = "\n".join(cleared[:number] + [with_thresholds_listed(line, upper, lower) + ending] + cleared[number + 1:])
            assert thresholds_unset(listing) is not thresholds_set_per_line(listing)
            assert thresholds_unset(listing) is ((upper, lower) == ("0", "0") or ending == "\r")
        edited += 1
    assert edited == 28
