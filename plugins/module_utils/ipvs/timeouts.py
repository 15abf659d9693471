# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The IPVS connection timeouts that ``ipvsadm --set TCP TCPFIN UDP`` sets and
``ipvsadm -L --timeout`` prints: their names, their range and the command that sets them.

Standard library only. Private to the collection: this API may change without notice.

What the tools do with the values (ipvsadm 1.31's ipvsadm.c, Linux 6.1's ip_vs_ctl.c):

- ipvsadm --set takes all three, each 0 to 31 days (MAX_TIMEOUT, 86400 * 31).
- The kernel refuses the whole call (EINVAL) when any value is above INT_MAX / HZ seconds -
  more than 31 days with Debian's HZ of 250, 2147483 s (24.8 days) with HZ 1000 - and else
  sets each value that is not 0: 0 means "leave this timeout as it is", so no timeout can be
  set to 0, and the omitted ones of a task go to ipvsadm as 0.
- tcp is the timeout of an ESTABLISHED TCP connection, tcpfin of one in FIN_WAIT, udp of a
  UDP connection; the kernel starts with 900, 120 and 300 seconds (ip_vs_proto_tcp.c,
  ip_vs_proto_udp.c) each time ip_vs is loaded, and keeps the values only until it is unloaded
  or the host reboots.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections import OrderedDict

from ansible_collections.lvs.topology.plugins.module_utils.ipvs.model import IpvsInputError, checked_int

# In the order of ipvsadm --set's arguments and of its --timeout listing.
TIMEOUT_NAMES = ("tcp", "tcpfin", "udp")
KERNEL_DEFAULTS = OrderedDict([("tcp", 900), ("tcpfin", 120), ("udp", 300)])
MIN_TIMEOUT = 1
# ipvsadm's (and keepalived's lvs_timeouts') limit; a kernel built with HZ 1000 refuses more
# than 2147483 s, which ipvsadm reports and the module passes on.
MAX_TIMEOUT = 86400 * 31
# What ipvsadm --set reads as "leave this timeout as it is".
UNCHANGED = 0


def checked_timeout(value, name):
    """value as seconds to set, or IpvsInputError with one sentence; 0 is refused by name,
    since ipvsadm and the kernel read it as 'unchanged'."""
    if value is not None and not isinstance(value, bool) and str(value).strip() == str(UNCHANGED):
        raise IpvsInputError(
            "%s 0 cannot be set: ipvsadm --set and the kernel read 0 as 'leave this timeout unchanged'; leave %s out "
            "to keep the current value, or give %d to %d seconds." % (name, name, MIN_TIMEOUT, MAX_TIMEOUT))
    return checked_int(value, name, MIN_TIMEOUT, MAX_TIMEOUT)


def checked_timeouts(values, what):
    """The wanted timeouts of a mapping name -> seconds (None or absent: leave as it is), as an
    OrderedDict of the given ones in TIMEOUT_NAMES order; IpvsInputError with one sentence for
    anything else. what names the mapping in that sentence (a role variable)."""
    if not isinstance(values, dict):
        raise IpvsInputError("%s must be a mapping of tcp, tcpfin and udp to seconds, not %r." % (what, values))
    unknown = sorted(str(name) for name in values if name not in TIMEOUT_NAMES)
    if unknown:
        raise IpvsInputError("%s has %s, which is not an IPVS timeout; use tcp, tcpfin and udp." % (what, ", ".join(unknown)))
    return OrderedDict((name, checked_timeout(values[name], "%s %s" % (what, name)))
                       for name in TIMEOUT_NAMES if values.get(name) is not None)


def timeouts_problem(values, what):
    """Why a role variable (what) cannot be the timeouts to set (None when it can); null and an
    empty mapping are no timeouts."""
    try:
        checked_timeouts({} if values is None else values, what)
    except IpvsInputError as error:
        return str(error)
    return None


def set_arguments(current, wanted):
    """The arguments of the ipvsadm --set call that takes current to wanted (both name -> seconds),
    0 for each timeout that stays; None when none changes."""
    if all(wanted.get(name, current[name]) == current[name] for name in TIMEOUT_NAMES):
        return None
    return ["--set"] + [str(wanted[name] if wanted.get(name, current[name]) != current[name] else UNCHANGED)
                        for name in TIMEOUT_NAMES]


def timeouts_phrase(timeouts):
    """The timeouts as a message names them: tcp 900, tcpfin 120, udp 300."""
    return ", ".join("%s %d" % (name, timeouts[name]) for name in TIMEOUT_NAMES)


def timeouts_text(timeouts):
    """One 'name: seconds' line a timeout, for a diff."""
    return "".join("%s: %d\n" % (name, timeouts[name]) for name in TIMEOUT_NAMES)
