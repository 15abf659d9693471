# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rules format and ipvs_table's states rendered and parsed: config -> rules -> config is
the same table, ipvsadm -Sn output reads as rules, and bad input is one sentence."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections import OrderedDict

import pytest

from ansible_collections.lvs.topology.plugins.module_utils.ipvs.listing import parse_listing, real_server_thresholds
from ansible_collections.lvs.topology.plugins.module_utils.ipvs.model import IpvsInputError, table_config
from ansible_collections.lvs.topology.plugins.module_utils.ipvs.plan import plan_operations
from ansible_collections.lvs.topology.plugins.module_utils.ipvs.resource import (
    check_state_options, config_table, desired_table, parsed_config, rendered_lines,
)
from ansible_collections.lvs.topology.plugins.module_utils.ipvs.rules import RULES_HEADER, parse_rules
from ansible_collections.lvs.topology.plugins.module_utils.ipvs.saveformat import parse_saved_table, with_thresholds
from ansible_collections.lvs.topology.tests.unit.plugins.module_utils.ipvs_fixtures import captured, cases

SAVED = captured("save_all_features.txt")
BAD_INPUT_CASES = cases("bad_input_cases.yml")

WEB = dict(protocol="tcp", address="192.0.2.102", port=80)
# Each case: a config, and a fragment every rendering of it must carry.
ROUND_TRIPS = OrderedDict([
    ("thresholds", ([
        dict(address="192.0.2.100", port=80, scheduler="wlc", real_servers=[
            dict(address="192.0.2.11", upper_threshold=100, lower_threshold=50),
            dict(address="192.0.2.12", upper_threshold=2147483647),
            dict(address="192.0.2.13", weight=0, upper_threshold=10, lower_threshold=10),
        ]),
    ], "-a -t 192.0.2.100:80 -r 192.0.2.11:80 -g -w 1 -x 100 -y 50")),
    ("fwmarks above 2^31", ([
        dict(protocol="fwmark", fwmark=4294967295, scheduler="rr", real_servers=[dict(address="192.0.2.11")]),
        dict(protocol="fwmark", fwmark=2147483648, family="ipv6", persistence_timeout=60, persistence_netmask="96",
             real_servers=[dict(address="2001:db8::11", upper_threshold=5)]),
        dict(protocol="fwmark", fwmark=2147483647),
        dict(protocol="fwmark", fwmark=1, one_packet=True),
    ], "-a -f 4294967295 -r 192.0.2.11:0 -g -w 1")),
    ("ipv6", ([
        dict(address="2001:DB8:0::100", port=443, persistence_timeout=120, persistence_netmask=64, real_servers=[
            dict(address="2001:db8::11"),
            dict(address="2001:db8::12", port=8443, forwarding_method="nat"),
            dict(address="203.0.113.19", forwarding_method="tun"),
        ]),
        dict(protocol="udp", address="2001:db8::53", port=53, real_servers=[dict(address="2001:db8::11", forwarding_method="nat")]),
    ], "-a -t [2001:db8::100]:443 -r [2001:db8::12]:8443 -m -w 1")),
    ("every forwarding method and tunnel option", ([
        dict(WEB, scheduler="wrr", real_servers=[
            dict(address="192.0.2.11"),
            dict(address="198.51.100.12", port=8080, forwarding_method="nat", weight=2),
            dict(address="203.0.113.13", forwarding_method="tun", tunnel_type="ipip", weight=3),
            dict(address="203.0.113.14", forwarding_method="tun", tunnel_type="gue", tunnel_port=6080, tunnel_checksum="csum"),
            dict(address="203.0.113.15", forwarding_method="tun", tunnel_type="gue", tunnel_port=6081, tunnel_checksum="remcsum"),
            dict(address="203.0.113.16", forwarding_method="tun", tunnel_type="gue", tunnel_port=6082),
            dict(address="203.0.113.17", forwarding_method="tun", tunnel_type="gre"),
            dict(address="203.0.113.18", forwarding_method="tun", tunnel_type="gre", tunnel_checksum="csum"),
        ]),
        dict(protocol="udp", address="192.0.2.102", port=53, scheduler="rr", one_packet=True,
             real_servers=[dict(address="198.51.100.11", port=5353, forwarding_method="nat")]),
        dict(protocol="sctp", address="192.0.2.102", port=3868, real_servers=[dict(address="198.51.100.11", forwarding_method="nat")]),
    ], "-a -t 192.0.2.102:80 -r 203.0.113.15:80 -i -w 1 --tun-type gue --tun-port 6081 --tun-remcsum")),
    ("persistence with netmask and engine", ([
        dict(address="192.0.2.102", port=0, persistence_timeout=300, persistence_netmask="255.255.255.0"),
        dict(address="192.0.2.102", port=81, persistence_timeout=20, persistence_netmask="16"),
        dict(address="192.0.2.102", port=82, persistence_timeout=30, persistence_netmask="255.255.255.255"),
        dict(protocol="udp", address="192.0.2.102", port=5060, persistence_timeout=60, persistence_engine="sip"),
    ], "-A -t 192.0.2.102:81 -s wlc -p 20 -M 255.255.0.0")),
    ("scheduler flags", ([
        dict(address="192.0.2.101", port=80, scheduler="sh", scheduler_flags=["sh-port", "sh-fallback"]),
        dict(address="192.0.2.101", port=81, scheduler="mh", scheduler_flags=["mh-fallback", "mh-port"]),
        dict(address="192.0.2.101", port=82, scheduler="mh", scheduler_flags=["mh-port"]),
    ], "-A -t 192.0.2.101:80 -s sh -b sh-fallback,sh-port")),
    ("real-server items absent and drained", ([
        dict(WEB, real_servers=[dict(address="192.0.2.11", state="drained", weight=5), dict(address="192.0.2.12", state="absent")]),
    ], "-a -t 192.0.2.102:80 -r 192.0.2.11:80 -g -w 0")),
])


