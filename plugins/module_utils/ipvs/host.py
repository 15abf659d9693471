# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading and changing the IPVS table of the managed host through ipvsadm.

Private to the collection: this API may change without notice.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import time
from collections import OrderedDict, namedtuple

from ansible_collections.lvs.topology.plugins.module_utils._host import C_LOCALE, ensure_kernel_module, run_checked
from ansible_collections.lvs.topology.plugins.module_utils.ipvs.listing import (
    THRESHOLD_COLUMNS, counters, parse_listing, real_server_thresholds,
)
from ansible_collections.lvs.topology.plugins.module_utils.ipvs.model import IpvsInputError, IpvsParseError
from ansible_collections.lvs.topology.plugins.module_utils.ipvs.plan import (
    apply_to_table, plan_operations, render_diff, took_effect, undo_operations,
)
from ansible_collections.lvs.topology.plugins.module_utils.ipvs.saveformat import (
    operation_line, operation_words, parse_saved_table, table_lines, with_thresholds,
)

IPVS_PROC = "/proc/net/ip_vs"
# The live table as read_listings() reads it (ipvs_table's action reads the same two):
# -Sn, not -Ln, for the rules, since the save format is what ipvsadm -R reads back and it is
# stable; -Ln --thresholds for the thresholds, which -Sn does not print.
TABLE_LISTINGS = (("-Sn",), ("-Ln", "--thresholds"))
NO_IPVS_MESSAGE = "the kernel has no IPVS support (modprobe ip_vs failed: {error})"
# Up to this many operations run as separate ipvsadm calls (41 ms each in a TCG guest);
# more go as one batch on the stdin of ipvsadm -R, which costs one process for them all.
ARGV_OPERATIONS_LIMIT = 4


