# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""write_managed_file: the file gets exactly the mode and owner asked, reaches the disk before
its name does, and a write that fails leaves the old file and no temporary one."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import os
import stat
from unittest import mock

import pytest

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.lvs.topology.plugins.module_utils._managed_file import write_managed_file

CONTEXT = ["system_u", "object_r", "etc_t", "s0"]


class Failed(Exception):
    """fail_json was called."""


def a_module(selinux=False):
    """An AnsibleModule stand-in with the real methods' signatures; fail_json raises Failed."""
    module = mock.create_autospec(AnsibleModule, instance=True)
    module.selinux_enabled.return_value = selinux
    module.selinux_context.return_value = CONTEXT
    module.selinux_default_context.return_value = CONTEXT
    module.fail_json.side_effect = fail_json
    return module


def fail_json(**result):
    raise Failed(result["msg"])


@pytest.fixture
def umask():
    """A umask that would show through if the mode came from it (as atomic_move's does)."""
    old = os.umask(0o077)
    yield
    os.umask(old)


def mode_of(path):
    return stat.S_IMODE(os.stat(str(path)).st_mode)


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o600])
def test_a_new_file_gets_exactly_the_mode(tmp_path, umask, mode):
    path = tmp_path / "unit.service"
    write_managed_file(a_module(), str(path), "[Unit]\n", mode=mode)
    assert path.read_text() == "[Unit]\n"
    assert mode_of(path) == mode


def test_an_existing_file_of_another_mode_gets_the_mode_asked(tmp_path, umask):
    path = tmp_path / "90-lvs.conf"
    path.write_text("old\n")
    path.chmod(0o600)
    write_managed_file(a_module(), str(path), "net.ipv4.ip_forward = 1\n")
    assert path.read_text() == "net.ipv4.ip_forward = 1\n"
    assert mode_of(path) == 0o644
    assert os.listdir(str(tmp_path)) == ["90-lvs.conf"]


def test_the_owner_is_the_modules_own_unless_given(tmp_path, monkeypatch):
    chowned = []
    monkeypatch.setattr(os, "fchown", lambda fd, uid, gid: chowned.append((uid, gid)))
    write_managed_file(a_module(), str(tmp_path / "a"), "a\n")
    write_managed_file(a_module(), str(tmp_path / "b"), "b\n", owner=4242, group=4343)
    assert chowned == [(os.geteuid(), os.getegid()), (4242, 4343)]


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file away needs root")
def test_as_root_an_existing_file_of_another_owner_becomes_root_s(tmp_path):
    path = tmp_path / "90-lvs.conf"
    path.write_text("old\n")
    os.chown(str(path), 4242, 4343)
    write_managed_file(a_module(), str(path), "new\n")
    assert (path.stat().st_uid, path.stat().st_gid) == (0, os.getegid())


def test_the_file_is_on_disk_before_its_name_and_the_name_after(tmp_path, monkeypatch):
    events = []
    real_fsync, real_rename = os.fsync, os.rename

    def fsync(fd):
        events.append("fsync directory" if stat.S_ISDIR(os.fstat(fd).st_mode) else "fsync file")
        real_fsync(fd)

    def rename(source, destination):
        events.append("rename")
        real_rename(source, destination)
    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "rename", rename)
    write_managed_file(a_module(), str(tmp_path / "unit.service"), "[Unit]\n")
    assert events == ["fsync file", "rename", "fsync directory"]


def fail_with_eio(*args, **kwargs):
    raise OSError(errno.EIO, "Input/output error")


class BrokenHandle(object):
    """A file object whose write fails, as on a full disk."""

    def __init__(self, handle):
        self.handle = handle

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.handle.close()

    def write(self, data):
        raise OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.parametrize("broken", ["write", "fchown", "fchmod", "fsync", "rename"])
def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(tmp_path, monkeypatch, broken):
    path = tmp_path / "90-lvs.conf"
    path.write_text("old\n")
    path.chmod(0o600)
    if broken == "write":
        real_fdopen = os.fdopen
        monkeypatch.setattr(os, "fdopen", lambda fd, *args: BrokenHandle(real_fdopen(fd, *args)))
    else:
        monkeypatch.setattr(os, broken, fail_with_eio)
    with pytest.raises(Failed) as failure:
        write_managed_file(a_module(), str(path), "new\n")
    reason = "No space left on device" if broken == "write" else "Input/output error"
    assert str(failure.value) == "Cannot write %s ([Errno %d] %s); it is unchanged." % (
        path, errno.ENOSPC if broken == "write" else errno.EIO, reason)
    assert os.listdir(str(tmp_path)) == ["90-lvs.conf"]
    assert (path.read_text(), mode_of(path)) == ("old\n", 0o600)


def test_a_directory_that_cannot_be_synced_after_the_rename_is_said_so(tmp_path, monkeypatch):
    real_fsync = os.fsync

    def fsync(fd):
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            fail_with_eio()
        real_fsync(fd)
    monkeypatch.setattr(os, "fsync", fsync)
    path = tmp_path / "unit.service"
    with pytest.raises(Failed) as failure:
        write_managed_file(a_module(), str(path), "[Unit]\n")
    assert str(failure.value).endswith("; it was replaced but may not be on disk yet.")
    assert os.listdir(str(tmp_path)) == ["unit.service"]


def test_a_file_system_that_cannot_sync_a_directory_is_no_failure(tmp_path, monkeypatch):
    real_fsync = os.fsync

    def fsync(fd):
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "Invalid argument")
        real_fsync(fd)
    monkeypatch.setattr(os, "fsync", fsync)
    write_managed_file(a_module(), str(tmp_path / "unit.service"), "[Unit]\n")
    assert (tmp_path / "unit.service").read_text() == "[Unit]\n"


def test_a_failure_of_the_selinux_helpers_leaves_no_temporary_file(tmp_path):
    """fail_json raised inside the write (here by set_context_if_different) cleans up too."""
    module = a_module(selinux=True)
    module.set_context_if_different.side_effect = Failed("invalid selinux context")
    path = tmp_path / "90-lvs.conf"
    path.write_text("old\n")
    with pytest.raises(Failed):
        write_managed_file(module, str(path), "new\n")
    assert os.listdir(str(tmp_path)) == ["90-lvs.conf"] and path.read_text() == "old\n"


@pytest.mark.parametrize("exists", [False, True], ids=["new", "existing"])
def test_the_selinux_context_is_set_on_the_temporary_file_before_the_rename(tmp_path, exists):
    """A new file gets the policy's default context for its path, an existing one keeps its own,
    as atomic_move does, and the name never shows the file without it."""
    module = a_module(selinux=True)
    path = tmp_path / "unit.service"
    if exists:
        path.write_text("old\n")
    seen = []
    module.set_context_if_different.side_effect = lambda temp, context, changed: seen.append(
        (os.path.dirname(temp), temp != str(path), path.exists() and path.read_text(), context))
    write_managed_file(module, str(path), "[Unit]\n")
    assert seen == [(str(tmp_path), True, "old\n" if exists else False, CONTEXT)]
    used = module.selinux_context if exists else module.selinux_default_context
    used.assert_called_once_with(str(path))


def test_a_missing_directory_is_created(tmp_path):
    path = tmp_path / "modules-load.d" / "lvs.conf"
    write_managed_file(a_module(), str(path), "ip_vs\n")
    assert path.read_text() == "ip_vs\n" and mode_of(path) == 0o644
