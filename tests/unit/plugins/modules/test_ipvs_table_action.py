# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ipvs_table's action: the record the module wrote answers a rerun without running the module."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
from unittest import mock

import pytest
from host_module_harness import run_module
from test_ipvs_modules import ONE_SERVICE, FakeIpvsadm, KernelKeepingIpvsadm, _table_listings

from ansible_collections.lvs.topology.plugins.action.ipvs_table import SECTION, ActionModule, record_check_command, split_answer
from ansible_collections.lvs.topology.plugins.module_utils.ipvs.record import table_digest
from ansible_collections.lvs.topology.tests.unit.plugins.module_utils.ipvs_fixtures import captured
from ansible_collections.lvs.topology.plugins.modules import ipvs_table

MODULE_RESULT = {"changed": False, "commands": [], "ran": "module"}


def converge_with_module(config, state="overridden"):
    """The module's own run on the captured one-service table: it records the converged run."""
    result = run_module(ipvs_table.main, dict(state=state, config=config), FakeIpvsadm(_table_listings()))
    assert (result["changed"], result.get("memo_hit")) == (False, None)


def host_answer(memo_path, listings=None, newline="\n", rc=0, stderr=""):
    """What the action's one command prints on a host whose ipvsadm prints these listings:
    the command itself, run by /bin/sh with a stand-in ipvsadm first on its PATH."""
    listings = listings or _table_listings()
    bin_dir = os.path.join(os.path.dirname(memo_path), "bin")
    if not os.path.isdir(bin_dir):
        os.makedirs(bin_dir)
    for arguments, name in ((("-Sn",), "saved"), (("-Ln", "--thresholds"), "thresholds")):
        with open(os.path.join(bin_dir, name), "w") as handle:
            handle.write(listings[arguments])
    ipvsadm = os.path.join(bin_dir, "ipvsadm")
    with open(ipvsadm, "w") as handle:
        handle.write('#!/bin/sh\nif [ "$1" = -Sn ]; then cat "%s/saved"; else cat "%s/thresholds"; fi\n' % (bin_dir, bin_dir))
    os.chmod(ipvsadm, 0o755)
    command = record_check_command(proc=bin_dir, memo=memo_path)
    run = subprocess.run(["/bin/sh", "-c", command], capture_output=True, text=True, check=False,
                         env=dict(os.environ, PATH=bin_dir + ":" + os.environ["PATH"]))
    assert (run.returncode, run.stderr) == (0, "")
    return {"rc": rc, "stdout": run.stdout.replace("\n", newline), "stderr": stderr}


def action_for(args, answer, diff=False):
    task = mock.MagicMock(args=args, diff=diff, async_val=0, check_mode=False, action="lvs.topology.ipvs_table")
    connection = mock.MagicMock(has_native_async=False)
    connection._shell.tmpdir = "/tmp/ansible-test"
    action = ActionModule(task, connection, mock.MagicMock(), loader=None, templar=None, shared_loader_obj=None)
    action._low_level_execute_command = mock.Mock(return_value=answer)
    action._execute_module = mock.Mock(return_value=dict(MODULE_RESULT))
    action._remove_tmp_path = mock.Mock()
    return action


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["pipe", "tty"])
def test_the_modules_record_answers_the_same_task(kernel, memo_path, newline):
    config = json.dumps(ONE_SERVICE)
    converge_with_module(config)
    action = action_for(dict(state="overridden", config=config), host_answer(memo_path, newline=newline))
    assert action.run(task_vars={}) == {"changed": False, "commands": [], "memo_hit": True}
    action._execute_module.assert_not_called()


def test_the_record_of_a_change_answers_the_rerun_until_a_threshold_is_set(kernel, memo_path):
    """After a change the module records the table from its -Sn read-back alone; the action
    checks both listings against it, and a threshold set by hand is a miss."""
    config = json.dumps(ONE_SERVICE)
    result = run_module(ipvs_table.main, dict(state="overridden", config=config), KernelKeepingIpvsadm())
    assert result["changed"] is True
    action = action_for(dict(state="overridden", config=config), host_answer(memo_path))
    assert action.run(task_vars={})["memo_hit"] is True
    listings = _table_listings()
    listings[("-Ln", "--thresholds")] = listings[("-Ln", "--thresholds")].replace(" 0          0          0 ", " 9          0          0 ")
    assert listings != _table_listings()
    action = action_for(dict(state="overridden", config=config), host_answer(memo_path, listings))
    assert action.run(task_vars={}) == MODULE_RESULT


def test_a_list_config_keys_as_the_modules_jsonarg_does(kernel, memo_path):
    converge_with_module(ONE_SERVICE, state="merged")
    action = action_for(dict(config=ONE_SERVICE), host_answer(memo_path))
    assert action.run(task_vars={})["memo_hit"] is True


def edited_table():
    listings = _table_listings()
    listings[("-Sn",)] = listings[("-Sn",)].replace("-w 1", "-w 2")
    return listings


@pytest.mark.parametrize("args, answer, diff", [
    (dict(state="overridden", config=json.dumps(ONE_SERVICE[:0])), {}, False),
    (dict(state="replaced", config=json.dumps(ONE_SERVICE)), {}, False),
    (dict(state="overridden", config=json.dumps(ONE_SERVICE)), dict(listings=edited_table()), False),
    (dict(state="overridden", config=json.dumps(ONE_SERVICE)), dict(rc=3), False),
    (dict(state="overridden", config=json.dumps(ONE_SERVICE)), dict(stderr="ipvsadm: warning\n"), False),
    (dict(state="overridden", config=json.dumps(ONE_SERVICE)), {}, True),
    (dict(state="gathered"), {}, False),
], ids=["other-config", "other-state", "table-edited", "no-ipvs", "stderr", "diff-mode", "gathered"])
def test_anything_else_runs_the_module(kernel, memo_path, args, answer, diff):
    converge_with_module(json.dumps(ONE_SERVICE))
    action = action_for(args, host_answer(memo_path, **answer), diff=diff)
    assert action.run(task_vars={}) == MODULE_RESULT
    action._execute_module.assert_called_once_with(task_vars={}, wrap_async=0)


def test_a_truncated_answer_runs_the_module(kernel, memo_path):
    converge_with_module(json.dumps(ONE_SERVICE))
    answer = host_answer(memo_path)
    answer["stdout"] = answer["stdout"].split(SECTION)[0]
    action = action_for(dict(state="overridden", config=json.dumps(ONE_SERVICE)), answer)
    assert action.run(task_vars={}) == MODULE_RESULT


@pytest.mark.parametrize("thresholds", ["thresholds_all_features.txt", "thresholds_empty.txt"])
def test_the_hosts_digest_is_the_modules(memo_path, thresholds):
    """The shell pipeline of the action and table_digest() agree on captured listings, with
    thresholds set and without; a changed threshold changes both."""
    listings = {("-Sn",): captured("save_all_features.txt"), ("-Ln", "--thresholds"): captured(thresholds)}
    answer = split_answer(host_answer(memo_path, listings)["stdout"])
    assert answer == ("\n", table_digest(listings[("-Sn",)], listings[("-Ln", "--thresholds")]))
    if thresholds == "thresholds_all_features.txt":
        changed = dict(listings)
        changed[("-Ln", "--thresholds")] = listings[("-Ln", "--thresholds")].replace("100        50 ", "100        51 ")
        assert changed != listings
        assert split_answer(host_answer(memo_path, changed)["stdout"])[1] not in (answer[1], table_digest(listings[("-Sn",)]))
