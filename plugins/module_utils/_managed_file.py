# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Files that lvs.topology owns whole on a target (sysctl.d files, systemd units).

Private to the collection: this API may change without notice.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import os
import tempfile

from ansible.module_utils.common.text.converters import to_bytes, to_text


def read_managed_file(path):
    """Return the text of path, or None when it does not exist."""
    if not os.path.exists(path):
        return None
    with open(path, "rb") as handle:
        return to_text(handle.read(), errors="surrogate_or_strict")


def _selinux_context(module, path):
    """The SELinux context path is to have: its own when it exists, else the policy's default
    for it (what atomic_move keeps); None without SELinux."""
    if not module.selinux_enabled():
        return None
    if os.path.lexists(path):
        return module.selinux_context(path)
    return module.selinux_default_context(path)


def _fsync_directory(directory):
    """Make a rename in directory durable: the new entry is on disk once this returns."""
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    except OSError as exc:
        # A file system that cannot sync a directory has no more durability to offer.
        if exc.errno != errno.EINVAL:
            raise
    finally:
        os.close(fd)


def write_managed_file(module, path, content, mode=0o644, owner=None, group=None):
    """Replace path with content, with exactly mode, owner and group, atomically and durably.

    The new file is made whole next to path first (content on disk, mode, owner and SELinux
    context set), so one rename puts it in place and the name never shows a partial file or
    one with another mode; the directory is synced after the rename. owner and group are
    numeric ids, by default the module's own: root:root for the collection's modules, which
    run as root. On any failure before the rename the temporary file is removed and path is
    left as it was; the module fails with one sentence that says which. The caller decides
    whether the content changed; this only writes.
    """
    # Not module.atomic_move: it copies an existing file's mode and owner onto the new one,
    # and chmods a new file to 0666 & ~umask after the rename, so the mode asked for would
    # only come with a second change of the file in place. Its cross-device fallbacks never
    # apply to a temporary file in the same directory; its SELinux care is kept below.
    uid = os.geteuid() if owner is None else owner
    gid = os.getegid() if group is None else group
    directory = os.path.dirname(path)
    temp_path, renamed = None, False
    try:
        try:
            if not os.path.isdir(directory):
                os.makedirs(directory, 0o755)
            context = _selinux_context(module, path)
            fd, temp_path = tempfile.mkstemp(prefix=".lvs-topology-", dir=directory)
            with os.fdopen(fd, "wb") as handle:
                handle.write(to_bytes(content))
                handle.flush()
                os.fchown(handle.fileno(), uid, gid)
                # After fchown, which may clear set-id bits of a mode set before it.
                os.fchmod(handle.fileno(), mode)
                os.fsync(handle.fileno())
            if context is not None:
                module.set_context_if_different(temp_path, context, False)
            os.rename(temp_path, path)
            renamed = True
            _fsync_directory(directory)
        finally:
            # Whatever stopped the write (an OSError, fail_json of the SELinux helpers, an
            # interrupt), no temporary file stays behind.
            if temp_path is not None and not renamed:
                _discard(temp_path)
    except (IOError, OSError) as exc:
        outcome = "it was replaced but may not be on disk yet" if renamed else "it is unchanged"
        module.fail_json(msg="Cannot write %s (%s); %s." % (path, to_text(exc), outcome))


def _discard(temp_path):
    """Remove the temporary file of a write that failed; one already gone is fine."""
    try:
        os.unlink(temp_path)
    except OSError:
        pass


def remove_managed_file(module, path):
    """Delete path if it exists; return True when something was deleted."""
    if not os.path.lexists(path):
        return False
    try:
        os.unlink(path)
    except (IOError, OSError) as exc:
        module.fail_json(msg="Cannot remove %s: %s" % (path, to_text(exc)))
    return True
