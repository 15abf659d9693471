# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ipvs_table's action works out on the controller which items of a config differ from the
host's record and sends the module only those: the same operations, undo and record as the
module planning the whole config, and the whole config again, in the same task, whenever the
host is not what the action saw.

The director is the fake kernel of test_ipvs_table_delta: the action's own record check runs in
/bin/sh over a stand-in ipvsadm that prints the fake kernel's listings, and the module runs in
this process over the same kernel.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
from unittest import mock

import pytest

from host_module_harness import ModuleFail, run_module
from test_ipvs_table_action import run_on_host, stand_in_ipvsadm
from test_ipvs_table_delta import (
    EDITS, assert_undone, converge, converged_and_edited, forget_record, gathered, kernel_without_thresholds, pooled, real_server_added,
    recorded_kernel, services_added_one_refused, weight_changed,
)

from ansible_collections.lvs.topology.plugins.action import ipvs_table as ipvs_table_action
from ansible_collections.lvs.topology.plugins.modules import ipvs_table

ONE_WEIGHT = "-e -t 192.0.2.102:80 -r 198.51.100.12:8080 -m -w 7"


class Director(object):
    """The host of an action: before_module(), when set, runs once just before the first module
    run (another run, or an operator, between the action's check and the module's lock)."""

    def __init__(self, fake, memo_path, monkeypatch):
        self.fake, self.memo_path = fake, memo_path
        self.sent, self.before_module = [], None
        self.bin_dir = os.path.join(os.path.dirname(memo_path), "bin")
        real_command = ipvs_table_action.record_check_command
        monkeypatch.setattr(ipvs_table_action, "record_check_command",
                            lambda key: real_command(key, proc=self.bin_dir, memo=memo_path))

    def check(self, command):
        stand_in_ipvsadm(self.memo_path, {("-Sn",): self.fake.saved(), ("-Ln", "--thresholds"): self.fake.thresholds()})
        return {"rc": 0, "stdout": run_on_host(self.bin_dir, command), "stderr": ""}

    def run(self, args, check_mode=False):
        """The action's result for a task with these arguments."""
        task = mock.MagicMock(args=args, diff=False, async_val=0, check_mode=check_mode, action="lvs.topology.ipvs_table")
        connection = mock.MagicMock(has_native_async=False)
        action = ipvs_table_action.ActionModule(task, connection, mock.MagicMock(), loader=None, templar=None, shared_loader_obj=None)
        action._low_level_execute_command = mock.Mock(side_effect=self.check)
        action._remove_tmp_path = mock.Mock()

        def execute_module(module_args=None, task_vars=None, wrap_async=False):
            if self.before_module is not None:
                self.before_module()
                self.before_module = None
            module_args = dict(module_args if module_args is not None else args)
            self.sent.append(module_args)
            try:
                return run_module(ipvs_table.main, module_args, self.fake, check_mode=check_mode, diff=False)
            except ModuleFail as failure:
                return dict(failure.result, failed=True)
        action._execute_module = mock.Mock(side_effect=execute_module)
        return action.run(task_vars={})


def task(config, state="overridden"):
    return dict(state=state, config=json.dumps(config))


def recorded(memo_path):
    """The record as a comparable value: the index by content, whatever the order of its items."""
    with open(memo_path) as handle:
        record = json.load(handle)
    record.pop("index", None)
    with open(os.path.splitext(memo_path)[0] + ".index") as handle:
        return record, sorted(json.load(handle))


