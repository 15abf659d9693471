# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The modules under the host lock: who takes it, before what, what a wait looks like in the
result, and the one place drained lets it go early. Another run holds the lock from a child
process, as another ansible task on the host would."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ast
import json
import os
import threading

import pytest
import yaml

from host_module_harness import FakeCommands, FakeProcSys, ModuleFail, run_module
from test_ipvs_modules import ONE_SERVICE, FakeIpvsadm, _table_listings

from ansible_collections.lvs.topology.plugins.module_utils._lock import HostLock, LockTimeout, run_identity
from ansible_collections.lvs.topology.plugins.module_utils.ipvs import host as ipvs_host, record as ipvs_record
from ansible_collections.lvs.topology.plugins.modules import (
    arp_suppress, ipvs_counters, ipvs_real_server, ipvs_service, ipvs_table, ipvs_timeouts, lvs_sysctl, vip_address,
)
from ansible_collections.lvs.topology.tests.unit.plugins.module_utils.lock_holder import HOLDER, held_lock

MODULES_DIR = os.path.dirname(ipvs_table.__file__)
LOCKING_MODULES = ("arp_suppress", "ipvs_counters", "ipvs_real_server", "ipvs_service", "ipvs_table", "ipvs_timeouts", "lvs_sysctl",
                   "vip_address")
REAL_SERVER = dict(virtual_service=dict(address="192.0.2.100", port=80), address="192.0.2.11")
# A task of each locking module, with what it would read or run answered by fakes.
TASKS = {
    "ipvs_table": (ipvs_table.main, dict(state="overridden", config=json.dumps(ONE_SERVICE))),
    "ipvs_service": (ipvs_service.main, dict(address="192.0.2.100", port=80, scheduler="wrr")),
    "ipvs_real_server": (ipvs_real_server.main, REAL_SERVER),
    "ipvs_timeouts": (ipvs_timeouts.main, dict(tcp=7200)),
    "ipvs_counters": (ipvs_counters.main, {}),
    "vip_address": (vip_address.main, dict(address="192.0.2.101", interface="lo")),
    "arp_suppress": (arp_suppress.main, {}),
    "lvs_sysctl": (lvs_sysctl.main, dict(settings={"net.ipv4.ip_forward": 1})),
}


