# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A record of the last converged table, so that an unchanged ipvs_table run skips planning.

Private to the collection: this API may change without notice.

Planning is a function of four things: the planning code, the task's state, its config and
the live table. After a run that left the kernel's table so that planning it again yields no
operation, ipvs_table records a digest of the four; a later run with the same four needs no
planning, its answer is "no change". The live table is still read on every run, so anything
that changed it (a rule edited by hand, a reboot, another task) misses the record and takes
the full path. On a TCG guest this turns a 5000-rule no-op from seconds of argument checking
and diffing into the two ipvsadm reads (docs/performance.md).

Beside it, the record keeps an index of the recorded run's config: a digest of each item and
the service it describes, in a file of its own (the action plugin reads only the record, and
the index is as long as the config). A later run with other items but the same code and state
on the same live table plans only the items that differ (module_utils/ipvs/delta.py).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import importlib
import json
import os
import tempfile

from ansible_collections.lvs.topology.plugins.module_utils.ipvs.listing import thresholds_unset, without_connection_counters
from ansible_collections.lvs.topology.plugins.module_utils.ipvs.saveformat import in_record_order

MEMO_PATH = "/run/lvs-topology/ipvs_table.memo"
# The module_utils that plan (parse the listings, check the config, diff); their text and
# ipvs_table's own enter the run key, so a new version of the collection plans afresh.
# resource turns ipvs_table's config into the desired services.
PLANNING_MODULE_UTILS = ("model", "values", "saveformat", "plan", "listing", "host", "resource", "delta")
MODULE_UTILS_PACKAGE = "ansible_collections.lvs.topology.plugins.module_utils.ipvs."


def _text(value):
    return value if isinstance(value, bytes) else value.encode("utf-8")


def module_source(module):
    """The source text of an imported module, from a file or the AnsiballZ zip alike."""
    return module.__loader__.get_data(module.__file__)


def _planning_digest(module_text, state):
    """sha256 object over the planning code (ipvs_table's text given) and the state; None when
    the code cannot be read."""
    digest = hashlib.sha256()
    try:
        for name in PLANNING_MODULE_UTILS:
            digest.update(_text(module_source(importlib.import_module(MODULE_UTILS_PACKAGE + name))))
    except (AttributeError, ImportError, IOError, OSError):
        return None
    digest.update(_text(module_text))
    digest.update(b"\0" + _text(state))
    return digest


def run_key(module_text, state, config_text):
    """Digest of the planning code (ipvs_table's text given) and the task's parameters.

    The same on the host (the module, reading its payload) and on the controller (the action
    plugin, reading the collection), which is what lets the action plugin check the record.
    None when the code cannot be read.
    """
    digest = _planning_digest(module_text, state)
    if digest is None:
        return None
    digest.update(b"\0" + _text(config_text))
    return digest.hexdigest()


def planning_key(module_text, state):
    """Digest of the planning code and the state alone: a run with another config may plan
    from the recorded index only under the same key (delta.py). None when the code cannot be read."""
    digest = _planning_digest(module_text, state)
    return None if digest is None else digest.hexdigest()


def table_digest(saved, thresholds=None, unset=None):
    """Digest of the live table as read: the save format (-Sn) and the thresholds of the
    -Ln --thresholds listing when any real server has some.

    The -Sn lines are taken in sorted order (in_record_order), which is how the module can
    record, after a change, the table it planned without reading it back (ipvsadm lists
    services in the kernel's hash order). thresholds None means "known to have none"; unset,
    when the caller has already found out, is thresholds_unset(thresholds). saved may also be
    those lines already in record order, as a list. Were the kernel's table ever not what was
    recorded, the next run's digest differs and that run plans afresh: the record is never
    trusted beyond what the next read shows.
    """
    if thresholds is None or (thresholds_unset(thresholds) if unset is None else unset):
        listed = b""
    else:
        # ActiveConn and InActConn move with traffic; they are not the table.
        listed = _text(without_connection_counters(thresholds))
    lines = saved if isinstance(saved, list) else in_record_order(saved.splitlines())
    text = "\n".join(lines) + "\n" if lines else ""
    return hashlib.sha256(_text(text) + b"\0" + listed).hexdigest()


class LiveTable(object):
    """The listings a run read at its start (read_listings(), None without IPVS), sorted,
    searched for thresholds and digested once: lines are the -Sn lines in record order, unset
    whether the table has no thresholds, digest its table_digest() (None without IPVS)."""

    def __init__(self, listings):
        self.listings = listings
        self.lines, self.unset, self.digest = [], True, None
        if listings is not None:
            saved, thresholds = listings
            self.lines = in_record_order(saved.splitlines())
            self.unset = thresholds_unset(thresholds)
            self.digest = table_digest(self.lines, thresholds, self.unset)


