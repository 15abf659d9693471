# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ipvs_table's action: the record the module wrote answers a rerun without running the module,
and the states rendered and parsed are answered on the controller, never touching the host."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
from unittest import mock

import pytest
from ansible.errors import AnsibleActionFail
from host_module_harness import ModuleFail, run_module
from test_ipvs_modules import EMPTY_THRESHOLDS, ONE_SERVICE, FakeIpvsadm, KernelKeepingIpvsadm, _table_listings

from ansible_collections.lvs.topology.plugins.action.ipvs_table import SECTION, ActionModule, record_check_command, split_answer
from ansible_collections.lvs.topology.plugins.module_utils.ipvs.record import table_digest
from ansible_collections.lvs.topology.tests.unit.plugins.module_utils.ipvs_fixtures import captured
from ansible_collections.lvs.topology.plugins.modules import ipvs_table

MODULE_RESULT = {"changed": False, "commands": [], "ran": "module"}
# The action's own answer from the record: it read without the host lock, so it never waited.
MEMO_HIT = {"changed": False, "commands": [], "memo_hit": True, "lock_waited": 0.0}


def converge_with_module(config, state="overridden"):
    """The module's own run on the captured one-service table: it records the converged run."""
    result = run_module(ipvs_table.main, dict(state=state, config=config), FakeIpvsadm(_table_listings()))
    assert (result["changed"], result.get("memo_hit")) == (False, None)


def stand_in_ipvsadm(memo_path, listings):
    """A directory with an ipvsadm that prints these listings, beside the record."""
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
    return bin_dir


def run_on_host(bin_dir, command):
    """The action's command run by /bin/sh with the stand-in ipvsadm first on its PATH."""
    run = subprocess.run(["/bin/sh", "-c", command], capture_output=True, text=True, check=False,
                         env=dict(os.environ, PATH=bin_dir + ":" + os.environ["PATH"]))
    assert (run.returncode, run.stderr) == (0, "")
    return run.stdout


def host_answer(memo_path, listings=None, newline="\n", rc=0, stderr="", key=None):
    """What the action's one command prints on a host whose ipvsadm prints these listings, for
    a task of this run key; by default the one the host's record names (the host then prints the
    table's digest, which the action compares whatever its task's own key is)."""
    if key is None:
        key = recorded_key(memo_path)
    bin_dir = stand_in_ipvsadm(memo_path, listings or _table_listings())
    stdout = run_on_host(bin_dir, record_check_command(key, proc=bin_dir, memo=memo_path))
    return {"rc": rc, "stdout": stdout.replace("\n", newline), "stderr": stderr}


def recorded_key(memo_path):
    """The run key the record names; a key no run has when there is no record."""
    try:
        with open(memo_path) as handle:
            return json.load(handle)["run"]
    except (IOError, OSError):
        return "0" * 64


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
@pytest.mark.parametrize("lock_timeout", [{}, {"lock_timeout": 30}], ids=["lock-timeout-default", "lock-timeout-set"])
def test_the_modules_record_answers_the_same_task(kernel, memo_path, newline, lock_timeout):
    """How long the module would wait for the host lock is no part of what the record answers."""
    config = json.dumps(ONE_SERVICE)
    converge_with_module(config)
    action = action_for(dict(state="overridden", config=config, **lock_timeout), host_answer(memo_path, newline=newline))
    assert action.run(task_vars={}) == MEMO_HIT
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


