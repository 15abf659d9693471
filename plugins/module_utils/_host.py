# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Command and kernel-module helpers shared by every lvs.topology module.

Private to the collection: this API may change without notice.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

# The C locale keeps the output of ip, ipvsadm and sysctl stable for our parsers.
C_LOCALE = {"LANG": "C", "LC_ALL": "C", "LC_MESSAGES": "C"}


def run_checked(module, argv, data=None, fail_message=None, check_stderr=False):
    """Run argv (never a shell string); fail the module with rc, stdout and stderr on error.

    check_stderr is for tools that can exit 0 and still report a failure on stderr.
    """
    rc, out, err = module.run_command(argv, data=data, environ_update=C_LOCALE,
                                      binary_data=data is not None)
    if rc != 0 or (check_stderr and err.strip()):
        module.fail_json(
            msg=fail_message or "Command %s failed: %s" % (" ".join(argv), (err or out).strip()),
            cmd=argv, rc=rc, stdout=out, stderr=err)
    return out


def kernel_module_loaded(name):
    """True when the kernel module (or the built-in feature) is present."""
    return os.path.isdir(os.path.join("/sys/module", name))


def ensure_kernel_module(module, name, missing_message=None):
    """Load a kernel module when it is not loaded yet; return True when it was loaded now.

    In check mode nothing is loaded: the caller reports what would change.
    missing_message may contain "{error}", replaced by modprobe's own explanation.
    """
    if kernel_module_loaded(name):
        return False
    if module.check_mode:
        return True
    modprobe = module.get_bin_path("modprobe", required=True)
    rc, out, err = module.run_command([modprobe, name], environ_update=C_LOCALE)
    if rc != 0:
        module.fail_json(
            msg=(missing_message or "Kernel module %s cannot be loaded: {error}" % name).replace("{error}", (err or out).strip()),
            cmd=[modprobe, name], rc=rc, stdout=out, stderr=err)
    return True
