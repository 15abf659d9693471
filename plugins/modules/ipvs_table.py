#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: ipvs_table
short_description: Manage the whole IPVS table as a resource (merged, replaced, overridden, deleted, gathered, rendered, parsed)
version_added: 0.1.0
description:
  - The resource-module pattern of ansible.netcommon applied to the kernel's IPVS table - O(config)
    lists services with their real servers, O(state) says how it meets the live table.
  - Built for large tables - one read of the table, a dictionary-keyed comparison and one batch for
    many operations, so thousands of rules converge in one call and an unchanged table costs one read.
  - The whole O(config) is checked before anything runs; one bad entry rejects the call and the
    table stays untouched.
  - After a run, the module records a digest of its code, O(state), O(config) and the table the run
    leaves in C(/run/lvs-topology/ipvs_table.memo) - after a change, the table read before with the
    operations applied (ipvsadm having reported no error), or, where thresholds are involved, the table
    read back and found converged. A rerun with the same four answers "no change" without checking and
    diffing every item again; the live table is still read on every run, so anything that changed it,
    or a rule the kernel did not keep, misses the record and is planned afresh. Connection counts are
    no part of the digest, nor is O(lock_timeout) (how long a run would wait changes no table), nor
    O(allow_empty_table) - with an empty O(config), O(state=overridden) or O(state=deleted) only ever
    records an empty table, and leaving that empty is no change either way.
  - Beside that record the module keeps a digest of each item of O(config) and the service it names.
    A run with the same code and O(state) but other items, on a live table whose digest is still the
    recorded one, checks and plans only the items that differ from the recorded ones (and, with
    V(overridden), deletes the services of the items gone), reading the lines of just those services
    from the listing - so a one-weight change of a big table costs about what the no-op costs. It is
    used with V(merged), V(replaced) and V(overridden), without diff mode, on a table without
    thresholds; any other run, and any mismatch, plans the whole table.
  - The module comes with an action plugin that checks that record before the module is sent - one
    shell command on the existing connection (fixed text but for the run key, a hex digest; no task
    data in it) prints the record and the digest of the two listings, computed on the host, and the
    two are compared on the controller. When they match, the task returns "no change" without
    starting Python on the host; otherwise, and always in diff mode or with V(gathered), the module
    runs. When the record is of another O(config) on the same live table, the command also prints the
    index, and the action works out the items that differ on the controller and sends the module
    only those (see O(_delta)); the result's C(invocation) then shows what was sent.
  - That check takes no host lock (see the notes), so an unchanged rerun never waits, whatever
    O(lock_timeout) says - the record is written under the lock once a run has converged the table,
    and a run still under way has either not changed the table yet, so the answer is the one a run
    just before it would give, or changed it, so the table's digest no longer matches.
    O(state=gathered) takes the lock like the states that change the table; V(rendered) and
    V(parsed) touch no host and take none.
  - V(rendered) and V(parsed) convert between O(config) and the collection's rules format, a whole
    table as the save-format lines C(ipvsadm -R) reads, complete (every real server's thresholds as
    C(-x) and C(-y), which C(ipvsadm --save) cannot print, and every fwmark as its unsigned number,
    which C(ipvsadm --save) prints above 2147483647 as a negative number it cannot read back) and in
    a fixed order (byte order, every C(-A) line before every C(-a) line), after a first line
    C(# lvs.topology rules v1). The action plugin computes both on the controller with the module's
    own code; it never connects to the host, and nothing on any host is read or changed.
  - C(ipvsadm -R) stops at the comment line, so rules text loads into a kernel through
    C(ipvsadm-restore), which drops lines starting with C(#) but flushes the table first, or
    C(grep -v '^#' | ipvsadm -R). The director role saves its table in this format and its boot
    unit loads it with C(ipvsadm-restore), on the still empty table of a booting director; on a
    running one the collection applies a table through this module instead, from the config that
    V(parsed) returns - planned against the live table and changed in place.
    C(docs/ipvs-modules.md) has the format and what ipvsadm 1.31 accepts of it.
author:
  - lvs.topology contributors (@lvs-topology)
extends_documentation_fragment:
  - lvs.topology.ipvs
  - lvs.topology.host_lock
options:
  config:
    description:
      - The services. Each item takes the options of M(lvs.topology.ipvs_service) - C(protocol),
        C(address), C(port), C(fwmark), C(family), C(scheduler), C(scheduler_flags),
        C(persistence_timeout), C(persistence_netmask), C(persistence_engine), C(one_packet),
        C(real_servers) and C(purge_real_servers) - with the meanings documented there.
      - A service listed twice is refused. RV(gathered) and RV(parsed) return a table in this shape.
      - With O(state=rendered), the table to render - the one O(state=overridden) would make of an
        empty table, so real-server items with C(state=absent) are left out and those with
        C(state=drained) get weight 0. It is checked exactly as for the states that change the table.
      - Does not apply with O(state=parsed).
      - The list may also be given as JSON text (the list through the C(to_json) filter), which big
        tables should do - Ansible then carries one string instead of a structure of tens of
        thousands of values through templating, the module payload, argument checking and the
        result, which is most of the cost of a no-op run (see C(docs/performance.md)). The
        director role passes its table this way.
    type: jsonarg
    default: []
  running_config:
    description:
      - This option is used only with O(state=parsed), which requires it.
      - A table as text - the collection's rules format (as RV(rendered) returns it, joined by
        newlines), or the output of C(ipvsadm -Sn) (C(ipvsadm --save -n)), whose negative fwmarks are
        read as the unsigned marks they stand for. Addresses and ports must be numeric, so
        C(ipvsadm --save) without C(-n) is refused at its first named host or port.
      - Blank lines and lines starting with C(#) are skipped; a C(# lvs.topology rules) header of
        another version than C(v1) is refused.
      - Checked as strictly as O(config) - an unknown option, a service or real server given twice,
        or a value O(config) would refuse fails the task with one sentence naming the line or service.
    type: str
  state:
    description:
      - V(merged) adds the services and real servers of O(config) and changes the options they set;
        options an item leaves unset keep their live values, and real servers are only removed when
        the item sets C(purge_real_servers=true) or lists them with C(state=absent).
      - V(replaced) makes each listed service exactly its item (unset options take ipvsadm's
        defaults, unlisted real servers are removed); other services are left alone.
      - V(overridden) makes the whole table exactly O(config), deleting the services it does not list.
        With an empty O(config) that is every service, which needs O(allow_empty_table=true) on a
        table that has services.
      - V(deleted) deletes the listed services (only the identity keys are needed), or every
        service when O(config) is empty - which, on a table that has services, needs
        O(allow_empty_table=true).
      - V(gathered) changes nothing and returns the live table in RV(gathered).
      - V(rendered) returns the table O(config) describes in the rules format, in RV(rendered),
        without a host - nothing on any host is read or changed and no connection is made.
      - V(parsed) returns the config of the table in O(running_config), in RV(parsed), without a
        host. Given to this module with O(state=overridden), that config makes the table exactly
        the one the text describes.
    type: str
    choices: [merged, replaced, overridden, deleted, gathered, rendered, parsed]
    default: merged
  allow_empty_table:
    description:
      - Allow an empty O(config) with O(state=overridden) or O(state=deleted) to delete every service
        of a table that has some - what C(ipvsadm -C) does, but planned and changed in place like
        any other run.
      - V(false) refuses such a run with one sentence before anything on the host changes, in
        check mode too, so a model that lost its services by mistake (an unset variable, a filter
        that matched nothing) never empties a director. A table that is empty already stays
        empty without an error, whatever this option says.
      - Other states, and a O(config) that lists services, ignore it.
    type: bool
    default: false
  _delta:
    description:
      - Internal to the collection, set by the module's action plugin; a task that sets it is refused.
      - When the live table is still the one of the record and its index, the action works out on the
        controller which items of O(config) differ from the recorded ones and runs the module with those
        items alone as O(config), and in this option the run key of the whole O(config), where the
        changed items stand in it, the items of the record it no longer has, and the digests of the
        table, planning code and index it checked them against. The module checks those under the host
        lock; if anything differs it changes nothing and tells the action, which runs it again, in the
        same task, with the whole O(config).
    type: dict
seealso:
  - module: lvs.topology.ipvs_service
  - module: lvs.topology.ipvs_info
"""

EXAMPLES = r"""
- name: Make the table exactly two services (anything else is deleted)
  lvs.topology.ipvs_table:
    state: overridden
    config:
      - address: 192.0.2.100
        port: 80
        scheduler: wrr
        persistence_timeout: 20
        real_servers:
          - address: 192.0.2.11
            weight: 1
          - address: 192.0.2.12
            weight: 1
      - protocol: udp
        address: 192.0.2.100
        port: 53
        scheduler: rr
        real_servers:
          - address: 198.51.100.11
            forwarding_method: nat

- name: Give one real server more weight, leave everything else as it is
  lvs.topology.ipvs_table:
    state: merged
    config:
      - address: 192.0.2.100
        port: 80
        real_servers:
          - address: 192.0.2.12
            weight: 3

- name: Read the live table in config format
  lvs.topology.ipvs_table:
    state: gathered
  register: live

- name: Delete every service (refused without allow_empty_table while the table has services)
  lvs.topology.ipvs_table:
    state: deleted
    allow_empty_table: true

- name: Make the table exactly the services listed, emptying it only when a decommission asks
  lvs.topology.ipvs_table:
    state: overridden
    config: "{{ director_services }}"
    allow_empty_table: "{{ decommission | default(false) | bool }}"

- name: Render the table a config describes, on the controller, for a reviewer to read
  lvs.topology.ipvs_table:
    state: rendered
    config:
      - protocol: fwmark
        fwmark: 3000000000
        real_servers:
          - address: 192.0.2.11
            upper_threshold: 1000
            lower_threshold: 800
  register: desired
  # desired.rendered:
  #   - "# lvs.topology rules v1"
  #   - "-A -f 3000000000 -s wlc"
  #   - "-a -f 3000000000 -r 192.0.2.11:0 -g -w 1 -x 1000 -y 800"

- name: Write the rules to a file the change is reviewed in
  ansible.builtin.copy:
    content: "{{ desired.rendered | join('\n') }}\n"
    dest: "rules/{{ inventory_hostname }}.rules"
    mode: "0644"
  delegate_to: localhost

- name: Read rules text (or ipvsadm -Sn output) back into config
  lvs.topology.ipvs_table:
    state: parsed
    running_config: "{{ lookup('ansible.builtin.file', 'rules/' ~ inventory_hostname ~ '.rules') }}"
  register: reviewed

- name: Make the table exactly the reviewed rules
  lvs.topology.ipvs_table:
    state: overridden
    config: "{{ reviewed.parsed }}"
"""

RETURN = r"""
commands:
  description:
    - The save-format lines that ran (or would run in check mode), in order; empty when nothing changed.
  returned: always
  type: list
  elements: str
  sample:
    - -A -t 192.0.2.100:80 -s wrr -p 20
    - -a -t 192.0.2.100:80 -r 192.0.2.11:80 -g -w 1
gathered:
  description: The live table in the shape of O(config), with every option filled in.
  returned: when O(state=gathered)
  type: list
  elements: dict
  sample:
    - protocol: tcp
      address: 192.0.2.100
      port: 80
      scheduler: wrr
      scheduler_flags: []
      persistence_timeout: 20
      one_packet: false
      real_servers:
        - address: 192.0.2.11
          port: 80
          forwarding_method: dr
          weight: 1
          upper_threshold: 0
          lower_threshold: 0
rendered:
  description:
    - The table O(config) describes in the collection's rules format, one line an item - first
      C(# lvs.topology rules v1), then the C(-A) and C(-a) lines in byte order, thresholds and
      unsigned fwmarks included. Joined with newlines it is a rules file.
  returned: when O(state=rendered)
  type: list
  elements: str
  sample:
    - "# lvs.topology rules v1"
    - -A -f 3000000000 -s wlc
    - -A -t 192.0.2.100:80 -s wrr -p 20
    - -a -f 3000000000 -r 192.0.2.11:0 -g -w 1 -x 1000 -y 800
    - -a -t 192.0.2.100:80 -r 192.0.2.11:80 -g -w 1
parsed:
  description:
    - The table of O(running_config) in the shape of O(config), with every option filled in, in the
      order of the text's C(-A) lines; fwmarks are unsigned.
  returned: when O(state=parsed)
  type: list
  elements: dict
  sample:
    - protocol: fwmark
      fwmark: 3000000000
      family: ipv4
      scheduler: wlc
      scheduler_flags: []
      persistence_timeout: 0
      one_packet: false
      real_servers:
        - address: 192.0.2.11
          port: 0
          forwarding_method: dr
          weight: 1
          upper_threshold: 1000
          lower_threshold: 800
memo_hit:
  description:
    - True when the record of the last converged run answered this one, so nothing was planned.
  returned: when the record matched
  type: bool
  sample: true
diff:
  description: The whole table as save-format lines, before and after.
  returned: when diff mode is on
  type: dict
lock_waited:
  description:
    - Seconds this run waited for the host lock while another run held it; V(0) when it did not wait.
  returned: always, except with O(state=rendered) and O(state=parsed), which touch no host
  type: float
  sample: 12.75
lock_holder:
  description:
    - The run this one waited for, as it wrote itself into the lock file - the last one when several
      held the lock in turn; null when none had written itself yet.
  returned: when the run waited for the host lock, and when it failed waiting
  type: dict
  contains:
    module:
      description: The module that held the lock, as Ansible named it to the module.
      returned: always
      type: str
      sample: lvs.topology.ipvs_table
    pid:
      description: Its process id on the host.
      returned: always
      type: int
      sample: 4242
    user:
      description: Who ran it - the user C(sudo) became root for, else the user it ran as.
      returned: always
      type: str
      sample: jenkins
    since:
      description: When it took the lock, in UTC.
      returned: always
      type: str
      sample: "2024-05-01T12:00:03Z"
    log_info:
      description: Its C(ansible_target_log_info).
      returned: when that was set
      type: str
      sample: site.yml, Jenkins build 118
"""

import sys

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.lvs.topology.plugins.module_utils._lock import hold_host_lock
from ansible_collections.lvs.topology.plugins.module_utils.ipvs.delta import (
    DELTA_STATES, DeltaUnusable, config_index, delta_from_argument, delta_from_index, index_after, item_digest, plan_delta,
)
from ansible_collections.lvs.topology.plugins.module_utils.ipvs.host import IpvsHost, run_table_change
from ansible_collections.lvs.topology.plugins.module_utils.ipvs.listing import operations_set_thresholds, saved_after_change, thresholds_unset
from ansible_collections.lvs.topology.plugins.module_utils.ipvs.model import IpvsInputError, IpvsParseError, table_config
from ansible_collections.lvs.topology.plugins.module_utils.ipvs.plan import plan_operations, render_diff
from ansible_collections.lvs.topology.plugins.module_utils.ipvs.record import LiveTable, TableMemo, module_source, planning_key, run_key, table_digest
from ansible_collections.lvs.topology.plugins.module_utils.ipvs.resource import (
    OFFLINE_STATES, check_not_emptying, check_state_options, config_items, desired_table, offline_result, table_module_spec,
)
from ansible_collections.lvs.topology.plugins.module_utils.ipvs.saveformat import operation_line


def build_module():
    return AnsibleModule(supports_check_mode=True, **table_module_spec())


def plan_table(params, config, have):
    check_not_emptying(config, params["state"], have, params["allow_empty_table"])
    return desired_table(config, params["state"], have)


def full_index(params, config):
    """index(desired): the record's index of a config planned whole, or None for a state whose
    items are not one service each as planned (delta.py)."""
    def index(desired):
        if params["state"] not in DELTA_STATES or len(desired) != len(config):
            return None
        return config_index([item_digest(item) for item in config], [want.service for want in desired])
    return index


def planned_record_lines(live, have, operations, lines):
    """The -Sn lines a change leaves, as a Counter, worked out from the listing read before:
    without thresholds before or asked they are all of the table. None when the table has to be
    read back to know it."""
    if not live.unset or operations_set_thresholds(operations):
        return None
    return saved_after_change(live.listings[0] if live.listings is not None else "", have, operations, lines)


def record_when_converged(memo, live, purge_other_services, lock, index, plan_whole=None):
    """The report step: record the table this run leaves, once it needs no more operation.

    It runs before the module exits, so the record is written while this run still holds the
    host lock: no other run changes the table between the change and its record. index(desired)
    is the index of the config to record with it, kept only for a table without thresholds (the
    only one planned from it); plan_whole(table), when this run planned only part of the config,
    plans all of it against a table read back.
    """
    def report(host, have, desired, absent, result, operations):
        module = host.module
        result.update(lock.returned())
        if module.check_mode:
            return
        if not result["changed"]:
            if live.digest is not None:
                memo.record(live.digest, index(desired) if live.unset else None)
            return
        # Usually the table after the change is the one read before with exactly these
        # operations applied (ipvsadm reported no error): recorded so, without reading it back
        # (over 2 s at 5000 rules on a TCG guest). The next run's check reads the live table; if
        # the kernel kept anything else, that run misses the record and plans afresh.
        expected = planned_record_lines(live, have, operations, result["commands"])
        if expected is not None:
            memo.record(table_digest("".join(line + "\n" for line in expected.elements())), index(desired))
            return
        # Otherwise read both listings back and plan against them, as a first run would.
        listings = host.read_listings()
        table = host.table_from(listings)
        desired_all, absent_all = plan_whole(table) if plan_whole is not None else (desired, absent)
        if plan_operations(table, desired_all, absent_all, purge_other_services):
            memo.forget()
            module.warn("The IPVS table read back after this change still differs from config; "
                        "something else changed it meanwhile, or ipvsadm accepted a rule the kernel did not keep.")
            return
        memo.record(table_digest(*listings), index(desired) if thresholds_unset(listings[1]) else None)
    return report


def planned_from_record(module, memo, live, config):
    """(have, desired, absent, index) planned from the record's index of the last converged
    config (module_utils/ipvs/delta.py), or None when the record does not allow it."""
    if module.params["state"] not in DELTA_STATES or module._diff or not config or not live.unset:
        return None
    index = memo.recorded_index(live.digest)
    delta = delta_from_index(config, index) if index is not None else None
    return planned_delta(module, delta, live) if delta is not None else None


def planned_from_controller(module, memo, live, items):
    """(have, desired, absent, index) of the changed items that ipvs_table's action sent, with
    _delta, in place of the whole config: planned against the record the action read, or None
    when the live table is not the one that record names (changed by hand since, or by another run
    that came between the action's look and this run's lock), the record is no longer that one,
    or the change cannot be made without the whole config."""
    sent = module.params["_delta"]
    if not live.unset or live.digest != sent.get("table") or memo.planning is None or memo.planning != sent.get("planning"):
        return None
    index = memo.recorded_index(live.digest, sent.get("index"))
    delta = delta_from_argument(index, items, sent) if index is not None else None
    planned = planned_delta(module, delta, live) if delta is not None else None
    if planned is None:
        return None
    have, desired, absent, dummy = planned
    # The table a change leaves is recorded as planned, unless it has to be read back and
    # planned again whole (thresholds), which takes the whole config.
    operations = plan_operations(have, desired, absent, module.params["state"] == "overridden")
    if operations and planned_record_lines(live, have, operations, [operation_line(operation) for operation in operations]) is None:
        return None
    return planned


def planned_delta(module, delta, live):
    """(have, desired, absent, index) of the delta's items; None when it takes the whole table."""
    try:
        have, desired, absent = plan_delta(module.params["state"], delta, live.lines)
    except IpvsInputError as error:
        module.fail_json(msg=str(error))
    except (IpvsParseError, DeltaUnusable):
        # The full path reads the same listing and fails saying where, or names both items.
        return None
    return have, desired, absent, index_after(delta, desired)


def main():
    module = build_module()
    state = module.params["state"]
    try:
        check_state_options(module.params)
        if state in OFFLINE_STATES:
            # The action plugin answers these on the controller; run here, the module still
            # needs neither ipvsadm nor the table.
            module.exit_json(**offline_result(module.params))
    except IpvsInputError as error:
        module.fail_json(msg=str(error))
    # Taken before the table is read and never released here: the process's exit, after
    # exit_json and so after the record is written, gives it back. gathered takes it as well,
    # so the table it returns is one between two runs, never half of a change.
    lock = hold_host_lock(module)
    host = IpvsHost(module)
    listings = host.read_listings()
    if state == "gathered":
        module.exit_json(changed=False, commands=[], gathered=table_config(host.table_from(listings)), **lock.returned())
    module_text = module_source(sys.modules[__name__])
    sent = module.params["_delta"]
    # With _delta, config holds the changed items only; the action sends the run key of the whole.
    key = sent.get("run") if sent is not None else run_key(module_text, state, module.params["config"])
    memo = TableMemo(key, planning=planning_key(module_text, state))
    live = LiveTable(listings)
    if memo.holds_digest(live.digest):
        result = dict(changed=False, commands=[], memo_hit=True, **lock.returned())
        if module._diff:
            have = host.table_from(listings)
            result["diff"] = render_diff(have, have)
        module.exit_json(**result)
    try:
        config = config_items(module.params["config"])
    except IpvsInputError as error:
        module.fail_json(msg=str(error))
    purge = state == "overridden"

    if sent is not None:
        planned = planned_from_controller(module, memo, live, config)
        if planned is None:
            module.fail_json(msg="The IPVS table is not the one its record names, or the record changed after ipvs_table's action "
                                 "read it, or this change needs the whole config; the action runs the module again with it.",
                             full_config_needed=True,
                             **lock.returned())
        have, desired, absent, index = planned
        run_table_change(module, None, report=record_when_converged(memo, live, purge, lock, lambda desired: index),
                         host=host, listings=listings, planned=(have, desired, absent), purge_other_services=purge,
                         whole_table_diff=True)

    def plan_whole(params, have):
        return plan_table(params, config, have)
    from_record = planned_from_record(module, memo, live, config)
    if from_record is not None:
        have, desired, absent, index = from_record
        report = record_when_converged(memo, live, purge, lock, lambda desired: index, lambda table: plan_whole(module.params, table))
        run_table_change(module, None, report=report, host=host, listings=listings, planned=(have, desired, absent),
                         purge_other_services=purge, whole_table_diff=True)
    run_table_change(module, plan_whole, report=record_when_converged(memo, live, purge, lock, full_index(module.params, config)),
                     host=host, listings=listings, purge_other_services=purge, whole_table_diff=True)


if __name__ == "__main__":
    main()