class IpvsHost(object):
    """The ipvsadm of one host: read the table, apply operations, undo them on failure."""

    def __init__(self, module):
        self.module = module
        self.ipvsadm = module.get_bin_path("ipvsadm", required=True)

    def ipvs_present(self):
        return os.path.exists(IPVS_PROC)

    def ipvsadm_output(self, *arguments):
        return run_checked(self.module, [self.ipvsadm] + list(arguments), check_stderr=True)

    def _parsed(self, parse, text, command):
        try:
            return parse(text)
        except IpvsParseError as error:
            self.module.fail_json(msg="Cannot read the output of ipvsadm %s: %s." % (command, error), stdout=text)

    def read_listings(self):
        """The live table as ipvsadm prints it: (-Sn, -Ln --thresholds) output, None without IPVS."""
        if not self.ipvs_present():
            return None
        return tuple(self.ipvsadm_output(*arguments) for arguments in TABLE_LISTINGS)

    def table_from(self, listings):
        """The table of read_listings(): rules from -Sn, thresholds (which -Sn omits) from the listing."""
        if listings is None:
            return OrderedDict()
        saved, thresholds = listings
        table = self._parsed(parse_saved_table, saved, "-Sn")
        listing = self._parsed(parse_listing, thresholds, "-Ln --thresholds")
        return with_thresholds(table, self._parsed(real_server_thresholds, listing, "-Ln --thresholds"))

    def read_table(self):
        """The live table."""
        return self.table_from(self.read_listings())

    def listing(self, *options):
        return self._parsed(parse_listing, self.ipvsadm_output("-Ln", *options), "-Ln " + " ".join(options))

    def real_server_connections(self, service, key):
        """(ActiveConn, InActConn) of one real server, or None when it is not in the table."""
        listing = self.listing("--thresholds", *service.words())
        columns = listing.services.get(service, {}).get("real_servers", {}).get(key)
        if columns is None:
            return None
        values = counters(columns, THRESHOLD_COLUMNS, "a --thresholds line")
        return values["active_connections"], values["inactive_connections"]

    def load_ipvs(self):
        """Load ip_vs when the table is absent; True when it was (or, in check mode, would be) loaded."""
        if self.ipvs_present():
            return False
        return ensure_kernel_module(self.module, "ip_vs", missing_message=NO_IPVS_MESSAGE)

    def load_schedulers(self, operations):
        for scheduler in sorted(set(op.settings.scheduler for op in operations if op.command in ("-A", "-E"))):
            ensure_kernel_module(self.module, "ip_vs_" + scheduler, missing_message=(
                "Scheduler %s needs the kernel module ip_vs_%s, which cannot be loaded: {error}" % (scheduler, scheduler)))

    def apply(self, operations, before, lines):
        """Run the operations (lines: each one's save-format line). When ipvsadm rejects one,
        undo what took effect and fail saying what the kernel rejected and how the table is now."""
        rejection = self._run_operations(operations, lines)
        if rejection is not None:
            self._undo_and_fail(operations, lines, before, *rejection)

    def _call(self, argv, data=None):
        # An ipvsadm killed while it reads a batch breaks the pipe its batch is written to.
        # run_command would fail the task at once and leave what the batch applied before the
        # kill in the table; as a failed call, it is undone like a rejection.
        try:
            return IpvsadmCall(argv, *self.module.run_command(argv, data=data, environ_update=C_LOCALE, binary_data=data is not None,
                                                              handle_exceptions=False))
        except (IOError, OSError) as error:
            return IpvsadmCall(argv, None, "", "running %s failed: %s" % (argv[0], error))

    def _run_operations(self, operations, lines):
        """Run operations, each as its own call up to ARGV_OPERATIONS_LIMIT, else as one batch;
        (index of the rejected operation, or None for the batch, the failed IpvsadmCall), or None."""
        if len(operations) <= ARGV_OPERATIONS_LIMIT:
            for index, operation in enumerate(operations):
                call = self._call([self.ipvsadm] + operation_words(operation))
                if call.failure():
                    return index, call
            return None
        # ipvsadm -R, not ipvsadm-restore: the wrapper script flushes the table first.
        call = self._call([self.ipvsadm, "-R"], "".join(line + "\n" for line in lines))
        return (None, call) if call.failure() else None

    def _read_back(self):
        """(the live table, None), or (None, why it cannot be listed): a failed listing must not
        hide the rejection being reported. Parsing it fails the task as any read does; it is a
        table read at the start of the task with the parser's own lines added."""
        listings = []
        for arguments in TABLE_LISTINGS:
            call = self._call([self.ipvsadm] + list(arguments))
            if call.failure():
                return None, "ipvsadm %s: %s" % (" ".join(arguments), call.failure())
            listings.append(call.stdout)
        return self.table_from(listings), None

    def _undo_and_fail(self, operations, lines, before, index, rejected_call):
        """Undo what a rejected change left in the services it touched, read the table back and
        fail saying what was rejected and how the table is now.

        index is the rejected operation's when each ran as its own call: those after it never
        ran. A batch goes on past a rejected line, so the table read back tells which of its
        operations took effect.
        """
        attempted = operations if index is None else operations[:index + 1]
        result = dict(cmd=rejected_call.argv, rc=rejected_call.rc, stdout=rejected_call.stdout, stderr=rejected_call.stderr,
                      commands=lines[:len(attempted)], rejected=[] if index is None else [lines[index]])
        reason = rejected_call.failure()
        now, unread = self._read_back()
        if now is None:
            what = result["rejected"] or ["a batch of %d operations" % len(operations)]
            self.module.fail_json(msg="ipvsadm rejected %s (%s), and reading the table back to find what took effect failed (%s), "
                                      "so nothing was undone; commands lists what this task ran." % (
                                          lines_named(what), reason, unread), **result)
        if index is None and not rejected_call.stopped():
            result["rejected"] = [line for operation, line in zip(operations, lines) if not took_effect(operation, now)]
        # Those before the rejected call, or all of a batch (its rejected lines show no effect).
        applied = sum(1 for operation in operations[:index] if took_effect(operation, now))
        touched = [operation.service for operation in attempted]
        result["undo_commands"], refused, now, unread = self._undo(now, before, touched)
        left = [] if now is None else list(OrderedDict.fromkeys(operation.service for operation in undo_operations(now, before, touched)))
        if left:
            result["left_differences"] = dict(before=table_lines(before, left), now=table_lines(now, left))
        if rejected_call.stopped():
            # Killed, or its input cut: the lines without effect never ran, none was rejected.
            failed = "ipvsadm stopped before the end of %s" % (
                "a batch of %d operations" % len(operations) if index is None else lines[index])
        else:
            failed = "ipvsadm rejected %s" % lines_named(result["rejected"] or ["a batch of %d operations" % len(operations)])
        self.module.fail_json(msg="%s (%s); %s" % (failed, reason, undo_outcome(
            applied, index is None, result["undo_commands"], refused, left, unread)), **result)

    def _undo(self, now, before, touched):
        """Plan the touched services from now back to before and run that; then retry whatever
        the table read back still lacks, one operation a call and past refusals, so a refused
        operation (or a batch that stopped early) leaves out only what the kernel refuses.

        Returns (the undo lines run, (line, ipvsadm's reason) of each refusal of the retry, the
        table read back or None, why it could not be read or None).
        """
        run, refused = [], []
        undo = undo_operations(now, before, touched)
        for retry in (False, True):
            if not undo:
                break
            lines = [operation_line(operation) for operation in undo]
            run += lines
            if retry:
                refused = self._run_each(undo, lines)
            else:
                self._run_operations(undo, lines)
            now, unread = self._read_back()
            if now is None:
                return run, refused, None, unread
            undo = undo_operations(now, before, touched)
        return run, refused, now, None

    def _run_each(self, operations, lines):
        """Run every operation in its own call, past refusals: [(line, ipvsadm's reason)] of each refused one."""
        refused = []
        for operation, line in zip(operations, lines):
            failure = self._call([self.ipvsadm] + operation_words(operation)).failure()
            if failure:
                refused.append((line, failure))
        return refused