def described(config):
    """The table config describes, order aside: service -> (settings, real servers)."""
    return dict((service, (entry.settings, dict(entry.real_servers))) for service, entry in config_table(config).items())


@pytest.mark.parametrize("config, fragment", ROUND_TRIPS.values(), ids=list(ROUND_TRIPS))
def test_parsed_of_rendered_is_the_same_table(config, fragment):
    rendered = rendered_lines(config)
    assert rendered[0] == RULES_HEADER
    assert fragment in rendered
    parsed = parsed_config("".join(line + "\n" for line in rendered))
    assert described(parsed) == described(config)
    # In ipvs_table's own terms: the parsed config, applied over the table config describes,
    # plans no operation - not even with state overridden.
    table = config_table(config)
    assert plan_operations(table, *desired_table(parsed, "overridden", table), purge_other_services=True) == []
    assert rendered_lines(parsed) == rendered


def test_rendered_is_complete_and_ordered():
    config = [
        dict(protocol="fwmark", fwmark=3000000000, real_servers=[dict(address="192.0.2.12", upper_threshold=9)]),
        dict(address="192.0.2.100", port=80, real_servers=[
            dict(address="192.0.2.12", lower_threshold=1, upper_threshold=2),
            dict(address="192.0.2.11"),
        ]),
    ]
    assert rendered_lines(config) == [
        "# lvs.topology rules v1",
        "-A -f 3000000000 -s wlc",
        "-A -t 192.0.2.100:80 -s wlc",
        "-a -f 3000000000 -r 192.0.2.12:0 -g -w 1 -x 9",
        "-a -t 192.0.2.100:80 -r 192.0.2.11:80 -g -w 1",
        "-a -t 192.0.2.100:80 -r 192.0.2.12:80 -g -w 1 -x 2 -y 1",
    ]
    # The order is the text's own, not the config's: the same table is always the same text.
    assert rendered_lines(list(reversed(config))) == rendered_lines(config)
    assert rendered_lines([]) == [RULES_HEADER]


