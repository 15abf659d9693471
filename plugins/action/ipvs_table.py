# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ipvs_table's action: answer an unchanged run from the host's record, else run the module.

The module records, after each run that leaves the table converged, a digest of its code, the
task's parameters and the live table (module_utils/ipvs/record.py). Checking that record needs
only the two listings and the record file, not Python on the host: this action runs one command
on the existing connection that prints the record and, when the record is of this task's
parameters, the listings' digest, computed by the host's shell (the listings themselves never
cross the connection), and compares them here, so an unchanged big table costs one SSH round
trip instead of starting Python, unpacking the module and importing Ansible in the guest
(docs/performance.md). Anything else - a miss, diff mode, gathered, an unreadable answer - runs
the module, which plans, applies and records by itself.

When the record is of another config, the same command prints the index of the recorded config
(module_utils/ipvs/delta.py) instead of the digest: the table is then listed once, by the module
under the host lock, not also here. The action works out which items differ from the recorded
ones and sends the module those alone, with the table the record names; the module lists the
table and, when it is not that one (changed by hand, or by another run that came between),
changes nothing and says so, and the action runs it again with the whole config. Decoding and
digesting thousands of items then costs the controller milliseconds instead of the guest
seconds.

The states rendered and parsed are answered here, on the controller, from the task's
parameters with the module's own code (module_utils/ipvs/resource.py): they read nothing
from the host, so the action never connects to it for them - a pipeline can render a table
for review without reaching, or even having, a director.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
from collections import namedtuple

from ansible.plugins.action import ActionBase
from ansible.utils.vars import merge_hash

from ansible_collections.lvs.topology.plugins.module_utils._host import C_LOCALE
from ansible_collections.lvs.topology.plugins.module_utils.ipvs.delta import DELTA_STATES, delta_argument, delta_from_index
from ansible_collections.lvs.topology.plugins.module_utils.ipvs.host import IPVS_PROC, TABLE_LISTINGS
from ansible_collections.lvs.topology.plugins.module_utils.ipvs.model import IpvsInputError
from ansible_collections.lvs.topology.plugins.module_utils.ipvs.record import (
    MEMO_PATH, TableMemo, index_named, planning_key, recorded_run, recorded_table, run_key, table_digest_command, text_digest,
)
from ansible_collections.lvs.topology.plugins.module_utils.ipvs.resource import OFFLINE_STATES, config_items, offline_result, table_module_spec

MODULE_PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "modules", "ipvs_table.py")
SECTION = "@lvs-topology-ipvs-table-section@"


def record_check_command(key, proc=IPVS_PROC, memo=MEMO_PATH):
    """The record and a section line; then, when the record is of this run key, the digest of the
    module's own listings (with its locale) computed on the host and a section line, else a
    section line and the index the record names (a record of this run key answers a no-op or a
    table changed by hand, which the index serves neither; one of another config is of no use
    without the index, and the module lists the table itself). Fixed text but for key, a hex
    digest, so no task data; exit 3 means no IPVS in the kernel: no record applies."""
    listings = ["ipvsadm " + " ".join(arguments) for arguments in TABLE_LISTINGS]
    return (
        "PATH=$PATH:/usr/sbin:/sbin {locale}; export PATH {names}; test -e {proc} || exit 3; "
        "cat {memo} 2>/dev/null; echo; echo {section}; "
        "if grep -qsF '{run}' {memo}; then {digest}; echo {section}; else echo {section}; cat {index} 2>/dev/null || :; fi"
    ).format(
        locale=" ".join("%s=%s" % item for item in C_LOCALE.items()), names=" ".join(C_LOCALE), proc=proc,
        memo=memo, section=SECTION, digest=table_digest_command(*listings), run=recorded_run(key), index=TableMemo(key, memo).index_path,
    )


RECORDED_STATES = ("merged", "replaced", "overridden", "deleted")
# The task arguments the record's answer depends on, and two it does not depend on:
# allow_empty_table - a record of an empty config with overridden or deleted is one of an empty
# table, so a match means the table is empty now, and leaving it empty is "no change" whether
# emptying is allowed or not - and lock_timeout, how long the module would wait for the host
# lock, which changes nothing about the table it converges to. A task with any other argument
# goes to the module.
RECORDED_ARGUMENTS = frozenset(("config", "state", "allow_empty_table", "lock_timeout"))
DIGEST = re.compile(r"([0-9a-f]{64})  -")


def config_text(config):
    """The config as the module's jsonarg option hands it over: stripped text, or a list as JSON."""
    if isinstance(config, (str, bytes)):
        return config.strip()
    return json.dumps(config)