# table_digest() as the host's shell computes it, for ipvs_table's action: the listings then
# never cross the connection, only their digest (they are 730 KB at 5000 rules, which took
# over a second through SSH to a TCG guest). awk prints the listing only when some real
# server has thresholds, and then without each real server's two connection counters, as
# table_digest() does; the unit tests run both on the same captured listings. The test for
# thresholds reads fields, which on a TCG guest costs a third of a regular expression per
# line (0.5 s against 1.6 s at 5000 rules); it may take more lines for real-server lines
# than THRESHOLDS_LINE does, which can only make a record miss, never match.
THRESHOLDS_AWK = (
    "$1 == \"->\" && NF == 6 && ($3 != \"0\" || $4 != \"0\") { listed = 1 } "
    "{ line[NR] = $0 } "
    "END { if (listed) for (i = 1; i <= NR; i++) { "
    "if (line[i] ~ /^[ \\t]*->[ \\t]+[^ \\t]+[ \\t]+[0-9]+[ \\t]+[0-9]+[ \\t]+[0-9]+[ \\t]+[0-9]+[ \\t]*$/) "
    "sub(/[ \\t]+[0-9]+[ \\t]+[0-9]+[ \\t]*$/, \"\", line[i]); "
    "print line[i] } }"
)


def table_digest_command(saved_command, thresholds_command):
    """A shell pipeline that prints table_digest() of the two listing commands' output (and
    "  -"); sort orders bytes as Python orders these ASCII lines when LC_ALL=C."""
    return "{ %s | sort; printf '\\000'; %s | awk '%s'; } | sha256sum" % (saved_command, thresholds_command, THRESHOLDS_AWK)


class TableMemo(object):
    """The record on the host: one run key and the digest of the table it converged to; with
    the planning key and the digest of the index of the config's items (see delta.py), whose
    file sits beside it."""

    def __init__(self, key, path=None, planning=None):
        self.key = key
        self.path = path or MEMO_PATH
        self.planning = planning

    @property
    def index_path(self):
        return os.path.splitext(self.path)[0] + ".index"

    def holds(self, listings):
        """True when the last recorded run had this key and left exactly this live table."""
        return listings is not None and self.holds_digest(table_digest(*listings))

    def holds_digest(self, digest):
        """True when the last recorded run had this key and left the table of this table_digest()."""
        return digest is not None and self.matches_digest(_read(self.path), digest)

    def matches(self, recorded_text, listings):
        """True when recorded_text (the record file's content) has this key and this live table."""
        return listings is not None and self.matches_digest(recorded_text, table_digest(*listings))

    def matches_digest(self, recorded_text, digest):
        """True when recorded_text has this key and the live table's table_digest()."""
        recorded = _loaded(recorded_text)
        return self.key is not None and recorded.get("run") == self.key and recorded.get("table") == digest

    def recorded_index(self, digest, index_digest=None):
        """The index of the config of the last recorded run (delta.py) when that run had this
        planning key and left the table of this table_digest(), and the index file is the one
        the record names (and, when given, of this index_digest); None otherwise."""
        return index_named(_read(self.path), _read(self.index_path), self.planning, digest, index_digest)

    def record(self, digest, index=None):
        """Write the record of a table_digest(), and the index of the config that converged to
        it when given; it is only ever a shortcut, so failing to write it changes nothing.

        The index is written first and named in the record by its digest, so a record never
        names another run's index, whatever is interrupted."""
        if self.key is None:
            return
        record = {"run": self.key, "table": digest}
        try:
            if index is not None and self.planning is not None:
                text = json.dumps(index, separators=(",", ":"))
                self._write(self.index_path, text)
                record.update(planning=self.planning, index=text_digest(text))
            self._write(self.path, json.dumps(record))
        except (IOError, OSError):
            pass

    def _write(self, path, text):
        directory = os.path.dirname(path)
        if not os.path.isdir(directory):
            os.makedirs(directory, 0o700)
        handle, temporary = tempfile.mkstemp(dir=directory)
        with os.fdopen(handle, "w") as stream:
            stream.write(text)
        os.rename(temporary, path)

    def forget(self):
        for path in (self.path, self.index_path):
            try:
                os.remove(path)
            except (IOError, OSError):
                pass


def index_named(recorded_text, index_text, planning, digest, index_digest=None):
    """The index in index_text when recorded_text (the record) is of this planning key and of
    the table of this table_digest(), and names index_text by its digest (and, when given,
    that digest is index_digest); None otherwise. The module reads both from the host's files,
    ipvs_table's action from the output of its record check."""
    recorded = _loaded(recorded_text)
    if planning is None or recorded.get("planning") != planning or recorded.get("table") != digest or index_text is None:
        return None
    named = recorded.get("index")
    if named != text_digest(index_text) or index_digest not in (None, named):
        return None
    index = _loaded(index_text, list)
    return index if isinstance(index, list) else None


def text_digest(text):
    """How the record names its index file: the SHA-256 of its text."""
    return hashlib.sha256(_text(text)).hexdigest()


def recorded_table(recorded_text):
    """The table_digest() the record (the record file's content) names; None when it names none."""
    return _loaded(recorded_text).get("table")


def recorded_run(key):
    """The text of the record file that says it is of this run key (as record() writes it):
    ipvs_table's action has the host's shell look for it."""
    return json.dumps({"run": key})[1:-1]


def _read(path):
    try:
        with open(path) as handle:
            return handle.read()
    except (IOError, OSError):
        return None


def _loaded(text, kind=dict):
    """text as JSON of the given kind; an empty one of that kind when it is not."""
    try:
        value = json.loads(text) if text is not None else None
    except ValueError:
        value = None
    return value if isinstance(value, kind) else kind()