# What ipvsadm 1.31 reads from an -A or -a line, for the options the rules carry (ipvsadm.c:
# commands_v_options rows ADD and ADDSRV, parse_options()): the option -> the range its number
# must be in, or None where this check reads no number (a switch, in IPVSADM_R_SWITCHES, takes
# no value at all).
IPVSADM_R_OPTIONS = {
    "-A": {"-t": None, "-u": None, "--sctp-service": None, "-f": (1, 4294967295), "-6": None, "-s": None,
           "-p": (1, 2678400), "-M": None, "--pe": None, "-o": None, "-b": None},
    "-a": {"-t": None, "-u": None, "--sctp-service": None, "-f": (1, 4294967295), "-6": None, "-r": None,
           "-g": None, "-m": None, "-i": None, "-w": (0, 65535), "-x": (0, 2147483647), "-y": (0, 2147483647),
           "--tun-type": None, "--tun-port": None, "--tun-nocsum": None, "--tun-csum": None, "--tun-remcsum": None},
}
IPVSADM_R_SWITCHES = ("-6", "-o", "-g", "-m", "-i", "--tun-nocsum", "--tun-csum", "--tun-remcsum")


def ipvsadm_r_refusals(line):
    """What ipvsadm -R (64-bit, ipvsadm 1.31) would refuse in one line, as sentences; none for a
    line it takes. config_stream_read() ends a line at a '#' that follows white space, and
    parse_fwmark() reads a mark with strtol(), so a negative one ('-f -1', as --save prints
    marks above 2147483647) is refused."""
    words = line.split()
    if words[0] not in IPVSADM_R_OPTIONS:
        return ["%r: not an -A or -a line" % line]
    options, refusals, index = IPVSADM_R_OPTIONS[words[0]], [], 1
    while index < len(words):
        option = words[index]
        if option.startswith("#") or option not in options:
            refusals.append("%r: %s is no option of %s" % (line, option, words[0]))
        elif option not in IPVSADM_R_SWITCHES:
            index += 1
            value = words[index] if index < len(words) else ""
            limits = options[option]
            if limits and not (value.isdigit() and limits[0] <= int(value) <= limits[1]):
                refusals.append("%r: %s %r is not from %d to %d" % (line, option, value, limits[0], limits[1]))
        index += 1
    return refusals


def test_ipvsadm_restore_hands_ipvsadm_r_every_rule_and_nothing_else():
    """The director role's boot unit feeds the rules file to ipvsadm-restore, which drops the
    lines that start with '#' (grep -v '^#') and hands the rest to ipvsadm -R: that is every
    -A and -a line, thresholds and the mark above 2147483647 included, each one ipvsadm -R takes."""
    config = [
        dict(protocol="fwmark", fwmark=3000000000, scheduler="rr", real_servers=[
            dict(address="192.0.2.11", upper_threshold=1000, lower_threshold=800),
            dict(address="192.0.2.12", upper_threshold=2147483647),
        ]),
        dict(address="192.0.2.100", port=80, persistence_timeout=300, real_servers=[dict(address="192.0.2.11", weight=3)]),
    ]
    text = "".join(line + "\n" for line in rendered_lines(config))
    fed = [line for line in text.splitlines() if not line.startswith("#")]
    assert fed == [
        "-A -f 3000000000 -s rr",
        "-A -t 192.0.2.100:80 -s wlc -p 300",
        "-a -f 3000000000 -r 192.0.2.11:0 -g -w 1 -x 1000 -y 800",
        "-a -f 3000000000 -r 192.0.2.12:0 -g -w 1 -x 2147483647",
        "-a -t 192.0.2.100:80 -r 192.0.2.11:80 -g -w 3",
    ]
    assert [refusal for line in fed for refusal in ipvsadm_r_refusals(line)] == []
    # The checker refuses what ipvsadm -R refuses: the header, and the mark as --save prints it.
    assert ipvsadm_r_refusals(RULES_HEADER) == ["%r: not an -A or -a line" % RULES_HEADER]
    assert ipvsadm_r_refusals("-A -f -1294967296 -s rr") == ["'-A -f -1294967296 -s rr': -f '-1294967296' is not from 1 to 4294967295"]