def split_answer(stdout):
    """(record text, table digest or None when not computed, index text) from the command's
    output; None when it is not whole."""
    # A terminal (ssh -tt) turns each newline into CRLF.
    sections = stdout.replace("\r\n", "\n").split(SECTION + "\n")
    if len(sections) != 3:
        return None
    record, digest, index = sections
    if not digest:
        return record, None, index
    found = DIGEST.fullmatch(digest.strip("\n"))
    return (record, found.group(1), index) if found else None


class ActionModule(ActionBase):
    """The module's own run otherwise, exactly as the normal action runs any module."""

    _supports_check_mode = True
    _supports_async = True

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        if self._task.args.get("state") in OFFLINE_STATES:
            result.update(self._answer_offline())
            return result
        if "_delta" in self._task.args:
            result.update(failed=True, changed=False, msg="_delta is set by ipvs_table's action plugin alone; remove it from the task.")
            return result
        checked = self._checked_record()
        if checked is not None and checked.digest is not None and TableMemo(checked.key).matches_digest(checked.record, checked.digest):
            # The record is read without the host lock, so this run never waited for it.
            result.update(changed=False, commands=[], memo_hit=True, lock_waited=0.0)
            return result
        wrap_async = self._task.async_val and not self._connection.has_native_async
        ran = None
        changed_items = self._changed_items(checked) if checked is not None else None
        if changed_items is not None:
            ran = self._execute_module(module_args=changed_items, task_vars=task_vars)
            if ran.get("full_config_needed"):
                # The table is not the one the record names (a hand or another run changed it):
                # the whole config, planned from the table as the module finds it, in this same task.
                ran = None
        if ran is None:
            ran = self._execute_module(task_vars=task_vars, wrap_async=wrap_async)
        result = merge_hash(result, ran)
        if not wrap_async:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result

    def _answer_offline(self):
        """rendered or parsed: the parameters checked as the module checks them (a bad one
        raises AnsibleActionFail), then answered here; nothing runs on the host."""
        dummy, args = self.validate_argument_spec(**table_module_spec())
        try:
            return offline_result(args)
        except IpvsInputError as error:
            return dict(failed=True, changed=False, msg=str(error))

    def _checked_record(self):
        """What the host's record says of this task: a RecordCheck, or None when no record can
        answer it (diff mode, async, gathered, other arguments, a host without IPVS, ...)."""
        args = self._task.args
        state = args.get("state", "merged")
        if self._task.diff or self._task.async_val or state not in RECORDED_STATES or set(args) - RECORDED_ARGUMENTS:
            return None
        try:
            with open(MODULE_PATH, "rb") as handle:
                module_text = handle.read()
            text = config_text(args.get("config", []))
            key = run_key(module_text, state, text)
        except (IOError, OSError, TypeError, ValueError):
            return None
        if key is None:
            return None
        # Read without the host lock, and safely so: the module writes the record (atomically,
        # by rename) under the lock after the table has converged, and a run under way holds
        # the lock but has either not changed the live table yet - this answer is then the one
        # a run just before it would give - or changed it, and the table's digest no longer
        # matches the record, so the module runs and waits for the lock.
        answer = self._low_level_execute_command(record_check_command(key))
        # The module counts anything ipvsadm says on stderr as a failure; leave that case to it.
        answered = answer.get("rc") == 0 and not answer.get("stderr", "").strip()
        parts = split_answer(answer.get("stdout", "")) if answered else None
        return RecordCheck(key, planning_key(module_text, state), text, *parts) if parts is not None else None

    def _changed_items(self, checked):
        """The module's arguments with config cut to the items that differ from the record's
        index and _delta saying what they were checked against; None when the index does not
        apply (the module then gets the whole config and decides by itself)."""
        args = self._task.args
        # A digest means the record is of this very config and did not answer: the table was
        # changed by hand, and only the whole config can put it right.
        if args.get("state", "merged") not in DELTA_STATES or checked.digest is not None:
            return None
        # The index is taken for the table the record names, which the module checks against the
        # live table under the lock.
        table = recorded_table(checked.record)
        index = index_named(checked.record, checked.index, checked.planning, table)
        try:
            config = config_items(checked.config) if index is not None else None
        except IpvsInputError:
            return None
        delta = delta_from_index(config, index) if config else None
        if delta is None:
            return None
        sent = dict(delta_argument(delta), run=checked.key, planning=checked.planning, table=table,
                    index=text_digest(checked.index))
        return dict(args, config=json.dumps(delta.items), _delta=sent)


class RecordCheck(namedtuple("RecordCheck", "key planning config record digest index")):
    """The run key and planning key of a task, its config as text, and what the host's record
    check printed: the record, the live table's digest (None when not computed) and the index."""

    __slots__ = ()
