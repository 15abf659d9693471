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
from collections import OrderedDict

from ansible_collections.lvs.topology.plugins.module_utils._host import C_LOCALE, ensure_kernel_module, run_checked
from ansible_collections.lvs.topology.plugins.module_utils.ipvs.listing import (
    THRESHOLD_COLUMNS, counters, parse_listing, real_server_thresholds,
)
from ansible_collections.lvs.topology.plugins.module_utils.ipvs.model import IpvsInputError, IpvsParseError
from ansible_collections.lvs.topology.plugins.module_utils.ipvs.plan import apply_to_table, plan_operations, render_diff
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
        """Run the operations (lines: each one's save-format line); on any rejection restore
        the table as it was and fail saying so."""
        if len(operations) <= ARGV_OPERATIONS_LIMIT:
            for operation, line in zip(operations, lines):
                self._run_or_roll_back([self.ipvsadm] + operation_words(operation), None, before, line)
        else:
            # ipvsadm -R, not ipvsadm-restore: the wrapper script flushes the table first.
            # ipvsadm -R goes on after a line the kernel rejects and may still exit 0, so
            # any output on stderr counts as a failure.
            batch = "".join(line + "\n" for line in lines)
            self._run_or_roll_back([self.ipvsadm, "-R"], batch, before, "a batch of %d operations" % len(operations))

    def _run_or_roll_back(self, argv, data, before, what):
        rc, out, err = self.module.run_command(argv, data=data, environ_update=C_LOCALE, binary_data=data is not None)
        if rc == 0 and not err.strip():
            return
        reason = (err or out).strip() or "exit status %d" % rc
        restored, restore_error = self.restore(before)
        if restored:
            msg = "ipvsadm rejected %s (%s); the table was restored to its state before this task." % (what, reason)
        else:
            msg = ("ipvsadm rejected %s (%s) and restoring the previous table failed too (%s); "
                   "restore it from restore_lines with ipvsadm-restore." % (what, reason, restore_error))
        self.module.fail_json(msg=msg, cmd=argv, rc=rc, stdout=out, stderr=err, restore_lines=table_lines(before))

    def restore(self, table):
        """Flush and reload a saved table: only ever used to undo a failed change."""
        rc, out, err = self.module.run_command([self.ipvsadm, "-C"], environ_update=C_LOCALE)
        if rc == 0 and not err.strip():
            lines = "".join(line + "\n" for line in table_lines(table))
            rc, out, err = self.module.run_command([self.ipvsadm, "-R"], data=lines, environ_update=C_LOCALE, binary_data=True)
        if rc == 0 and not err.strip():
            return True, None
        return False, (err or out).strip() or "exit status %d" % rc


def run_table_change(module, plan, report=None, host=None, listings=None, **converge_options):
    """The whole run of a module that changes the table: read, plan, converge, report, exit.

    plan(params, have) returns (desired services, services to delete) or raises
    IpvsInputError, which fails the task with that sentence before the host is touched;
    report(host, have, desired, absent, result, operations) may add to the result before the
    module exits. A caller that has already read the table passes its host and listings.
    """
    if host is None:
        host = IpvsHost(module)
        listings = host.read_listings()
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
