# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a host module's main() in-process with canned command output and a temporary /proc/sys.

Shared by the unit tests of vip_address, arp_suppress, lvs_sysctl and the IPVS modules.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import json
import os

from unittest import mock

from ansible.module_utils import basic

try:
    from ansible.module_utils.testing import patch_module_args
except ImportError:
    # ansible-core before 2.19 has no testing helper; its AnsibleModule reads the arguments
    # from basic._ANSIBLE_ARGS when that is set, which is what the helper sets too.
    @contextlib.contextmanager
    def patch_module_args(args):
        with mock.patch.object(basic, "_ANSIBLE_ARGS", json.dumps({"ANSIBLE_MODULE_ARGS": args}).encode()):
            yield

from ansible_collections.lvs.topology.plugins.module_utils import _host, _lock, _sysctl

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "host")


def fixture_text(name):
    with open(os.path.join(FIXTURES, name)) as handle:
        return handle.read()


def captured_proc_values(name):
    """key -> value from a `grep -H .` of /proc/sys files captured on a lab VM (see the fixtures' README)."""
    values = {}
    for line in fixture_text(name).splitlines():
        path, value = line.split(":", 1)
        values[path[len("/proc/sys/"):].replace("/", ".")] = value
    return values


def kernel_module_switch(monkeypatch, module_under_test):
    """Make kernel_module_loaded answer True (returned setter: change the answer) for the module and _host."""
    def set_loaded(state):
        monkeypatch.setattr(module_under_test, "kernel_module_loaded", lambda name: state)
        monkeypatch.setattr(_host, "kernel_module_loaded", lambda name: state)
    set_loaded(True)
    return set_loaded


class ModuleExit(Exception):
    """exit_json was called; .result holds its arguments."""

    def __init__(self, result):
        super(ModuleExit, self).__init__(result)
        self.result = result


class ModuleFail(ModuleExit):
    """fail_json was called."""


class FakeCommands(object):
    """Answers run_command by the start of argv; records every call.

    answers: list of (argv_prefix tuple, [(rc, out, err), ...]); the replies for one prefix are
    used in turn and the last one repeats, so a re-read after a change can return new output.
    """

    def __init__(self, answers=None):
        self.answers = list(answers or [])
        self.calls = []

    def __call__(self, module, argv, *args, **kwargs):
        self.calls.append(list(argv))
        for prefix, replies in self.answers:
            if tuple(argv[:len(prefix)]) == tuple(prefix):
                return replies.pop(0) if len(replies) > 1 else replies[0]
        return 0, "", ""

    def changing_calls(self, reads=(("/usr/sbin/ip", "-j"), ("/usr/bin/systemctl", "is-enabled"), ("/usr/bin/arping", "-V"))):
        """The calls that are not read-only queries."""
        return [call for call in self.calls if not any(tuple(call[:len(read)]) == read for read in reads)]


HOST_BINARIES = ("ip", "systemctl", "modprobe", "ipvsadm")


def fake_bin_path(available=HOST_BINARIES):
    """get_bin_path finding the given tools where Debian installs them, and nothing else."""
    locations = {"ip": "/usr/sbin/ip", "systemctl": "/usr/bin/systemctl", "modprobe": "/usr/sbin/modprobe",
                 "arping": "/usr/bin/arping", "ipvsadm": "/usr/sbin/ipvsadm"}

    def get_bin_path(module, name, required=False, opt_dirs=None):
        if name in available:
            return locations[name]
        if required:
            module.fail_json(msg="Failed to find required executable %s" % name)
        return None
    return get_bin_path


def run_module(main, args, commands=None, check_mode=False, diff=True, binaries=HOST_BINARIES):
    """Run main() with args; return the result dict, or raise ModuleFail with it."""
    def exit_json(module, **result):
        raise ModuleExit(result)

    def fail_json(module, **result):
        raise ModuleFail(result)

    args = dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)
    commands = commands if commands is not None else FakeCommands()

    def run_command(module, argv, *more, **options):
        return commands(module, argv, *more, **options)

    # A module's process gives the host lock back when it exits; run in this process, the
    # run's lock is released here instead, or the next run would wait for it.
    taken = []
    acquire = _lock.HostLock.acquire

    def acquire_and_remember(lock, *more, **options):
        taken.append(lock)
        return acquire(lock, *more, **options)
    with patch_module_args(args), \
            mock.patch.object(basic.AnsibleModule, "exit_json", exit_json), \
            mock.patch.object(basic.AnsibleModule, "fail_json", fail_json), \
            mock.patch.object(basic.AnsibleModule, "run_command", run_command), \
            mock.patch.object(basic.AnsibleModule, "get_bin_path", fake_bin_path(binaries)), \
            mock.patch.object(_lock.HostLock, "acquire", acquire_and_remember):
        try:
            main()
        except ModuleFail:
            raise
        except ModuleExit as done:
            return done.result
        finally:
            for lock in taken:
                lock.release()
    raise AssertionError("the module returned without exit_json or fail_json")


class FakeProcSys(object):
    """A temporary /proc/sys (and /etc/sysctl.d) for the sysctl helper; values are plain files."""

    def __init__(self, root, monkeypatch, values=None):
        self.proc = os.path.join(str(root), "proc", "sys")
        self.sysctl_d = os.path.join(str(root), "etc", "sysctl.d")
        os.makedirs(self.sysctl_d)
        monkeypatch.setattr(_sysctl, "PROC_SYS", self.proc)
        monkeypatch.setattr(_sysctl, "SYSCTL_D", self.sysctl_d)
        for key, value in (values or {}).items():
            self.set(key, value)

    def set(self, key, value):
        path = _sysctl.key_path(key)
        if not os.path.isdir(os.path.dirname(path)):
            os.makedirs(os.path.dirname(path))
        with open(path, "w") as handle:
            handle.write("%s\n" % value)

    def get(self, key):
        return _sysctl.read_runtime_value(key)

    def conf(self, purpose):
        path = _sysctl.conf_path(purpose)
        if not os.path.exists(path):
            return None
        with open(path) as handle:
            return handle.read()