@pytest.mark.parametrize("allow_empty_table", [None, False, True], ids=["unset", "false", "true"])
@pytest.mark.parametrize("state", ["overridden", "deleted"])
def test_a_recorded_empty_table_answers_an_empty_config_and_a_filled_one_goes_to_the_module(kernel, memo_path, state, allow_empty_table):
    """allow_empty_table does not keep the record from answering: a record of an empty config
    is one of an empty table, which stays empty either way. Once the table has a service, no
    record matches and the module decides, refusing to empty it unless allowed."""
    empty = {("-Sn",): "", ("-Ln", "--thresholds"): EMPTY_THRESHOLDS}
    args = dict(state=state, config="[]")
    if allow_empty_table is not None:
        args["allow_empty_table"] = allow_empty_table
    result = run_module(ipvs_table.main, dict(args), FakeIpvsadm(empty))
    assert (result["changed"], result["commands"]) == (False, [])
    action = action_for(dict(args), host_answer(memo_path, empty))
    assert action.run(task_vars={}) == MEMO_HIT
    action = action_for(dict(args), host_answer(memo_path, _table_listings()))
    assert action.run(task_vars={}) == MODULE_RESULT
    fake = FakeIpvsadm(_table_listings())
    if allow_empty_table:
        assert run_module(ipvs_table.main, dict(args), fake)["commands"] == ["-D -t 192.0.2.100:80"]
    else:
        with pytest.raises(ModuleFail) as failure:
            run_module(ipvs_table.main, dict(args), fake)
        assert "would delete the only service of the IPVS table" in failure.value.result["msg"]
        assert fake.changes() == []


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
    os.makedirs(os.path.dirname(memo_path))
    with open(memo_path, "w") as handle:
        handle.write(json.dumps({"run": "0" * 64}))
    answer = split_answer(host_answer(memo_path, listings)["stdout"])
    assert answer == (json.dumps({"run": "0" * 64}) + "\n", table_digest(listings[("-Sn",)], listings[("-Ln", "--thresholds")]), "")
    if thresholds == "thresholds_all_features.txt":
        changed = dict(listings)
        changed[("-Ln", "--thresholds")] = listings[("-Ln", "--thresholds")].replace("100        50 ", "100        51 ")
        assert changed != listings
        assert split_answer(host_answer(memo_path, changed)["stdout"])[1] not in (answer[1], table_digest(listings[("-Sn",)]))


def test_a_task_of_another_config_is_not_checked_against_the_table(kernel, memo_path):
    """Its run key is not the record's, so the record cannot answer it: the host prints the record
    and its index without listing the table, which the module lists once under the lock."""
    converge_with_module(json.dumps(ONE_SERVICE))
    bin_dir = stand_in_ipvsadm(memo_path, _table_listings())
    with open(os.path.join(bin_dir, "ipvsadm"), "w") as handle:
        handle.write("#!/bin/sh\necho listed >&2\nexit 1\n")
    record, digest, index = split_answer(run_on_host(bin_dir, record_check_command("0" * 64, proc=bin_dir, memo=memo_path)))
    with open(memo_path) as handle:
        assert record == handle.read() + "\n"
    with open(os.path.splitext(memo_path)[0] + ".index") as handle:
        assert (digest, index) == (None, handle.read())


def unreachable_host_action(args, check_mode=False):
    """The action of a task whose host must not be touched: running anything there, or
    sending the module, fails the test; the connection records any call."""
    task = mock.MagicMock(args=args, diff=False, async_val=0, check_mode=check_mode, action="lvs.topology.ipvs_table")
    connection = mock.MagicMock(has_native_async=False)
    connection._shell.tmpdir = None
    action = ActionModule(task, connection, mock.MagicMock(), loader=None, templar=None, shared_loader_obj=None)
    action._low_level_execute_command = mock.Mock(side_effect=AssertionError("ran a command on the host"))
    action._execute_module = mock.Mock(side_effect=AssertionError("sent the module to the host"))
    return action, connection


def module_answer(args):
    """The module's own answer to the same task, with no ipvsadm on its host at all."""
    fake = FakeIpvsadm()
    try:
        result = run_module(ipvs_table.main, args, fake, binaries=())
    except ModuleFail as failure:
        result = dict(failure.result, failed=True)
    assert fake.calls == []
    return result


