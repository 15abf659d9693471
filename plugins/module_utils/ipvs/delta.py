# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Planning a small change from the record of the last converged run, not from the whole table.

Private to the collection: this API may change without notice.

The record (record.py) says: with this planning code and state, a config whose items had these
digests left the table of this digest, and planning that config against that table yields no
operation. Each item of a config is checked and planned against its own service alone, and
overridden deletes only the services no item names. So when the live table's digest is the
recorded one again, an item equal to a recorded item yields no operation, and only the items
that differ, and the services of recorded items the config no longer has, need planning: those
are checked, and planned against the lines of just their services in the live -Sn listing. On a
one-weight change of 5000 rules this skips checking 1250 items and parsing 6250 lines.

Taken only where that reasoning holds: the states merged, replaced and overridden, a config that
lists services, a live table without thresholds (its -Sn lines are then all of it), and no diff
(which shows the whole table). Anything else, and any mismatch of the record, plans the whole
table. Pure Python over the standard library: no command is run in this file.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import bisect
import hashlib
import marshal
from collections import Counter, OrderedDict

from ansible_collections.lvs.topology.plugins.module_utils.ipvs.model import IpvsInputError, VirtualService
from ansible_collections.lvs.topology.plugins.module_utils.ipvs.resource import desired_table
from ansible_collections.lvs.topology.plugins.module_utils.ipvs.saveformat import parse_saved_table, parse_service_words

DELTA_STATES = ("merged", "replaced", "overridden")


def item_digest(item):
    """A digest of one config item (as json.loads reads it): equal digests are equal items, of
    equal types (1 and true, 1 and 1.0 stay apart); the same item with its keys in another order
    is merely planned again."""
    # marshal's format 2 writes each value by its type and contents alone (no references
    # between objects, which came with format 3), in a third of the time json.dumps takes.
    return hashlib.sha256(marshal.dumps(item, 2)).hexdigest()[:32]


def config_index(digests, services):
    """The index the record keeps: [item digest, the item's service as a list] per item."""
    return [[digest, list(service)] for digest, service in zip(digests, services)]


class Delta(object):
    """What a run plans from the record: the changed items and the services to look at.

    items are the changed items, positions their places in the config and digests their
    item_digest(); kept maps the service of each item equal to a recorded one to its place in the
    config (None when only the controller knows it, see delta_from_argument) and its digest;
    dropped holds (digest, service) of each recorded item the config no longer has.
    """

    def __init__(self, items, positions, kept, dropped):
        self.items = items
        self.positions = positions
        self.digests = [item_digest(item) for item in items]
        self.kept = kept
        self.dropped = dropped


class DeltaUnusable(Exception):
    """The changed items the controller sent cannot be planned without the whole config."""


def delta_from_index(config, index):
    """Match the config's items with the recorded index: a Delta, or None when the index is
    unreadable. An item that occurs more often than recorded counts as changed."""
    digests = [item_digest(item) for item in config]
    try:
        recorded = Counter(digest for digest, dummy in index)
        service_of = dict((digest, VirtualService(*service)) for digest, service in index)
    except (TypeError, ValueError):
        return None
    positions, kept = [], OrderedDict()
    for position, digest in enumerate(digests):
        if recorded[digest] > 0:
            recorded[digest] -= 1
            kept[service_of[digest]] = (position, digest)
        else:
            positions.append(position)
    dropped = [(digest, service_of[digest]) for digest, count in recorded.items() for dummy in range(count)]
    return Delta([config[position] for position in positions], positions, kept, dropped)


def delta_argument(delta):
    """What ipvs_table's action sends the module instead of the whole config, beside the changed
    items themselves: their places in the config and the digests of the recorded items gone."""
    return dict(positions=delta.positions, dropped=[digest for digest, dummy in delta.dropped])