class IpvsadmCall(namedtuple("IpvsadmCall", "argv rc stdout stderr")):
    """One run of ipvsadm and what it printed."""

    __slots__ = ()

    def stopped(self):
        """True when ipvsadm did not run to its end: killed by a signal (a negative status), or
        not run or fed at all (no status)."""
        return self.rc is None or self.rc < 0

    def failure(self):
        """ipvsadm's reason, on one line, when the call failed; None when it did not. ipvsadm -R
        goes on after a line the kernel rejects and may still exit 0, so any output on stderr
        is a failure."""
        if self.rc == 0 and not self.stderr.strip():
            return None
        printed = [line.strip() for line in (self.stderr.strip() or self.stdout).splitlines() if line.strip()]
        if printed:
            return "; ".join(printed)
        return "killed by signal %d" % -self.rc if self.rc < 0 else "exit status %d" % self.rc


# A failure message names at most this many rejected lines; the result's rejected has them all.
NAMED_LINES = 3


def lines_named(lines):
    """Save-format lines as a failure message names them."""
    if len(lines) <= NAMED_LINES:
        return ", ".join(lines)
    return "%s and %d more (see rejected)" % (", ".join(lines[:NAMED_LINES]), len(lines) - NAMED_LINES)


def _counted(count, batch):
    """(what of the change took effect before the undo, as the message names it; its verb)."""
    if not count:
        return "what took effect of it", "was"
    what = "the %d operation%s %s" % (count, "" if count == 1 else "s", "of the batch that took effect" if batch else "applied before it")
    return what, "was" if count == 1 else "were"


def undo_outcome(applied, batch, undo_lines, refused, left, unread):
    """The end of the failure message: what the undo did and how the table now compares with
    the table before the task."""
    if unread:
        return ("the undo in undo_commands ran, but reading the table back to check it failed (%s), so whether the table is "
                "as it was before this task is not known." % unread)
    what, verb = _counted(applied, batch)
    if not left:
        if not undo_lines:
            nothing = "no operation of the batch took effect" if batch else "no operation had been applied before it"
            return "%s, so nothing was undone and the table is as it was before this task." % nothing
        return "%s %s undone; the table is as it was before this task." % (what, verb)
    refusals = "; ".join("%s: %s" % refusal for refusal in refused)
    return "undoing %s failed%s, so %s still differ%s from before this task (left_differences has %s lines before and now)." % (
        what, " (ipvsadm refused %s)" % refusals if refusals else "", ", ".join(service.label() for service in left),
        "s" if len(left) == 1 else "", "its" if len(left) == 1 else "their")


def run_table_change(module, plan, report=None, host=None, listings=None, planned=None, **converge_options):
    """The whole run of a module that changes the table: read, plan, converge, report, exit.

    plan(params, have) returns (desired services, services to delete) or raises
    IpvsInputError, which fails the task with that sentence before the host is touched;
    report(host, have, desired, absent, result, operations) may add to the result before the
    module exits. A caller that has already read the table passes its host and listings; one
    that has also planned passes planned, (have, desired, absent), and no plan.
    """
    if host is None:
        host = IpvsHost(module)
        listings = host.read_listings()
    if planned is not None:
        have, desired, absent = planned
    else:
        have = host.table_from(listings)
        try:
            desired, absent = plan(module.params, have)
        except IpvsInputError as error:
            module.fail_json(msg=str(error))
    result, operations = converge(module, host, have, desired, absent_services=absent, **converge_options)
    if report is not None:
        report(host, have, desired, absent, result, operations)
    module.exit_json(**result)


def converge(module, host, have, desired, absent_services=(), purge_other_services=False, whole_table_diff=False):
    """Plan, apply (unless check mode) and describe a change of the IPVS table: (result, operations).

    have is the table read before desired was built from the parameters, so bad input
    has already failed before ip_vs is loaded or anything is run.
    """
    operations = plan_operations(have, desired, absent_services, purge_other_services)
    # Rendered once: the result's commands and the batch are the same lines.
    lines = [operation_line(operation) for operation in operations]
    loaded_now = False
    if operations:
        loaded_now = host.load_ipvs()
        if not module.check_mode:
            host.load_schedulers(operations)
            host.apply(operations, have, lines)
    result = dict(changed=bool(operations) or loaded_now, commands=lines)
    if module._diff:
        after = apply_to_table(have, operations)
        if whole_table_diff:
            result["diff"] = render_diff(have, after)
        else:
            services = [want.service for want in desired] + list(absent_services)
            result["diff"] = render_diff(have, after, services)
    return result, operations


def wait_for_drain(host, service, key, timeout, interval=1.0):
    """Poll ActiveConn of a drained real server for up to timeout seconds; return the last counts."""
    deadline = time.time() + timeout
    while True:
        counts = host.real_server_connections(service, key)
        if counts is None or counts[0] == 0 or time.time() >= deadline:
            return counts
        time.sleep(min(interval, max(0.0, deadline - time.time())))
