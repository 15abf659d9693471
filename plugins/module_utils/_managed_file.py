# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Files that lvs.topology owns whole on a target (sysctl.d files, systemd units).

Private to the collection: this API may change without notice.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import tempfile

from ansible.module_utils.common.text.converters import to_bytes, to_text


def read_managed_file(path):
    """Return the text of path, or None when it does not exist."""
    if not os.path.exists(path):
        return None
    with open(path, "rb") as handle:
        return to_text(handle.read(), errors="surrogate_or_strict")


def write_managed_file(module, path, content, mode=0o644):
    """Replace path with content atomically (temporary file in the same directory, then rename).

    The caller decides whether the content changed; this only writes.
    """
    directory = os.path.dirname(path)
    try:
        if not os.path.isdir(directory):
            os.makedirs(directory, 0o755)
        fd, temp_path = tempfile.mkstemp(prefix=".lvs-topology-", dir=directory)
        with os.fdopen(fd, "wb") as handle:
            handle.write(to_bytes(content))
        os.chmod(temp_path, mode)
    except (IOError, OSError) as exc:
        module.fail_json(msg="Cannot write %s: %s" % (path, to_text(exc)))
    # atomic_move keeps SELinux contexts right on RHEL-family hosts.
    module.atomic_move(temp_path, path)


def remove_managed_file(module, path):
    """Delete path if it exists; return True when something was deleted."""
    if not os.path.lexists(path):
        return False
    try:
        os.unlink(path)
    except (IOError, OSError) as exc:
        module.fail_json(msg="Cannot remove %s: %s" % (path, to_text(exc)))
    return True
