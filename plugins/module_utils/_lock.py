# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One lock per host for the modules that change IPVS state or a file the collection owns.

Private to the collection: this API may change without notice.

An exclusive flock(2) on LOCK_PATH, taken before a run reads the state it is going to change
and held until the module's process exits after exit_json (or until release()), so two runs
on one host - a deployment and a drain started by hand, two ipvs_table tasks with different
tables - never interleave their reads, plans and changes: the second waits for the first.

The kernel drops a flock when the last descriptor of its open file closes, which is at the
holder's exit however it ends (exit_json, a traceback, SIGKILL), so a dead run never leaves
the host locked. The file itself is never removed: a run waiting on the old file and a run
creating a new one would each hold "the" lock.

After taking the lock the holder writes who it is into the file, and a run that has to wait
reads it to say whom it waited for. What a finished or killed holder wrote stays in the file
until the next holder overwrites it, so a waiter believes it only while that process is
alive with the start time it wrote.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import fcntl
import json
import os
import pwd
import time

LOCK_PATH = "/run/lvs-topology/lock"
DEFAULT_LOCK_TIMEOUT = 300
# How often a waiting run tries again: a non-blocking flock costs nothing, and a quarter of a
# second is short next to any run that changes something.
POLL_INTERVAL = 0.25
# What a holder wrote that a waiter does not report: it only tells a live holder from a dead one.
PROCESS_START = "process_start"


def lock_argument_spec():
    """The lock_timeout option, documented once in the doc fragment lvs.topology.host_lock."""
    return dict(lock_timeout=dict(type="int", default=DEFAULT_LOCK_TIMEOUT))


def process_start(pid):
    """When process pid started, in clock ticks since boot (field 22 of /proc/PID/stat); None
    when there is no such process. A pid alone could since have been given to another process."""
    try:
        with open("/proc/%d/stat" % pid) as handle:
            stat = handle.read()
    except (IOError, OSError):
        return None
    # Field 2, the command name, is in parentheses and may itself hold spaces and parentheses.
    fields = stat[stat.rfind(")") + 1:].split()
    return fields[19] if len(fields) > 19 else None


def invoking_user():
    """The login that ran the module: the one sudo became root for, else the process's own user."""
    user = os.environ.get("SUDO_USER")
    if user:
        return user
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return str(os.geteuid())


def run_identity(module_name, log_info=None):
    """What a holder writes into the lock file: enough for a person to find the run on the host."""
    identity = dict(module=module_name, pid=os.getpid(), user=invoking_user(),
                    since=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    if log_info:
        identity["log_info"] = log_info
    return identity


def describe_holder(holder):
    """The holder as a phrase of the timeout message."""
    if holder is None:
        return "a process that has not written its name into it yet"
    extra = ", %s" % holder["log_info"] if holder.get("log_info") else ""
    return "%s (pid %s, run by %s since %s%s)" % (holder["module"], holder["pid"], holder["user"], holder["since"], extra)


class LockTimeout(Exception):
    """The lock stayed taken for the whole timeout; the message names its holder."""

    def __init__(self, path, timeout, waited, holder):
        self.waited = waited
        self.holder = holder
        super(LockTimeout, self).__init__(
            "The host lock %s is still held after waiting %d s (lock_timeout) by %s; let that run finish or raise lock_timeout."
            % (path, timeout, describe_holder(holder)))


class HostLock(object):
    """The host lock as one run holds it; waited and holder say what taking it cost."""

    def __init__(self, path=None):
        self.path = path or LOCK_PATH
        # A plain descriptor, not a file object: nothing closes it (and so releases the lock)
        # when this object is garbage collected; only release() or the process's exit does.
        self.fd = None
        self.waited = 0.0
        self.contended = False
        self.holder = None

    def acquire(self, timeout, identity):
        """Take the lock, trying every POLL_INTERVAL for up to timeout seconds, then write
        identity into the file; raise LockTimeout naming the holder last seen."""
        fd = self._open()
        started = time.monotonic()
        while not self._try(fd):
            self.contended = True
            # The last holder that could be identified: the one whose release lets this run in.
            self.holder = self.current_holder() or self.holder
            waited = time.monotonic() - started
            if waited >= timeout:
                os.close(fd)
                raise LockTimeout(self.path, timeout, waited, self.holder)
            time.sleep(min(POLL_INTERVAL, timeout - waited))
        self.fd = fd
        if self.contended:
            self.waited = time.monotonic() - started
        identity = dict(identity, **{PROCESS_START: process_start(os.getpid())})
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, json.dumps(identity, sort_keys=True).encode("utf-8"))
        return self

    def release(self):
        """Give the lock back before the process exits; the file is emptied first, so no
        waiter reads this run's name once it has let go."""
        if self.fd is None:
            return
        os.ftruncate(self.fd, 0)
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)
        self.fd = None

    def current_holder(self):
        """Who the file says holds the lock, when that process is alive and started when it
        wrote; None otherwise (not written yet, emptied, or left by a run that has ended)."""
        try:
            with open(self.path, "rb") as handle:
                holder = json.loads(handle.read().decode("utf-8"))
            pid = int(holder["pid"])
        except (IOError, OSError, ValueError, TypeError, KeyError):
            return None
        start = holder.pop(PROCESS_START, None)
        if start is None or process_start(pid) != start:
            return None
        return holder

    def returned(self):
        """The lock's part of a module's result: lock_waited always, lock_holder after a wait."""
        result = dict(lock_waited=round(self.waited, 3))
        if self.contended:
            result["lock_holder"] = self.holder
        return result

    def _open(self):
        directory = os.path.dirname(self.path)
        if not os.path.isdir(directory):
            # Only root changes the host, and only root can then enter: nobody else can take
            # the lock to stall a deployment, or write a false holder into it.
            os.makedirs(directory, 0o700)
        # Not inherited by the commands the module runs (PEP 446), so none of them can keep the
        # lock after the module has exited.
        return os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)

    @staticmethod
    def _try(fd):
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except (IOError, OSError) as error:
            if error.errno in (errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES):
                return False
            raise
        return True


def hold_host_lock(module):
    """Take the host lock for this module's run, waiting up to its lock_timeout; fail the task
    naming the holder when it stays taken. The lock is released when the process exits after
    exit_json or fail_json, or earlier by the returned HostLock's release()."""
    timeout = module.params["lock_timeout"]
    if timeout < 0:
        module.fail_json(msg="lock_timeout must be 0 or more seconds, got %d." % timeout)
    lock = HostLock()
    # ansible_target_log_info (ansible-core 2.17 and later) lets a playbook name its run.
    identity = run_identity(module._name, getattr(module, "_target_log_info", None))
    try:
        lock.acquire(timeout, identity)
    except LockTimeout as error:
        module.fail_json(msg=str(error), lock_waited=round(error.waited, 3), lock_holder=error.holder)
    except (IOError, OSError) as error:
        module.fail_json(msg="Cannot take the host lock %s: %s." % (lock.path, error))
    return lock
