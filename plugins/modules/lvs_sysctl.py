#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: lvs_sysctl
short_description: Tune a director's kernel (ip_forward, net.ipv4.vs.*, per-interface settings)
version_added: 0.1.0
description:
  - Sets kernel parameters a director needs, at runtime and across reboots, the way the guides do
    with C(echo net.ipv4.ip_forward = 1 >> /etc/sysctl.conf; sysctl -p), idempotently.
  - Accepted keys are C(net.ipv4.ip_forward), C(net.ipv4.vs.*) (the IPVS settings such as
    C(conntrack), C(expire_nodest_conn), C(expire_quiescent_template)), C(net.ipv4.conf.*.*) and
    C(net.ipv6.conf.*.*). Other keys are refused, so this stays a director-tuning module and not a
    general sysctl one.
  - Each part of a key between dots names one directory or file under C(/proc/sys), so it must be
    letters, digits and C(_ - @), starting with a letter, a digit or C(_); a C(/) stands for a dot
    inside an interface name, as in C(sysctl) (C(net.ipv4.conf.eth0/100.rp_filter)). An empty part,
    C(.) or C(..) is refused (C(net.ipv4.conf.//.tcp_syncookies) would be C(net.ipv4.tcp_syncookies)),
    and the interface of a C(conf) key must be an interface name, at most 15 characters.
  - C(net.ipv4.vs.*) keys exist only while the C(ip_vs) kernel module is loaded. The module loads
    it, and when such keys are kept across reboots it also lists C(ip_vs) in
    C(/etc/modules-load.d/90-lvs-topology-director.conf), because C(systemd-sysctl) applies the
    sysctl.d files only after C(systemd-modules-load) has loaded what is listed there.
  - Every key is checked against the running kernel before anything is written.
author:
  - lvs.topology contributors (@lvs-topology)
extends_documentation_fragment:
  - lvs.topology.sysctl
  - lvs.topology.host_lock
options:
  settings:
    description:
      - Key to value, for example C(net.ipv4.ip_forward) to V(1). Values are compared as text
        with blanks collapsed, so V(1), C("1") and V(true) are the same.
      - With O(state=absent), a value is what the running kernel is set back to (for example the
        kernel default V(0)), and V(null) leaves the runtime value as it is.
    type: dict
    required: true
  state:
    description:
      - V(present) sets the values at runtime and (with O(persistent)) in the file.
      - V(absent) removes the keys from the file and writes the given values (if not null) at runtime.
    type: str
    choices: [present, absent]
    default: present
seealso:
  - module: lvs.topology.arp_suppress
  - name: IPVS sysctl
    description: The kernel's description of the net.ipv4.vs.* settings.
    link: https://docs.kernel.org/networking/ipvs-sysctl.html
"""

EXAMPLES = r"""
- name: Forward packets on a NAT director
  lvs.topology.lvs_sysctl:
    settings:
      net.ipv4.ip_forward: 1

- name: Drop connections to removed real servers at once and skip conntrack for DR traffic
  lvs.topology.lvs_sysctl:
    settings:
      net.ipv4.vs.expire_nodest_conn: 1
      net.ipv4.vs.expire_quiescent_template: 1
      net.ipv4.vs.conntrack: 0

- name: Stop forwarding and forget the setting
  lvs.topology.lvs_sysctl:
    settings:
      net.ipv4.ip_forward: 0
    state: absent
"""

RETURN = r"""
runtime:
  description:
    - Every key of O(settings) with its value in the running kernel after the run.
    - Null for a C(net.ipv4.vs.*) key in check mode while C(ip_vs) is not loaded yet.
  returned: always
  type: dict
  sample: {"net.ipv4.ip_forward": "1", "net.ipv4.vs.conntrack": "0"}
runtime_changed:
  description: The keys of O(settings) written under C(/proc/sys) (in check mode, that would be written).
  returned: always
  type: list
  elements: str
  sample: ["net.ipv4.ip_forward"]
conf_file:
  description: Path of the director's sysctl.d file.
  returned: always
  type: str
  sample: /etc/sysctl.d/90-lvs-topology-director.conf
conf_changed:
  description: True when the director's sysctl.d file was rewritten or deleted (in check mode, would be).
  returned: always
  type: bool
conf_settings:
  description: The director's persistent settings after the run, from every task that uses this module.
  returned: always
  type: dict
  sample: {"net.ipv4.ip_forward": "1", "net.ipv4.vs.expire_nodest_conn": "1"}
modules_load_file:
  description: The modules-load.d file listing C(ip_vs) while the sysctl.d file has C(net.ipv4.vs.*) keys; null with O(persistent=false).
  returned: always
  type: str
  sample: /etc/modules-load.d/90-lvs-topology-director.conf
lock_waited:
  description:
    - Seconds this run waited for the host lock while another run held it; V(0) when it did not wait.
  returned: always
  type: float
  sample: 12.75
lock_holder:
  description:
    - The run this one waited for, as it wrote itself into the lock file - the last one when several
      held the lock in turn; null when none had written itself yet.
  returned: when the run waited for the host lock, and when it failed waiting
  type: dict
  contains:
    module:
      description: The module that held the lock, as Ansible named it to the module.
      returned: always
      type: str
      sample: lvs.topology.ipvs_table
    pid:
      description: Its process id on the host.
      returned: always
      type: int
      sample: 4242
    user:
      description: Who ran it - the user C(sudo) became root for, else the user it ran as.
      returned: always
      type: str
      sample: jenkins
    since:
      description: When it took the lock, in UTC.
      returned: always
      type: str
      sample: "2024-05-01T12:00:03Z"
    log_info:
      description: Its C(ansible_target_log_info).
      returned: when that was set
      type: str
      sample: site.yml, Jenkins build 118
"""

import os
import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.lvs.topology.plugins.module_utils import _sysctl
from ansible_collections.lvs.topology.plugins.module_utils._host import ensure_kernel_module, kernel_module_loaded
from ansible_collections.lvs.topology.plugins.module_utils._lock import hold_host_lock, lock_argument_spec
from ansible_collections.lvs.topology.plugins.module_utils._managed_file import (
    read_managed_file,
    remove_managed_file,
    write_managed_file,
)
from ansible_collections.lvs.topology.plugins.module_utils._names import interface_name_problem

CONF_PURPOSE = "director"
IPVS_KEY_PREFIX = "net.ipv4.vs."
# Matched whole (fullmatch): the keys a director needs, nothing around them. The interface
# part is checked on its own against the interface-name rule.
ACCEPTED_KEY = re.compile(
    r"net\.ipv4\.ip_forward"
    r"|net\.ipv4\.vs\.[a-z0-9_]+"
    r"|net\.ipv[46]\.conf\.(?P<interface>[^.]+)\.[a-z0-9_]+")
# Module-level so unit tests can point it at a temporary directory.
MODULES_LOAD_D = "/etc/modules-load.d"
MODULES_LOAD_CONTENT = (
    "# Managed by the lvs.topology collection (lvs_sysctl module): local edits are lost.\n"
    "# ip_vs must be loaded before systemd-sysctl applies the net.ipv4.vs.* keys.\n"
    "ip_vs\n")


def build_module():
    return AnsibleModule(
        argument_spec=dict(
            settings=dict(type="dict", required=True),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            persistent=dict(type="bool", default=True),
            **lock_argument_spec()
        ),
        supports_check_mode=True,
    )


def key_problems(key):
    """Why key is not a key (None when it is), then why its interface cannot be one."""
    problem = _sysctl.key_problem(key)
    if problem:
        return problem
    match = ACCEPTED_KEY.fullmatch(key)
    if match and match.group("interface"):
        # sysctl(8) writes a dot inside the name as '/' (eth0/100 is eth0.100).
        return interface_name_problem(match.group("interface").replace("/", "."), "interface in %s" % key)
    return None


def validate(module, settings, present):
    """Refuse malformed, unknown or empty keys and, with state=present, null values; before anything is touched."""
    if not settings:
        module.fail_json(msg="settings is empty: give at least one key, for example net.ipv4.ip_forward: 1.")
    for key in sorted(settings, key=str):
        problem = key_problems(key)
        if problem:
            module.fail_json(msg=problem)
    refused = sorted(key for key in settings if not ACCEPTED_KEY.fullmatch(key))
    if refused:
        module.fail_json(msg="lvs_sysctl does not manage %s: accepted keys are net.ipv4.ip_forward, net.ipv4.vs.*, "
                         "net.ipv4.conf.*.* and net.ipv6.conf.*.*." % ", ".join(refused))
    if present:
        empty = sorted(key for key, value in settings.items() if value is None)
        if empty:
            module.fail_json(msg="%s has no value; with state=present every key needs one." % ", ".join(empty))


def ensure_modules_load(module, wanted):
    """List ip_vs in the modules-load.d file while IPVS keys are persistent; return (changed, diff)."""
    path = os.path.join(MODULES_LOAD_D, "90-lvs-topology-director.conf")
    before = read_managed_file(path)
    after = MODULES_LOAD_CONTENT if wanted else None
    if before != after and not module.check_mode:
        if after is None:
            remove_managed_file(module, path)
        else:
            write_managed_file(module, path, after)
    return path, before != after, {"before_header": path, "after_header": path, "before": before or "", "after": after or ""}


def main():
    module = build_module()
    params = module.params
    settings = params["settings"]
    present = params["state"] == "present"
    validate(module, settings, present)
    # Held from before the first read of the host until the process exits after exit_json:
    # the sysctl.d file is read, merged and rewritten whole, so two runs must not interleave.
    lock = hold_host_lock(module)

    ipvs_keys = [key for key in settings if key.startswith(IPVS_KEY_PREFIX) and (present or settings[key] is not None)]
    ipvs_pending = False
    if ipvs_keys:
        ipvs_pending = not kernel_module_loaded("ip_vs")
        # Loaded first: the keys under /proc/sys/net/ipv4/vs only exist with ip_vs (check mode loads nothing).
        ensure_kernel_module(module, "ip_vs")

    conf_file = _sysctl.conf_path(CONF_PURPOSE)
    if present:
        plan = _sysctl.SysctlPlan("lvs_sysctl", conf_file, runtime=settings,
                                  conf_set=settings if params["persistent"] else None)
    else:
        plan = _sysctl.SysctlPlan("lvs_sysctl", conf_file, runtime=settings,
                                  conf_remove=settings.keys() if params["persistent"] else None)
    result = _sysctl.apply_sysctl_plan(module, plan, allow_missing=module.check_mode and ipvs_pending)

    modules_load_file = None
    if params["persistent"]:
        keep_ip_vs = any(key.startswith(IPVS_KEY_PREFIX) for key in result["conf_settings"])
        modules_load_file, modules_load_changed, modules_load_diff = ensure_modules_load(module, keep_ip_vs)
        result["changed"] = result["changed"] or modules_load_changed
        result["diff"].append(modules_load_diff)
    # Loading ip_vs is a change of its own, even when every value already matched its default.
    result["changed"] = result["changed"] or ipvs_pending
    if not module._diff:
        result.pop("diff")
    result.update(lock.returned())
    module.exit_json(modules_load_file=modules_load_file, **result)


if __name__ == "__main__":
    main()