@pytest.mark.parametrize("state", ["overridden", "replaced", "merged"])
@pytest.mark.parametrize("edit", EDITS, ids=[edit.__name__ for edit in EDITS])
def test_the_changed_items_sent_converge_as_the_whole_config_does(kernel, memo_path, monkeypatch, state, edit):
    """The action sends the items that differ from the record, the module plans them alone, and
    the operations, the table and the record are those of the module planning the whole config."""
    outcomes = []
    for on_controller in (True, False):
        fake, config, edited = converged_and_edited(state, edit)
        if on_controller:
            director = Director(fake, memo_path, monkeypatch)
            result = director.run(task(edited, state))
            if edited == config:
                # An edit that changes nothing here (the mark is rr already): the record answers.
                assert (director.sent, result.get("memo_hit")) == ([], True)
            else:
                [sent] = director.sent
                assert "_delta" in sent and len(json.loads(sent["config"])) <= 2 < len(edited)
            rerun = director.run(task(edited, state))
            assert (rerun["changed"], rerun.get("memo_hit")) == (False, True)
        else:
            forget_record(memo_path)
            result = converge(fake, edited, state, diff=False)
        outcomes.append((result["commands"], result["changed"], fake.table_text(), recorded(memo_path)))
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][1] is bool(outcomes[0][0])


def test_one_weight_sends_one_item_and_is_one_operation(kernel, memo_path, monkeypatch):
    fake, config, dummy = recorded_kernel(memo_path)
    weight_changed(config)
    director = Director(fake, memo_path, monkeypatch)
    calls = len(fake.calls)
    result = director.run(task(config))
    assert result["commands"] == [ONE_WEIGHT]
    [sent] = director.sent
    assert json.loads(sent["config"]) == [pooled(config, "192.0.2.102")]
    assert sent["_delta"]["positions"] == [config.index(pooled(config, "192.0.2.102"))] and len(sent["_delta"]["dropped"]) == 1
    # The module read the two listings under the lock, once, and made the one edit.
    assert [argv[1:] for argv, data in fake.calls[calls:]] == [["-Sn"], ["-Ln", "--thresholds"], ONE_WEIGHT.split()]


def hand_edit(fake):
    assert fake.change("-e -t 192.0.2.102:80 -r 203.0.113.13:80 -i -w 42".split()) is None


def another_run_with_another_config(fake):
    def converge_another():
        other = gathered(fake)
        real_server_added(other)
        assert converge(fake, other, diff=False)["changed"] is True
    return converge_another


@pytest.mark.parametrize("change", ["hand-edit-since-the-record", "hand-edit-after-the-check", "another-run-after-the-check"])
def test_a_table_that_is_not_the_recorded_one_is_planned_whole_in_the_same_task(kernel, memo_path, monkeypatch, change):
    """The check of a task with another config does not list the table: the action sends the
    changed items against the table the record names. The module finds under the lock that the
    live table (and, after another run, the record) is not that one: it changes nothing and the
    action runs it with the whole config."""
    expected = kernel_without_thresholds()
    edited = gathered(expected)
    weight_changed(edited)
    converge(expected, edited, diff=False)
    forget_record(memo_path)
    fake, config, dummy = recorded_kernel(memo_path)
    weight_changed(config)
    director = Director(fake, memo_path, monkeypatch)
    if change == "hand-edit-since-the-record":
        hand_edit(fake)
    else:
        director.before_module = (lambda: hand_edit(fake)) if change == "hand-edit-after-the-check" else another_run_with_another_config(fake)
    result = director.run(task(config))
    assert "failed" not in result and result["changed"] is True
    assert ["_delta" in sent for sent in director.sent] == [True, False]
    assert director.sent[1]["config"] == task(config)["config"]
    assert ONE_WEIGHT in result["commands"] and len(result["commands"]) == 2
    assert fake.table_text() == expected.table_text()
    assert director.run(task(config)).get("memo_hit") is True


