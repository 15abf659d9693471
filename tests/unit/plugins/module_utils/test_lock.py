# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host lock between real processes: a holder in a child process, this process waiting."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import signal
import threading

import pytest

from ansible_collections.lvs.topology.plugins.module_utils._lock import HostLock, LockTimeout, describe_holder, run_identity
from ansible_collections.lvs.topology.tests.unit.plugins.module_utils.lock_holder import HOLDER, HOLDER_LOG_INFO, held_lock


@pytest.fixture
def holder(tmp_path):
    with held_lock(str(tmp_path / "run" / "lock")) as process:
        yield process


def test_a_free_lock_is_taken_without_waiting(tmp_path):
    lock = HostLock(str(tmp_path / "run" / "lock")).acquire(0, run_identity("lvs.topology.vip_address"))
    assert lock.returned() == {"lock_waited": 0.0}
    assert oct(os.stat(str(tmp_path / "run")).st_mode & 0o777) == oct(0o700)
    lock.release()


def test_the_second_run_waits_until_the_first_ends_and_names_it(holder):
    threading.Timer(0.5, holder.release).start()
    lock = HostLock(holder.path).acquire(10, run_identity("lvs.topology.ipvs_table"))
    holder.join(10)
    result = lock.returned()
    assert 0.4 <= result["lock_waited"] < 10
    assert result["lock_holder"]["pid"] == holder.pid
    assert (result["lock_holder"]["module"], result["lock_holder"]["log_info"]) == (HOLDER, HOLDER_LOG_INFO)
    assert set(result["lock_holder"]) == {"module", "pid", "user", "since", "log_info"}
    # The file now names this run.
    with open(holder.path) as handle:
        assert json.load(handle)["pid"] == os.getpid()
    lock.release()


def test_a_timeout_names_the_holder_in_one_sentence(holder):
    with pytest.raises(LockTimeout) as failure:
        HostLock(holder.path).acquire(1, run_identity("lvs.topology.ipvs_service"))
    message = str(failure.value)
    assert message.startswith("The host lock %s is still held after waiting 1 s (lock_timeout) by %s (pid %d, run by "
                              % (holder.path, HOLDER, holder.pid))
    assert message.endswith(", %s); let that run finish or raise lock_timeout." % HOLDER_LOG_INFO)
    assert "\n" not in message and failure.value.waited >= 1
    assert failure.value.holder["pid"] == holder.pid


def test_a_killed_holder_releases_the_lock_and_is_not_named_afterwards(holder):
    threading.Timer(0.5, os.kill, (holder.pid, signal.SIGKILL)).start()
    lock = HostLock(holder.path).acquire(10, run_identity("lvs.topology.ipvs_table"))
    holder.join(10)
    assert holder.exitcode == -signal.SIGKILL
    # It was alive, and named, while this run waited for it.
    assert lock.returned()["lock_holder"]["pid"] == holder.pid
    lock.release()


def test_what_a_dead_holder_wrote_is_not_believed(holder):
    os.kill(holder.pid, signal.SIGKILL)
    holder.join(10)
    with open(holder.path) as handle:
        assert json.load(handle)["pid"] == holder.pid
    lock = HostLock(holder.path)
    assert lock.current_holder() is None
    assert lock.acquire(0, run_identity("lvs.topology.ipvs_table")).returned() == {"lock_waited": 0.0}
    lock.release()


def test_release_lets_the_next_run_in_and_forgets_the_holder(tmp_path):
    path = str(tmp_path / "run" / "lock")
    first = HostLock(path).acquire(0, run_identity("lvs.topology.ipvs_real_server"))
    with pytest.raises(LockTimeout):
        HostLock(path).acquire(0, run_identity("lvs.topology.ipvs_table"))
    first.release()
    assert os.path.getsize(path) == 0
    second = HostLock(path).acquire(0, run_identity("lvs.topology.ipvs_table"))
    assert second.returned() == {"lock_waited": 0.0}
    second.release()


def test_an_unidentified_holder_is_said_to_be_one():
    assert describe_holder(None) == "a process that has not written its name into it yet"
