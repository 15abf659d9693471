# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ipvs_table plans a small change from the record of the last converged run, and only when the
live table is still the recorded one: the same operations as planning the whole table, the
same undo, the same record; anything that does not match plans the whole table.

The fake kernel starts from the table captured on a lab VM, without its one real server's
thresholds (a table with thresholds is always planned whole), and keeps every change it accepts.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import os
from collections import OrderedDict

import pytest

from host_module_harness import ModuleFail, run_module
from test_ipvs_modules import live
from test_ipvs_undo import ENOMEM, KernelIpvsadm

from ansible_collections.lvs.topology.plugins.module_utils.ipvs import delta as ipvs_delta, host as ipvs_host
from ansible_collections.lvs.topology.plugins.module_utils.ipvs.model import ServiceEntry
from ansible_collections.lvs.topology.plugins.modules import ipvs_table


class CountedReads(object):
    """How often a run parsed the whole table, and the lines the delta path parsed."""

    def __init__(self, monkeypatch):
        self.whole, self.delta_lines = 0, []
        table_from, parse = ipvs_host.IpvsHost.table_from, ipvs_delta.parse_saved_table

        def counted_table_from(host, listings):
            self.whole += 1
            return table_from(host, listings)

        def counted_parse(text):
            self.delta_lines.extend(text.splitlines())
            return parse(text)
        monkeypatch.setattr(ipvs_host.IpvsHost, "table_from", counted_table_from)
        monkeypatch.setattr(ipvs_delta, "parse_saved_table", counted_parse)

    def reset(self):
        self.whole, self.delta_lines = 0, []


def kernel_without_thresholds():
    fake = KernelIpvsadm(live())
    for service, entry in fake.table.items():
        fake.table[service] = ServiceEntry(entry.settings, OrderedDict(
            (key, server._replace(upper_threshold=0, lower_threshold=0)) for key, server in entry.real_servers.items()))
    return fake


def gathered(fake):
    return run_module(ipvs_table.main, dict(state="gathered"), fake)["gathered"]


def recorded_kernel(memo_path):
    """The fake kernel, the config gathered from it and converged, and the record that run wrote."""
    fake = kernel_without_thresholds()
    config = gathered(fake)
    converge(fake, config)
    with open(memo_path) as handle:
        return fake, config, handle.read()


def converged_and_edited(state, edit):
    """The fake kernel with its gathered config converged with state (and recorded), and that
    config with the edit."""
    fake = kernel_without_thresholds()
    config = gathered(fake)
    assert converge(fake, config, state)["changed"] is False
    edited = copy.deepcopy(config)
    edit(edited)
    return fake, config, edited


def converge(fake, config, state="overridden", **options):
    return run_module(ipvs_table.main, dict(state=state, config=json.dumps(config)), fake, **options)


def forget_record(memo_path):
    for path in (memo_path, os.path.splitext(memo_path)[0] + ".index"):
        if os.path.exists(path):
            os.remove(path)


def pooled(config, address):
    return [service for service in config if service.get("address") == address and service["real_servers"]][0]


def weight_changed(config):
    pooled(config, "192.0.2.102")["real_servers"][1]["weight"] = 7


def real_server_added(config):
    pooled(config, "192.0.2.102")["real_servers"].append(dict(address="203.0.113.99", forwarding_method="tun"))


def real_server_dropped(config):
    del pooled(config, "192.0.2.102")["real_servers"][2]


def service_added(config):
    config.append(dict(address="192.0.2.250", port=443, scheduler="rr", real_servers=[dict(address="192.0.2.11", weight=2)]))


def service_dropped(config):
    config.remove(pooled(config, "192.0.2.102"))


def port_changed(config):
    service = pooled(config, "192.0.2.102")
    service["port"] = 8443
    for server in service["real_servers"]:
        if server["forwarding_method"] != "nat":
            server["port"] = 8443


def big_fwmark_rescheduled(config):
    # ipvsadm -Sn lists this mark as -1: its lines are found by reading every -A line.
    [service for service in config if service.get("fwmark") == 4294967295][0]["scheduler"] = "rr"


def drained(config):
    server = pooled(config, "192.0.2.102")["real_servers"][1]
    server.clear()
    server.update(address="198.51.100.12", port=8080, state="drained")


def merged_weight(config):
    """As merged reads it: the item names the service and the one real server it changes."""
    service = pooled(config, "192.0.2.102")
    service.clear()
    service.update(address="192.0.2.102", port=80, real_servers=[dict(address="198.51.100.12", port=8080, forwarding_method="nat", weight=9)])


EDITS = [weight_changed, real_server_added, real_server_dropped, service_added, service_dropped, port_changed,
         big_fwmark_rescheduled, drained, merged_weight]