def test_ipvsadm_save_output_reads_as_rules_with_unsigned_fwmarks():
    """ipvsadm -Sn's lines (kernel order, "-f -1" for fwmark 4294967295) are the rules'
    lines but for the order and the mark."""
    parsed = parsed_config(SAVED)
    assert dict(protocol="fwmark", fwmark=4294967295, family="ipv4") == dict(
        (key, parsed[0][key]) for key in ("protocol", "fwmark", "family"))
    rendered = rendered_lines(parsed)
    assert sorted(rendered[1:]) == sorted(SAVED.replace("-f -1 ", "-f 4294967295 ").splitlines())
    assert not [line for line in rendered if " -f -" in line]


def test_gathered_thresholds_are_rendered():
    """What -Sn lacks, the gathered table has: rendering it keeps the thresholds."""
    table = with_thresholds(parse_saved_table(SAVED), real_server_thresholds(parse_listing(captured("thresholds_all_features.txt"))))
    rendered = rendered_lines(table_config(table))
    assert "-a -t 192.0.2.102:80 -r 192.0.2.11:80 -g -w 1 -x 100 -y 50" in rendered
    assert described(parsed_config("\n".join(rendered))) == described(table_config(table))


@pytest.mark.parametrize("case", BAD_INPUT_CASES, ids=[case["message"][:60] for case in BAD_INPUT_CASES])
def test_rendered_refuses_what_every_state_refuses(case):
    with pytest.raises(IpvsInputError) as rendered:
        rendered_lines(case["config"])
    with pytest.raises(IpvsInputError) as overridden:
        desired_table(case["config"], "overridden", OrderedDict())
    assert str(rendered.value) == str(overridden.value)
    assert case["message"] in str(rendered.value)