def delta_from_argument(index, items, argument):
    """The Delta of delta_argument() and the changed items, matched with the host's own copy of
    the index; None when that index lacks an item the controller saw as gone."""
    try:
        positions, gone = list(argument["positions"]), Counter(argument["dropped"])
        entries = [(digest, VirtualService(*service)) for digest, service in index]
    except (KeyError, TypeError, ValueError):
        return None
    if len(positions) != len(items):
        return None
    kept, dropped = OrderedDict(), []
    for digest, service in entries:
        if gone[digest] > 0:
            gone[digest] -= 1
            dropped.append((digest, service))
        else:
            kept[service] = (None, digest)
    return None if sum(gone.values()) else Delta(items, positions, kept, dropped)


def services_listed(record_lines, services):
    """The table of just these services (those of them that exist) from the live -Sn lines in
    record order, parsing only their lines.

    Every -A line sorts before every -a line, and a service's -a lines share the prefix of its
    selector as ipvsadm printed it, so each service is found by bisection: first under the
    selector as this collection writes it, else (a service not in the table, or one ipvsadm
    spells otherwise, such as a fwmark above 2147483647) by reading the selector of every -A line.
    """
    first_real_server = bisect.bisect_left(record_lines, "-a")
    service_lines = record_lines[:first_real_server]
    selectors, unfound = OrderedDict(), []
    for service in OrderedDict.fromkeys(services):
        selector = " ".join(service.words())
        start, end = _prefixed(service_lines, "-A %s -" % selector)
        if end > start and _listed_service(service_lines[start]) == (service, selector):
            selectors[service] = selector
        else:
            unfound.append(service)
    if unfound:
        wanted = set(unfound)
        for line in service_lines:
            service, selector = _listed_service(line)
            if service in wanted:
                selectors[service] = selector
    picked = []
    for service, selector in selectors.items():
        for prefix in ("-A %s -", "-a %s -r "):
            start, end = _prefixed(record_lines, prefix % selector)
            picked.extend(record_lines[start:end])
    table = parse_saved_table("".join(line + "\n" for line in picked))
    return OrderedDict((service, table[service]) for service in selectors if service in table)


def _prefixed(lines, prefix):
    """(start, end): the range of the sorted lines that start with prefix."""
    start = bisect.bisect_left(lines, prefix)
    return start, bisect.bisect_left(lines, prefix[:-1] + chr(ord(prefix[-1]) + 1), start)


def _listed_service(line):
    """(VirtualService, its selector as listed) of an -A line."""
    words = line.split()
    service, length = parse_service_words(words[1:])
    return service, " ".join(words[1:1 + length])


def plan_delta(state, delta, record_lines):
    """(have, desired, absent) of the changed items: have holds only the services they and the
    dropped items name, desired the changed items' services. Raises IpvsInputError as the full
    plan does, naming each item by its place in config; DeltaUnusable when a changed item names
    the service of an item whose place only the whole config tells."""
    names = ["config[%d]" % position for position in delta.positions]
    # The services first (each item's identity checked, as "deleted" reads items), so a service
    # an unchanged item names again is refused before any listing is parsed.
    dummy, services = desired_table(delta.items, "deleted", OrderedDict(), names)
    for service, position in zip(services, delta.positions):
        if service in delta.kept:
            kept_position = delta.kept[service][0]
            if kept_position is None:
                raise DeltaUnusable()
            raise IpvsInputError("config[%d] repeats the service %s; list each service once." % (
                max(position, kept_position), service.label()))
    dropped = [service for dummy, service in delta.dropped] if state == "overridden" else []
    have = services_listed(record_lines, services + dropped)
    # merged takes unset options from the live service, drained real servers keep theirs: the
    # items are built against have, which holds every service they name.
    desired, absent = desired_table(delta.items, state, have, names)
    return have, desired, absent


def index_after(delta, desired):
    """The index of the whole config once planned from the delta: the recorded items kept, then
    the changed ones (delta_from_index() counts items, whatever their order)."""
    kept = [[digest, list(service)] for service, (dummy, digest) in delta.kept.items()]
    return kept + config_index(delta.digests, [want.service for want in desired])
