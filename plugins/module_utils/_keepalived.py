# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the keepalived role's variables may be, checked before keepalived.conf is written.

keepalived.conf is read by a daemon that runs as root and can run scripts (notify_master,
MISC_CHECK): a value that could end a line, open or close a block, start a comment or a
keepalived ``$`` parameter would let a variable write configuration of its own. Every value
the template writes therefore passes an allow-list here first; the rules for interface
names, labels and addresses are those of _names, shared with the modules.

Standard library only.

Private to the collection: this API may change without notice.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.lvs.topology.plugins.module_utils._names import (
    distinct_problems,
    ip_address_problem,
    optional_interface_problem,
    shown,
    vip_problems,
)
from ansible_collections.lvs.topology.plugins.module_utils.ipvs.timeouts import timeouts_problem

BACKENDS = ("modules", "keepalived")
VRRP_VERSIONS = (2, 3)
# vrrp_instance and lvs_sync_daemon take the name as one word.
INSTANCE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")
INSTANCE_RULE = "1 to 64 letters, digits, _ and -, starting with a letter"
# router_id takes the inventory name; IPv6 inventory names need ':'.
HOST_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:-]{0,252}")
# PASS authentication sends at most 8 characters (RFC 2338's 8-octet field); keepalived
# silently drops the rest, so a longer password would not be the one the peers compare.
MAX_AUTH_PASS_LENGTH = 8
# Printable ASCII but what keepalived's parser reads as syntax: blanks end the word, " and '
# quote, # and ! start a comment, braces open and close blocks, $ starts a parameter and
# \ continues a line.
AUTH_PASS_REFUSED = "\"'#!{}$\\"
AUTH_PASS_RULE = ("1 to %d printable ASCII characters without blanks, quotes, #, !, $, \\ or braces"
                  % MAX_AUTH_PASS_LENGTH)
# VRRPv3 carries the advert interval in centiseconds in 12 bits; VRRPv2 in whole seconds in 8 bits.
ADVERT_CENTISECONDS = {2: (100, 25500), 3: (1, 4095)}
ADVERT_NUMBER = re.compile(r"[0-9]{1,3}(\.[0-9]{1,2})?")
# keepalived's own bounds.
PRIORITY_RANGE = (1, 254)
ROUTER_ID_RANGE = (1, 255)
PREEMPT_DELAY_RANGE = (0, 1000)
SYNC_ID_RANGE = (0, 255)


def whole_number(value):
    """value as an int when it is written as a whole number (5 or "5"), else None (True, 5.0, "5\\n")."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"[0-9]+", value):
        return int(value)
    return None


def _range_problem(name, value, bounds):
    number = whole_number(value)
    if number is None or not bounds[0] <= number <= bounds[1]:
        return "%s %s is not a whole number from %d to %d." % (name, shown(value), bounds[0], bounds[1])
    return None


def _advert_interval_problem(value, version):
    """Seconds between adverts: hundredths from 0.01 to 40.95 with VRRPv3, whole seconds from 1 to 255 with VRRPv2."""
    text = str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value
    centiseconds = None
    if isinstance(text, str) and ADVERT_NUMBER.fullmatch(text):
        centiseconds = int(round(float(text) * 100))
    if version == 2:
        low, high = ADVERT_CENTISECONDS[2]
        if centiseconds is None or centiseconds % 100 or not low <= centiseconds <= high:
            return "keepalived_advert_interval %s is not a whole number of seconds from 1 to 255 (VRRPv2)." % shown(value)
    else:
        low, high = ADVERT_CENTISECONDS[3]
        if centiseconds is None or not low <= centiseconds <= high:
            return ("keepalived_advert_interval %s is not a number of seconds from 0.01 to 40.95 with at most two "
                    "decimals (VRRPv3)." % shown(value))
    return None


def auth_pass_problem(value):
    """Why value cannot be keepalived_auth_pass (None when it can); the sentence never shows the password."""
    if value is None or value == "":
        return None
    if (not isinstance(value, str) or not 1 <= len(value) <= MAX_AUTH_PASS_LENGTH
            or any(not "!" <= char <= "~" or char in AUTH_PASS_REFUSED for char in value)):
        return "keepalived_auth_pass must be %s." % AUTH_PASS_RULE
    return None


def _host_problems(variables):
    hosts = variables.get("keepalived_hosts", [])
    if not isinstance(hosts, (list, tuple)):
        return ["keepalived_hosts must be a list of inventory hosts, not %s." % shown(hosts)]
    problems = []
    names = list(hosts)
    if "inventory_hostname" in variables and variables["inventory_hostname"] not in names:
        names.insert(0, variables["inventory_hostname"])
    for host in names:
        if not isinstance(host, str) or not HOST_NAME.fullmatch(host):
            problems.append("Host %s cannot be named in keepalived.conf: a host name there is 1 to 253 letters, digits "
                            "and . _ - :, starting with a letter, a digit or _." % shown(host))
    return problems


def _peer_problems(peers):
    if not isinstance(peers, (list, tuple)):
        return ["keepalived_unicast_peers must be a list of IP addresses, not %s." % shown(peers)]
    return [ip_address_problem(peer, "keepalived_unicast_peers entry") for peer in peers]


def keepalived_problems(variables, vips=None):
    """Every problem of the keepalived role's variables, one sentence each (empty: none).

    variables: the role's variables by name (keepalived_instance_name, ..., and
    inventory_hostname); one that is missing is not checked, so a caller can check a part.
    vips: the role's VIP list (address, prefix, interface, label), from lvs_director_vips.
    """
    problems = []

    def check(name, rule):
        if name in variables:
            problems.append(rule(variables[name]))

    check("keepalived_backend", lambda value: None if value in BACKENDS
          else "keepalived_backend %s is not one of %s." % (shown(value), ", ".join(BACKENDS)))
    check("keepalived_instance_name", lambda value: None if isinstance(value, str) and INSTANCE_NAME.fullmatch(value)
          else "keepalived_instance_name %s is not a name: %s." % (shown(value), INSTANCE_RULE))
    for name in ("keepalived_interface", "keepalived_vip_interface", "keepalived_sync_interface"):
        check(name, lambda value, name=name: optional_interface_problem(value, name))
    check("keepalived_virtual_router_id", lambda value: _range_problem("keepalived_virtual_router_id", value, ROUTER_ID_RANGE))
    check("keepalived_priority", lambda value: _range_problem("keepalived_priority", value, PRIORITY_RANGE))
    check("keepalived_preempt_delay", lambda value: _range_problem("keepalived_preempt_delay", value, PREEMPT_DELAY_RANGE))
    check("keepalived_sync_id", lambda value: _range_problem("keepalived_sync_id", value, SYNC_ID_RANGE))
    version = whole_number(variables.get("keepalived_vrrp_version", 3))
    check("keepalived_vrrp_version", lambda value: None if version in VRRP_VERSIONS
          else "keepalived_vrrp_version %s is not 2 or 3." % shown(value))
    check("keepalived_advert_interval", lambda value: _advert_interval_problem(value, version))
    check("keepalived_auth_pass", auth_pass_problem)
    check("keepalived_ipvs_timeouts", lambda value: timeouts_problem(value, "keepalived_ipvs_timeouts"))
    if variables.get("keepalived_auth_pass") and version != 2:
        problems.append("keepalived_auth_pass needs keepalived_vrrp_version 2: VRRPv3 has no authentication.")
    if "keepalived_unicast_peers" in variables:
        problems.extend(_peer_problems(variables["keepalived_unicast_peers"]))
    problems.extend(_host_problems(variables))
    problems.extend(vip_problems(vips))
    return distinct_problems(problems)