@pytest.mark.parametrize("text, message", [
    ("-A -t lb.example.com:http -s wlc\n", "running_config line 1 (-A -t lb.example.com:http -s wlc): cannot read address:port"),
    ("-A -t 192.0.2.1:80 -s wlc\n-E -t 192.0.2.1:80 -s rr\n", "line 2 (-E -t 192.0.2.1:80 -s rr): unknown command '-E'"),
    ("# lvs.topology rules v2\n-A -t 192.0.2.1:80 -s wlc\n", "running_config has the header '# lvs.topology rules v2'"),
    ("-A -f -2147483649 -s rr\n", "fwmark -2147483649 is out of range"),
    ("-A -f 4294967296 -s rr\n", "fwmark 4294967296 is out of range"),
    ("-A -f 0 -s rr\n", "fwmark 0 is out of range"),
    ("-A -t 192.0.2.1:80 -s wlc -p 20s\n", "option -p has a non-numeric value '20s'"),
    ("-A -t 192.0.2.1:80 -s wlc -p 20 -M 255.0.255.x\n", "is not an IPv4 netmask"),
    ("-A -t 192.0.2.1:80 -s wlc\n-a -t 192.0.2.1:80 -r 192.0.2.11:80 -g\n-a -t 192.0.2.1:80 -r 192.0.2.11:80 -m\n",
     "line 3 (-a -t 192.0.2.1:80 -r 192.0.2.11:80 -m): real server 192.0.2.11:80 is added to tcp 192.0.2.1:80 a second time"),
    ("-A -t 192.0.2.1:80 -s wlc\n-A -t 192.0.2.1:80 -s rr\n", "line 2 (-A -t 192.0.2.1:80 -s rr): tcp 192.0.2.1:80 is added a second time"),
    # Lines ipvsadm could print, but a table ipvs_table refuses as config, named by service.
    ("-A -t 192.0.2.1:80 -s rr -o\n", "running_config[tcp 192.0.2.1:80]: one_packet scheduling applies only to udp and fwmark"),
    ("-A -t 192.0.2.1:80 -s wlc --pe sip\n", "running_config[tcp 192.0.2.1:80]: persistence_engine needs persistence"),
    ("-A -t 192.0.2.1:80 -s fastest\n", "running_config[tcp 192.0.2.1:80]: scheduler 'fastest' is unknown; use one of"),
    ("-A -t 192.0.2.1:80 -s wlc\n-a -t 192.0.2.1:80 -r 192.0.2.11:80 -g -w 70000\n",
     "running_config[tcp 192.0.2.1:80].real_servers[0]: real server 192.0.2.11 weight must be from 0 to 65535, got 70000."),
    # Options a config has no place for are refused, never dropped.
    ("-A -t 192.0.2.1:80 -s wlc -M 255.255.255.0\n", "line 1 (-A -t 192.0.2.1:80 -s wlc -M 255.255.255.0): -M (persistence netmask) needs -p"),
    ("-A -t 192.0.2.1:80 -s wlc\n-a -t 192.0.2.1:80 -r 192.0.2.11:80 -g -w 1 --tun-type gue\n", "tunnel options (--tun-...) need tunnelling (-i)"),
    ("-A -t 192.0.2.1:80 -s wlc\n-a -t 192.0.2.1:80 -r 192.0.2.11:80 -i -w 1 --tun-port 6080\n", "--tun-port applies only to --tun-type gue"),
    ("-A -t 192.0.2.1:80 -s wlc\n-a -t 192.0.2.1:80 -r 192.0.2.11:80 -i -w 1 --tun-csum\n", "apply only to --tun-type gue or gre"),
    ("-A -t 192.0.2.1:80 -s wlc\n-a -t 192.0.2.1:80 -r 192.0.2.11:80 -i -w 1 --tun-type gue\n", "uses tunnel_type gue, which needs tunnel_port"),
    ("-A -t 192.0.2.1:80 -s wlc\n-a -t 192.0.2.1:80 -r 192.0.2.11:80 -g -w 1 -x 5 -y 6\n", "lower_threshold 6 is above its upper_threshold 5"),
])
def test_parsed_refuses_bad_text_with_one_sentence(text, message):
    with pytest.raises(IpvsInputError) as error:
        parsed_config(text)
    assert message in str(error.value)
    assert str(error.value).startswith("running_config")
    assert "\n" not in str(error.value)


def test_parse_rules_reads_its_header_and_blank_lines():
    table = parse_rules("%s\n\n-A -u 192.0.2.1:53 -s rr -o\n" % RULES_HEADER)
    assert [service.label() for service in table] == ["udp 192.0.2.1:53"]


@pytest.mark.parametrize("params, message", [
    (dict(state="parsed", config=[dict(address="192.0.2.1", port=80)], running_config=""), "config does not apply with state parsed"),
    (dict(state="parsed", config='[{"address": "192.0.2.1", "port": 80}]', running_config=""), "config does not apply with state parsed"),
    (dict(state="merged", config=[], running_config="-A -t 192.0.2.1:80 -s wlc"), "running_config applies only with state parsed"),
    (dict(state="rendered", config=[], running_config=""), "running_config applies only with state parsed; state rendered takes config"),
])
def test_each_state_takes_its_own_input(params, message):
    with pytest.raises(IpvsInputError) as error:
        check_state_options(params)
    assert message in str(error.value)


def test_a_parsed_state_without_config_is_fine():
    check_state_options(dict(state="parsed", config="[]", running_config=""))
    check_state_options(dict(state="rendered", config=[], running_config=None))