def spoil_index(memo_path, how):
    index_path = os.path.splitext(memo_path)[0] + ".index"
    if how == "missing":
        os.remove(index_path)
        return
    with open(index_path) as handle:
        text = handle.read()
    with open(index_path, "w") as handle:
        # garbled: not what the record names; stale: a valid index, of another config.
        handle.write(text[:len(text) // 2] if how == "garbled" else json.dumps(json.loads(text)[1:], separators=(",", ":")))


@pytest.mark.parametrize("how", ["missing", "garbled", "stale"])
def test_an_index_that_is_not_the_one_the_record_names_sends_the_whole_config(kernel, memo_path, monkeypatch, how):
    fake, config, dummy = recorded_kernel(memo_path)
    spoil_index(memo_path, how)
    weight_changed(config)
    director = Director(fake, memo_path, monkeypatch)
    result = director.run(task(config))
    assert result["commands"] == [ONE_WEIGHT]
    assert [sent.get("_delta") for sent in director.sent] == [None]


def test_a_rejected_batch_of_changed_items_is_undone(kernel, memo_path, monkeypatch):
    fake, config, record = recorded_kernel(memo_path)
    before = fake.table_text()
    services_added_one_refused(fake, config)
    director = Director(fake, memo_path, monkeypatch)
    result = director.run(task(config))
    assert result["failed"] is True and len(director.sent) == 1 and "_delta" in director.sent[0]
    assert_undone(result, fake, before, memo_path, record)


def test_check_mode_sends_the_changed_items_and_changes_nothing(kernel, memo_path, monkeypatch):
    fake, config, record = recorded_kernel(memo_path)
    before = fake.table_text()
    weight_changed(config)
    director = Director(fake, memo_path, monkeypatch)
    result = director.run(task(config), check_mode=True)
    assert (result["changed"], result["commands"]) == (True, [ONE_WEIGHT])
    assert "_delta" in director.sent[0] and len(director.sent) == 1
    assert fake.table_text() == before and not fake.changes()
    with open(memo_path) as handle:
        assert handle.read() == record


def test_a_change_that_sets_thresholds_is_made_with_the_whole_config(kernel, memo_path, monkeypatch):
    """Its table is read back and planned again whole, which takes the whole config."""
    fake, config, dummy = recorded_kernel(memo_path)
    pooled(config, "192.0.2.102")["real_servers"][0]["upper_threshold"] = 30
    director = Director(fake, memo_path, monkeypatch)
    result = director.run(task(config))
    assert result["commands"] == ["-e -t 192.0.2.102:80 -r 192.0.2.11:80 -g -w 1 -x 30"]
    assert ["_delta" in sent for sent in director.sent] == [True, False] and "warnings" not in result
    # A table with thresholds keeps no index: the next change goes whole at once.
    with open(memo_path) as handle:
        assert "index" not in json.load(handle)
    assert director.run(task(config)).get("memo_hit") is True


@pytest.mark.parametrize("bad, message, runs", [
    (lambda config: config.insert(0, dict(config[3], scheduler="rr")), "config[4] repeats the service", 2),
    (lambda config: pooled(config, "192.0.2.102")["real_servers"][1].update(weight=70000),
     "real server 198.51.100.12 weight must be from 0 to 65535, got 70000.", 1),
], ids=["repeats-an-unchanged-service", "bad-weight"])
def test_bad_changed_items_are_refused_with_the_sentence_of_the_whole_config(kernel, memo_path, monkeypatch, bad, message, runs):
    """A service an unchanged item names again is told by its place in the whole config, which
    only the whole config gives the module."""
    fake = kernel_without_thresholds()
    whole = gathered(fake)
    bad(whole)
    with pytest.raises(ModuleFail) as failure:
        converge(fake, whole, diff=False)
    fake, config, dummy = recorded_kernel(memo_path)
    before = fake.table_text()
    bad(config)
    director = Director(fake, memo_path, monkeypatch)
    calls = len(fake.calls)
    result = director.run(task(config))
    assert (result["failed"], result["msg"], len(director.sent)) == (True, failure.value.result["msg"], runs)
    assert message in result["msg"]
    assert fake.table_text() == before and [argv[1:2] for argv, data in fake.calls[calls:]] == [["-Sn"], ["-Ln"]] * runs


def test_a_task_that_sets_the_internal_option_is_refused(kernel, memo_path, monkeypatch):
    fake, config, dummy = recorded_kernel(memo_path)
    director = Director(fake, memo_path, monkeypatch)
    result = director.run(dict(task(config), _delta={"run": "0" * 64}))
    assert result["failed"] is True and "_delta" in result["msg"] and director.sent == []