def documentation(name, part):
    """DOCUMENTATION or RETURN of a module, read from its file as ansible-doc reads it."""
    with open(os.path.join(MODULES_DIR, name + ".py")) as handle:
        tree = ast.parse(handle.read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and node.targets[0].id == part:
            return yaml.safe_load(node.value.value)
    raise AssertionError("%s has no %s" % (name, part))


def calls_hold_host_lock(name):
    with open(os.path.join(MODULES_DIR, name + ".py")) as handle:
        return "hold_host_lock(" in handle.read()


@pytest.mark.parametrize("name", sorted(LOCKING_MODULES + ("ipvs_info",)))
def test_the_modules_that_change_a_host_lock_it_and_document_it_alike(name):
    """One option, from one doc fragment; the same return values, word for word."""
    fragments = documentation(name, "DOCUMENTATION").get("extends_documentation_fragment", [])
    returned = documentation(name, "RETURN")
    if name not in LOCKING_MODULES:
        assert not calls_hold_host_lock(name) and "lvs.topology.host_lock" not in fragments
        assert "lock_waited" not in returned
        return
    assert calls_hold_host_lock(name) and "lvs.topology.host_lock" in fragments
    reference = documentation("ipvs_service", "RETURN")
    for key in ("lock_waited", "lock_holder"):
        ours, theirs = dict(returned[key]), dict(reference[key])
        if name == "ipvs_table" and key == "lock_waited":
            # rendered and parsed touch no host, so they take no lock.
            assert "O(state=rendered)" in ours.pop("returned")
            theirs.pop("returned")
        assert ours == theirs


@pytest.fixture
def host_files(tmp_path, monkeypatch):
    """An empty /proc/sys, sysctl.d, modules-load.d and systemd unit directory: whatever a
    module read there would fail it, and nothing it could write reaches the real host."""
    monkeypatch.setattr(lvs_sysctl, "MODULES_LOAD_D", str(tmp_path / "etc" / "modules-load.d"))
    monkeypatch.setattr(vip_address, "SYSTEMD_UNIT_DIR", str(tmp_path / "etc" / "systemd"))
    FakeProcSys(tmp_path, monkeypatch)
    return tmp_path


@pytest.mark.parametrize("name", sorted(TASKS))
def test_a_held_lock_stops_every_module_before_it_reads_anything(kernel, host_files, lock_path, name):
    main, args = TASKS[name]
    commands = FakeIpvsadm(_table_listings()) if name.startswith("ipvs") else FakeCommands()
    with held_lock(lock_path) as holder:
        with pytest.raises(ModuleFail) as failure:
            run_module(main, dict(args, lock_timeout=0), commands)
    result = failure.value.result
    assert result["msg"].startswith("The host lock %s is still held after waiting 0 s (lock_timeout) by %s (pid %d, "
                                    % (lock_path, HOLDER, holder.pid))
    assert result["lock_holder"]["pid"] == holder.pid
    assert commands.calls == []
    assert [name for dummy, dummy, names in os.walk(str(host_files)) for name in names] == []


@pytest.mark.parametrize("check_mode", [False, True], ids=["run", "check"])
def test_the_second_run_reports_whom_it_waited_for(kernel, lock_path, check_mode):
    """Check mode waits too: what it reads and reports is never a change half applied."""
    with held_lock(lock_path) as holder:
        threading.Timer(0.5, holder.release).start()
        result = run_module(ipvs_table.main, dict(state="overridden", config=json.dumps(ONE_SERVICE), lock_timeout=10),
                            FakeIpvsadm(), check_mode=check_mode)
    assert result["changed"] is True
    assert 0.4 <= result["lock_waited"] < 10
    assert (result["lock_holder"]["module"], result["lock_holder"]["pid"]) == (HOLDER, holder.pid)


@pytest.mark.parametrize("state", ["merged", "gathered"])
def test_a_free_lock_costs_no_wait(kernel, state):
    result = run_module(ipvs_table.main, dict(state=state, config=json.dumps(ONE_SERVICE)), FakeIpvsadm(_table_listings()))
    assert result["lock_waited"] == 0.0 and "lock_holder" not in result


def test_rendered_touches_no_host_and_takes_no_lock(lock_path):
    with held_lock(lock_path):
        result = run_module(ipvs_table.main, dict(state="rendered", config=json.dumps(ONE_SERVICE), lock_timeout=0),
                            FakeIpvsadm(), binaries=())
    assert result["rendered"][0] == "# lvs.topology rules v1" and "lock_waited" not in result


def test_a_negative_lock_timeout_is_refused(kernel):
    with pytest.raises(ModuleFail) as failure:
        run_module(ipvs_service.main, dict(address="192.0.2.100", port=80, lock_timeout=-1), FakeIpvsadm())
    assert failure.value.result["msg"] == "lock_timeout must be 0 or more seconds, got -1."


def lock_is_free(path):
    try:
        HostLock(path).acquire(0, run_identity("test")).release()
    except LockTimeout:
        return False
    return True


def test_drained_lets_the_lock_go_before_waiting_for_connections(kernel, monkeypatch, lock_path):
    """The wait can take minutes and only reads counters: other runs go ahead meanwhile."""
    free_while_waiting = []

    def wait_for_drain(host, service, key, timeout, interval=1.0):
        free_while_waiting.append(lock_is_free(lock_path))
        return 0, 0
    monkeypatch.setattr(ipvs_real_server, "wait_for_drain", wait_for_drain)
    result = run_module(ipvs_real_server.main, dict(REAL_SERVER, state="drained", drain_timeout=60), FakeIpvsadm(_table_listings()))
    assert result["commands"] == ["-e -t 192.0.2.100:80 -r 192.0.2.11:80 -g -w 0"]
    assert free_while_waiting == [True]


def test_drained_in_check_mode_keeps_the_lock_and_does_not_wait(kernel, monkeypatch, lock_path):
    free_while_reading = []

    def real_server_connections(host, service, key):
        free_while_reading.append(lock_is_free(lock_path))
        return 0, 0
    monkeypatch.setattr(ipvs_host.IpvsHost, "real_server_connections", real_server_connections)
    monkeypatch.setattr(ipvs_real_server, "wait_for_drain", None)
    run_module(ipvs_real_server.main, dict(REAL_SERVER, state="drained", drain_timeout=60), FakeIpvsadm(_table_listings()),
               check_mode=True)
    assert free_while_reading == [False]


def test_ipvs_table_writes_its_record_under_the_lock(kernel, monkeypatch, lock_path):
    """The record answers later runs without the lock, so it must never describe a table
    another run was changing while it was written."""
    free_while_recording = []
    record = ipvs_record.TableMemo.record

    def record_and_look(memo, digest, index=None):
        free_while_recording.append(lock_is_free(lock_path))
        record(memo, digest, index)
    monkeypatch.setattr(ipvs_record.TableMemo, "record", record_and_look)
    run_module(ipvs_table.main, dict(state="overridden", config=json.dumps(ONE_SERVICE)), FakeIpvsadm())
    assert free_while_recording == [False]
