# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kernel parameters (sysctl): runtime values under /proc/sys and the collection's sysctl.d files.

Each purpose has its own file, /etc/sysctl.d/90-lvs-topology-<purpose>.conf, owned by exactly
one module (arp_suppress writes ``-arp``, lvs_sysctl writes ``-director``). The file is a
key = value map rendered whole from its keys: a module merges the keys it sets and drops the
keys it removes, and the file is rewritten atomically only when its text changes.

Private to the collection: this API may change without notice.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible.module_utils.common.text.converters import to_text

from ansible_collections.lvs.topology.plugins.module_utils._managed_file import (
    read_managed_file,
    remove_managed_file,
    write_managed_file,
)
from ansible_collections.lvs.topology.plugins.module_utils._names import INTERFACE_NAME, shown

# Module-level so unit tests can point them at a temporary tree.
PROC_SYS = "/proc/sys"
SYSCTL_D = "/etc/sysctl.d"


def conf_path(purpose):
    """Path of the collection-owned sysctl.d file for one purpose (arp, director)."""
    return os.path.join(SYSCTL_D, "90-lvs-topology-%s.conf" % purpose)


def interface_key(interface, parameter, family="ipv4"):
    """net.<family>.conf.<interface>.<parameter>; a dot in a VLAN name becomes '/' as sysctl(8) writes it."""
    return "net.%s.conf.%s.%s" % (family, interface.replace(".", "/"), parameter)


def key_problem(key):
    """Why key cannot be a sysctl key (None when it can).

    Each dot-separated part names one directory or file under /proc/sys, so it must be a
    name - never empty, '.' or '..' - or net.ipv4.conf.//.tcp_syncookies (whose '//' is the
    name '..' in sysctl(8)'s convention) would set net.ipv4.tcp_syncookies. A part's
    characters are those of an interface name, the one part that is not a fixed word; a key
    is written on one line of a sysctl.d file, which these characters cannot end.
    """
    if not isinstance(key, str) or not all(INTERFACE_NAME.fullmatch(part.replace("/", ".")) for part in key.split(".")):
        return ("sysctl key %s does not name one file under /proc/sys: each part between dots must be letters, digits "
                "and _ - @ (a / for a dot inside an interface name), starting with a letter, a digit or _." % shown(key))
    return None


def key_path(key):
    """Path under /proc/sys for a dotted key (sysctl(8) convention: '/' in a key stands for a dot)."""
    problem = key_problem(key)
    if problem:
        # Callers check keys first; this keeps a path outside /proc/sys from ever being built.
        raise ValueError(problem)
    parts = [part.replace("/", ".") for part in key.split(".")]
    return os.path.join(PROC_SYS, *parts)


def normalise_value(value):
    """Text form of a sysctl value: booleans as 1/0, runs of blanks (tabs in /proc) as one space."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if not isinstance(value, str):
        value = to_text(value)
    return " ".join(value.split())


def read_runtime_value(key):
    """Current value of key, normalised, or None when the kernel has no such parameter."""
    path = key_path(key)
    if not os.path.isfile(path):
        return None
    with open(path, "r") as handle:
        return normalise_value(handle.read())


def write_runtime_value(module, key, value):
    """Write one runtime value; fail with the kernel's reason (EINVAL for a value out of range)."""
    try:
        with open(key_path(key), "w") as handle:
            handle.write(value + "\n")
    except (IOError, OSError) as exc:
        module.fail_json(msg="The kernel refused %s = %s: %s" % (key, value, to_text(exc)), key=key, value=value)


def parse_sysctl_conf(text):
    """key -> value from sysctl.d text; comments and blank lines are skipped."""
    settings = {}
    for line in (text or "").splitlines():
        line = line.strip()
        if not line or line[0] in "#;" or "=" not in line:
            continue
        key, value = line.split("=", 1)
        key = key.strip().lstrip("-")
        settings[key] = normalise_value(value)
    return settings


def render_sysctl_conf(owner, settings):
    """The whole text of a collection-owned sysctl.d file, keys sorted so the text is stable."""
    lines = [
        "# Managed by the lvs.topology collection (%s module)." % owner,
        "# Rewritten whole whenever its settings change: local edits are lost.",
    ]
    lines.extend("%s = %s" % (key, settings[key]) for key in sorted(settings))
    return "\n".join(lines) + "\n"


def _settings_text(settings):
    return "".join("%s = %s\n" % (key, "(absent)" if settings[key] is None else settings[key]) for key in sorted(settings))


class SysctlPlan(object):
    """What one module run wants: runtime values and the keys of its sysctl.d file.

    runtime: key -> wanted value (None: leave the runtime value alone).
    conf_set / conf_remove: keys to merge into / drop from the file at conf_file.
    """

    def __init__(self, owner, conf_file, runtime=None, conf_set=None, conf_remove=None):
        self.owner = owner
        self.conf_file = conf_file
        self.runtime = dict((k, normalise_value(v)) for k, v in (runtime or {}).items() if v is not None)
        self.conf_set = dict((k, normalise_value(v)) for k, v in (conf_set or {}).items())
        self.conf_remove = set(conf_remove or ())

    def missing_keys(self):
        """Keys the kernel does not have; callers refuse before acting."""
        return sorted(key for key in self.runtime if read_runtime_value(key) is None)


def apply_sysctl_plan(module, plan, allow_missing=False):
    """Bring runtime values and the sysctl.d file to plan; honour check mode.

    Everything is read and compared before the first write. Returns a result fragment:
    changed, runtime (key -> value after), runtime_changed (keys), conf_file, conf_changed,
    conf_settings (the file's keys after the run), diff.
    allow_missing is for check mode when the kernel module providing the keys is not loaded yet.
    """
    runtime_before = dict((key, read_runtime_value(key)) for key in plan.runtime)
    missing = sorted(key for key, value in runtime_before.items() if value is None)
    if missing and not allow_missing:
        module.fail_json(msg="The kernel on this host has no sysctl %s (nothing under %s)."
                         % (", ".join(missing), PROC_SYS), missing=missing)
    runtime_changed = sorted(key for key, value in plan.runtime.items() if runtime_before[key] != value)

    conf_before_text = read_managed_file(plan.conf_file)
    conf_settings = parse_sysctl_conf(conf_before_text)
    conf_settings.update(plan.conf_set)
    for key in plan.conf_remove:
        conf_settings.pop(key, None)
    conf_after_text = render_sysctl_conf(plan.owner, conf_settings) if conf_settings else None
    conf_changed = conf_after_text != conf_before_text

    if not module.check_mode:
        for key in runtime_changed:
            write_runtime_value(module, key, plan.runtime[key])
        if conf_changed:
            if conf_after_text is None:
                remove_managed_file(module, plan.conf_file)
            else:
                write_managed_file(module, plan.conf_file, conf_after_text)

    runtime_after = dict(runtime_before)
    runtime_after.update(plan.runtime)
    return {
        "changed": bool(runtime_changed) or conf_changed,
        "runtime": runtime_after,
        "runtime_changed": runtime_changed,
        "conf_file": plan.conf_file,
        "conf_changed": conf_changed,
        "conf_settings": conf_settings,
        "diff": [
            {"before_header": "runtime (%s)" % PROC_SYS, "after_header": "runtime (%s)" % PROC_SYS,
             "before": _settings_text(runtime_before), "after": _settings_text(runtime_after)},
            {"before_header": plan.conf_file, "after_header": plan.conf_file,
             "before": conf_before_text or "", "after": conf_after_text or ""},
        ],
    }