RULES = "\n".join([
    "# lvs.topology rules v1",
    "-A -f 4294967295 -s rr",
    "-A -t [2001:db8::100]:443 -s wlc -p 120 -M 64",
    "-a -f 4294967295 -r 192.0.2.11:0 -g -w 1 -x 100 -y 50",
    "-a -t [2001:db8::100]:443 -r 203.0.113.14:443 -i -w 2 --tun-type gue --tun-port 6080 --tun-csum",
]) + "\n"


@pytest.mark.parametrize("args", [
    dict(state="rendered", config=json.dumps(ONE_SERVICE)),
    dict(state="rendered", config=ONE_SERVICE),
    dict(state="parsed", running_config=RULES),
    dict(state="parsed", running_config=captured("save_all_features.txt")),
], ids=["rendered-json", "rendered-list", "parsed-rules", "parsed-ipvsadm-save"])
@pytest.mark.parametrize("check_mode", [False, True], ids=["run", "check"])
def test_rendered_and_parsed_are_answered_on_the_controller(args, check_mode):
    action, connection = unreachable_host_action(args, check_mode)
    result = action.run(task_vars={})
    assert connection.mock_calls == []
    assert result == dict((key, value) for key, value in module_answer(args).items() if key != "invocation")
    assert result["changed"] is False and "failed" not in result


def test_rendered_rules_parse_back_to_the_config():
    action, dummy = unreachable_host_action(dict(state="parsed", running_config=RULES))
    parsed = action.run(task_vars={})["parsed"]
    action, dummy = unreachable_host_action(dict(state="rendered", config=parsed))
    assert action.run(task_vars={})["rendered"] == RULES.splitlines()
    assert parsed[0]["fwmark"] == 4294967295
    assert parsed[0]["real_servers"][0]["upper_threshold"] == 100


@pytest.mark.parametrize("args, message", [
    (dict(state="rendered", config=[dict(address="192.0.2.100", port=80, real_servers=[dict(address="192.0.2.11", weight=65536)])]),
     "config[0].real_servers[0]: real server 192.0.2.11 weight must be from 0 to 65535, got 65536."),
    (dict(state="rendered", config="[{"), "config is neither a list of services nor JSON text of one"),
    (dict(state="parsed", running_config="-A -t 192.0.2.1:http -s wlc\n"),
     "running_config line 1 (-A -t 192.0.2.1:http -s wlc): cannot read address:port '192.0.2.1:http'."),
    (dict(state="parsed", running_config="", config=ONE_SERVICE), "config does not apply with state parsed, which reads running_config."),
    (dict(state="rendered", config=ONE_SERVICE, running_config=RULES), "running_config applies only with state parsed"),
], ids=["bad-weight", "bad-json", "named-port", "config-with-parsed", "running-config-with-rendered"])
def test_bad_input_fails_with_the_modules_sentence(args, message):
    action, connection = unreachable_host_action(args)
    result = action.run(task_vars={})
    assert connection.mock_calls == []
    assert (result["failed"], result["changed"]) == (True, False)
    assert message in result["msg"] and "\n" not in result["msg"]
    assert module_answer(args)["msg"] == result["msg"]


def test_the_modules_own_checks_refuse_bad_parameters_before_anything():
    action, connection = unreachable_host_action(dict(state="parsed"))
    with pytest.raises(AnsibleActionFail) as failure:
        action.run(task_vars={})
    assert "state is parsed but all of the following are missing: running_config" in str(failure.value)
    assert connection.mock_calls == []
    assert "running_config" in module_answer(dict(state="parsed"))["msg"]


def test_running_config_with_a_state_that_changes_the_table_is_refused(kernel):
    fake = FakeIpvsadm(_table_listings())
    with pytest.raises(ModuleFail) as failure:
        run_module(ipvs_table.main, dict(state="merged", config=ONE_SERVICE, running_config=RULES), fake)
    assert failure.value.result["msg"] == "running_config applies only with state parsed; state merged takes config."
    assert fake.calls == []
