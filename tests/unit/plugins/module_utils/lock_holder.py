# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Another run holding the host lock: a child process, so the lock is contended for real."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import multiprocessing
from contextlib import contextmanager

from ansible_collections.lvs.topology.plugins.module_utils._lock import HostLock, run_identity

FORK = multiprocessing.get_context("fork")
HOLDER = "lvs.topology.ipvs_table"
HOLDER_LOG_INFO = "site.yml"


def _hold(path, channel):
    """Hold the lock until told to let go. Returning ends the process, and its exit is what
    gives the lock back. A pipe, not an Event: a holder killed while waiting on an Event
    would leave the Event's shared lock taken."""
    HostLock(path).acquire(5, run_identity(HOLDER, log_info=HOLDER_LOG_INFO))
    channel.send("taken")
    channel.poll(30)


@contextmanager
def held_lock(path):
    """A child process holding the lock at path; .release() ends it, else leaving the block does."""
    ours, theirs = FORK.Pipe()
    process = FORK.Process(target=_hold, args=(path, theirs))
    process.start()
    try:
        assert ours.poll(10) and ours.recv() == "taken", "the holder did not take the lock"
        process.path = path
        process.release = lambda: ours.send("release")
        yield process
    finally:
        if process.is_alive():
            ours.send("release")
        process.join(10)
