# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The IPVS table of the managed host, one concern a module.

Private to the collection: this API may change without notice.

- model: the table (services, real servers, operations, desired services), the errors, the
  address helpers and the config shape of a table.
- values: the values an IPVS rule may take and their defaults; the modules' argument specs
  and the builders from parameters to the model.
- saveformat: the ``ipvsadm -Sn`` save-format lines, rendered and parsed.
- plan: the operations from the live table to the desired one, and the diff.
- listing: the ``ipvsadm -L`` listings (counters, rates, thresholds, connections, daemons).
- host: ipvsadm on the host: reading the table, applying operations, undoing a failure.
- record: the record of the last converged table, which lets an unchanged run skip planning.
- rules: the collection's rules format, a whole table as complete, ordered save-format text.
- resource: ipvs_table's parameters, its config as desired services, and the states rendered
  and parsed, which need no host.
"""