@pytest.mark.parametrize("state", ["overridden", "replaced", "merged"])
@pytest.mark.parametrize("edit", EDITS, ids=[edit.__name__ for edit in EDITS])
def test_a_change_planned_from_the_record_is_the_change_planned_whole(kernel, memo_path, monkeypatch, state, edit):
    reads = CountedReads(monkeypatch)
    results, tables = [], []
    for from_record in (True, False):
        fake, config, edited = converged_and_edited(state, edit)
        if not from_record:
            forget_record(memo_path)
        reads.reset()
        results.append(converge(fake, edited, state, diff=False))
        tables.append(fake.table_text())
        assert reads.whole == (0 if from_record else 1)
        if from_record:
            # Only the lines of the services the changed items name were parsed.
            assert len(reads.delta_lines) <= 12
        rerun = converge(fake, edited, state, diff=False)
        assert (rerun["changed"], rerun.get("memo_hit")) == (False, True)
    assert results[0]["commands"] == results[1]["commands"]
    assert results[0]["changed"] is results[1]["changed"] is bool(results[0]["commands"])
    assert tables[0] == tables[1]


def test_one_weight_is_one_operation_and_the_record_answers_the_rerun(kernel, memo_path, monkeypatch):
    reads = CountedReads(monkeypatch)
    fake, config, dummy = recorded_kernel(memo_path)
    weight_changed(config)
    reads.reset()
    calls = len(fake.calls)
    result = converge(fake, config, diff=False)
    assert result["commands"] == ["-e -t 192.0.2.102:80 -r 198.51.100.12:8080 -m -w 7"]
    # The table listed once and not read back, its lines not parsed but for the one service.
    assert [argv[1:] for argv, data in fake.calls[calls:]] == [
        ["-Sn"], ["-Ln", "--thresholds"], ["-e", "-t", "192.0.2.102:80", "-r", "198.51.100.12:8080", "-m", "-w", "7"]]
    assert reads.whole == 0 and len(reads.delta_lines) == 9


def test_a_table_changed_since_the_record_is_planned_whole(kernel, memo_path, monkeypatch):
    """A rule edited by hand after the record: the live digest differs, the whole table is
    planned, and overridden puts the hand-edited rule back too."""
    reads = CountedReads(monkeypatch)
    fake, config, dummy = recorded_kernel(memo_path)
    assert fake.change("-e -t 192.0.2.102:80 -r 203.0.113.13:80 -i -w 42".split()) is None
    weight_changed(config)
    reads.reset()
    result = converge(fake, config, diff=False)
    assert reads.whole == 1 and reads.delta_lines == []
    assert sorted(result["commands"]) == ["-e -t 192.0.2.102:80 -r 198.51.100.12:8080 -m -w 7",
                                          "-e -t 192.0.2.102:80 -r 203.0.113.13:80 -i -w 3 --tun-type ipip"]


@pytest.mark.parametrize("spoil", ["index-replaced", "index-missing", "record-of-another-state"])
def test_a_record_whose_index_does_not_match_is_not_used(kernel, memo_path, monkeypatch, spoil):
    reads = CountedReads(monkeypatch)
    fake, config, dummy = recorded_kernel(memo_path)
    index_path = os.path.splitext(memo_path)[0] + ".index"
    if spoil == "index-replaced":
        with open(index_path) as handle:
            index = json.load(handle)
        # The index of a config without its first item: the record names another file.
        with open(index_path, "w") as handle:
            json.dump(index[1:], handle)
    elif spoil == "index-missing":
        os.remove(index_path)
    else:
        converge(fake, config, state="replaced")
    weight_changed(config)
    reads.reset()
    result = converge(fake, config, diff=False)
    assert reads.whole == 1
    assert result["commands"] == ["-e -t 192.0.2.102:80 -r 198.51.100.12:8080 -m -w 7"]


@pytest.mark.parametrize("setting", [dict(diff=True), dict(thresholds=True)], ids=["diff-mode", "table-with-thresholds"])
def test_diff_mode_and_thresholds_plan_the_whole_table(kernel, memo_path, monkeypatch, setting):
    reads = CountedReads(monkeypatch)
    fake = KernelIpvsadm(live()) if setting.get("thresholds") else kernel_without_thresholds()
    config = gathered(fake)
    converge(fake, config)
    weight_changed(config)
    reads.reset()
    result = converge(fake, config, diff=setting.get("diff", False))
    # With thresholds, the table is also read back after the change, as before the record existed.
    assert reads.whole == (2 if setting.get("thresholds") else 1) and reads.delta_lines == []
    assert result["commands"] == ["-e -t 192.0.2.102:80 -r 198.51.100.12:8080 -m -w 7"]
    if setting.get("diff"):
        assert result["diff"]["before"].count("\n") == result["diff"]["after"].count("\n") == len(fake.table_text())


