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
PLANNING_MODULE_UTILS = ("model", "values", "saveformat", "plan", "listing", "host", "resource")
MODULE_UTILS_PACKAGE = "ansible_collections.lvs.topology.plugins.module_utils.ipvs."


def _text(value):
    return value if isinstance(value, bytes) else value.encode("utf-8")


def module_source(module):
    """The source text of an imported module, from a file or the AnsiballZ zip alike."""
    return module.__loader__.get_data(module.__file__)


def run_key(module_text, state, config_text):
    """Digest of the planning code (ipvs_table's text given) and the task's parameters.

    The same on the host (the module, reading its payload) and on the controller (the action
    plugin, reading the collection), which is what lets the action plugin check the record.
    None when the code cannot be read.
    """
    digest = hashlib.sha256()
    try:
        for name in PLANNING_MODULE_UTILS:
            digest.update(_text(module_source(importlib.import_module(MODULE_UTILS_PACKAGE + name))))
    except (AttributeError, ImportError, IOError, OSError):
        return None
    digest.update(_text(module_text))
    digest.update(b"\0" + _text(state) + b"\0" + _text(config_text))
    return digest.hexdigest()


def table_digest(saved, thresholds=None):
    """Digest of the live table as read: the save format (-Sn) and the thresholds of the
    -Ln --thresholds listing when any real server has some.

    The -Sn lines are taken in sorted order (in_record_order), which is how the module can
    record, after a change, the table it planned without reading it back (ipvsadm lists
    services in the kernel's hash order). thresholds None means "known to have none". Were
    the kernel's table ever not what was recorded, the next run's digest differs and that
    run plans afresh: the record is never trusted beyond what the next read shows.
    """
    if thresholds is None or thresholds_unset(thresholds):
        listed = b""
    else:
        # ActiveConn and InActConn move with traffic; they are not the table.
        listed = _text(without_connection_counters(thresholds))
    lines = "".join(line + "\n" for line in in_record_order(saved.splitlines()))
    return hashlib.sha256(_text(lines) + b"\0" + listed).hexdigest()


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
    """The record on the host: one run key and the digest of the table it converged to."""

    def __init__(self, key, path=None):
        self.key = key
        self.path = path or MEMO_PATH

    def holds(self, listings):
        """True when the last recorded run had this key and left exactly this live table."""
        try:
            with open(self.path) as handle:
                return self.matches(handle.read(), listings)
        except (IOError, OSError):
            return False

    def matches(self, recorded_text, listings):
        """True when recorded_text (the record file's content) has this key and this live table."""
        return listings is not None and self.matches_digest(recorded_text, table_digest(*listings))

    def matches_digest(self, recorded_text, digest):
        """True when recorded_text has this key and the live table's table_digest()."""
        if self.key is None:
            return False
        try:
            recorded = json.loads(recorded_text)
        except ValueError:
            return False
        return recorded == {"run": self.key, "table": digest}

    def record(self, digest):
        """Write the record of a table_digest(); it is only ever a shortcut, so failing to write
        it changes nothing."""
        if self.key is None:
            return
        directory = os.path.dirname(self.path)
        try:
            if not os.path.isdir(directory):
                os.makedirs(directory, 0o700)
            handle, temporary = tempfile.mkstemp(dir=directory)
            with os.fdopen(handle, "w") as stream:
                json.dump({"run": self.key, "table": digest}, stream)
            os.rename(temporary, self.path)
        except (IOError, OSError):
            pass

    def forget(self):
        try:
            os.remove(self.path)
        except (IOError, OSError):
            pass