def test_a_change_that_sets_thresholds_is_read_back_and_checked_whole(kernel, memo_path, monkeypatch):
    reads = CountedReads(monkeypatch)
    fake, config, dummy = recorded_kernel(memo_path)
    pooled(config, "192.0.2.102")["real_servers"][0]["upper_threshold"] = 30
    reads.reset()
    result = converge(fake, config, diff=False)
    assert result["commands"] == ["-e -t 192.0.2.102:80 -r 192.0.2.11:80 -g -w 1 -x 30"]
    assert reads.whole == 1 and "warnings" not in result
    assert converge(fake, config, diff=False).get("memo_hit") is True


def test_check_mode_plans_from_the_record_and_changes_nothing(kernel, memo_path, monkeypatch):
    reads = CountedReads(monkeypatch)
    fake, config, record = recorded_kernel(memo_path)
    before = fake.table_text()
    service_added(config)
    reads.reset()
    calls = len(fake.calls)
    result = converge(fake, config, check_mode=True, diff=False)
    assert result["commands"] == ["-A -t 192.0.2.250:443 -s rr", "-a -t 192.0.2.250:443 -r 192.0.2.11:443 -g -w 2"]
    assert reads.whole == 0 and fake.table_text() == before
    assert [argv[1:] for argv, data in fake.calls[calls:]] == [["-Sn"], ["-Ln", "--thresholds"]]
    with open(memo_path) as handle:
        assert handle.read() == record


REFUSED = "-a -t 192.0.2.250:1002 -r 192.0.2.11:1002 -g -w 1"


def services_added_one_refused(fake, config):
    """Three services added to config, a batch (more than four operations) with one line the
    kernel refuses."""
    for port in (1001, 1002, 1003):
        config.append(dict(address="192.0.2.250", port=port, real_servers=[dict(address="192.0.2.11")]))
    fake.refuse[REFUSED] = ENOMEM


def assert_undone(result, fake, before, memo_path, record):
    """Exactly what took effect undone, in the services the change touched only; nothing recorded."""
    assert result["rejected"] == [REFUSED]
    assert sorted(result["undo_commands"]) == ["-D -t 192.0.2.250:1001", "-D -t 192.0.2.250:1002", "-D -t 192.0.2.250:1003"]
    assert "the table is as it was before this task" in result["msg"]
    assert fake.table_text() == before
    with open(memo_path) as handle:
        assert handle.read() == record


def test_a_rejected_change_planned_from_the_record_is_undone(kernel, memo_path, monkeypatch):
    """A batch (more than four operations) with one line the kernel refuses: exactly what took
    effect is undone, in the services the change touched only, and nothing is recorded."""
    fake, config, record = recorded_kernel(memo_path)
    before = fake.table_text()
    services_added_one_refused(fake, config)
    with pytest.raises(ModuleFail) as failure:
        converge(fake, config, diff=False)
    assert_undone(failure.value.result, fake, before, memo_path, record)
    # The table is the recorded one again: the next run plans from the record and converges.
    del fake.refuse[REFUSED]
    assert len(converge(fake, config, diff=False)["commands"]) == 6
    assert converge(fake, config, diff=False).get("memo_hit") is True


@pytest.mark.parametrize("bad, message", [
    (lambda config: config.append(dict(config[3], scheduler="rr")), "config[25] repeats the service"),
    (lambda config: config.insert(0, dict(config[3], scheduler="rr")), "config[4] repeats the service"),
    (lambda config: pooled(config, "192.0.2.102")["real_servers"][1].update(weight=70000),
     "real server 198.51.100.12 weight must be from 0 to 65535, got 70000."),
], ids=["repeated-after", "repeated-before", "bad-weight"])
def test_bad_changed_items_are_refused_as_the_whole_plan_refuses_them(kernel, memo_path, bad, message):
    messages = []
    for from_record in (True, False):
        fake = kernel_without_thresholds()
        config = gathered(fake)
        converge(fake, config)
        bad(config)
        if not from_record:
            forget_record(memo_path)
        calls = len(fake.calls)
        with pytest.raises(ModuleFail) as failure:
            converge(fake, config, diff=False)
        assert [argv[1:] for argv, data in fake.calls[calls:]] == [["-Sn"], ["-Ln", "--thresholds"]]
        messages.append(failure.value.result["msg"])
    assert messages[0] == messages[1] and message in messages[0]


def test_an_items_digest_is_its_values_and_their_types():
    item = json.loads('{"address": "192.0.2.1", "port": 80, "real_servers": [{"address": "192.0.2.11", "weight": 1}]}')
    # The same values as other objects (strings built at run time are not interned).
    rebuilt = {"".join(["addr", "ess"]): "".join(["192.0.2.", "1"]), "port": 80,
               "real_servers": [{"address": "192.0.2.11", "weight": int("1")}]}
    assert ipvs_delta.item_digest(item) == ipvs_delta.item_digest(rebuilt)
    for weight in (True, 1.0, "1", 2):
        other = copy.deepcopy(item)
        other["real_servers"][0]["weight"] = weight
        assert ipvs_delta.item_digest(other) != ipvs_delta.item_digest(item)
