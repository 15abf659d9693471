#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: arp_suppress
short_description: Stop a DR or TUN real server from answering ARP for the VIP it holds
version_added: 0.1.0
description:
  - Sets C(arp_ignore) and C(arp_announce) (and optionally C(rp_filter)) for C(all) and for the
    interface that holds the VIP, exactly as the LVS guides do by hand with
    C(net.ipv4.conf.all.arp_ignore = 1), C(net.ipv4.conf.lo.arp_ignore = 1),
    C(net.ipv4.conf.all.arp_announce = 2), C(net.ipv4.conf.lo.arp_announce = 2).
  - The kernel uses the larger of the C(all) and the interface value for these three parameters,
    which is why both are set.
  - Without it, a real server holding the VIP on C(lo) answers ARP requests for the VIP from its
    LAN NIC and clients may send their traffic past the director (the "ARP problem" of LVS/DR).
author:
  - lvs.topology contributors (@lvs-topology)
extends_documentation_fragment:
  - lvs.topology.sysctl
  - lvs.topology.host_lock
options:
  interface:
    description:
      - The interface that holds the VIP (C(lo) on a DR real server, C(tunl0) on a TUN real server).
      - It must exist; C(tunl0) appears once M(lvs.topology.vip_address) has loaded C(ipip). In check
        mode a missing C(tunl0) is no error, and the module reports the settings it would make.
      - "An interface name is 1 to 15 characters (the kernel's IFNAMSIZ): letters, digits and C(. _ - @),
        starting with a letter, a digit or C(_); anything else is refused before anything is read or written."
    type: str
    default: lo
  arp_ignore:
    description:
      - C(net.ipv4.conf.{all,INTERFACE}.arp_ignore). V(1) answers ARP only for addresses
        configured on the interface the request came in on, so the VIP on C(lo) stays silent.
      - V(0) answers for any local address (kernel default), V(2) also needs the sender in the
        same subnet, V(3) ignores addresses of scope host, V(8) answers nothing. 4 to 7 are reserved.
    type: int
    choices: [0, 1, 2, 3, 8]
    default: 1
  arp_announce:
    description:
      - C(net.ipv4.conf.{all,INTERFACE}.arp_announce). V(2) always uses the outgoing interface's
        own address as the ARP source, never the VIP, so neighbours never learn the VIP from it.
      - V(0) any local address (kernel default), V(1) avoid addresses outside the target's subnet.
    type: int
    choices: [0, 1, 2]
    default: 2
  rp_filter:
    description:
      - C(net.ipv4.conf.{all,INTERFACE}.rp_filter), left alone when not given.
      - A TUN real server needs V(0) (or V(2), loose) on C(tunl0) and C(all); after decapsulation
        the packet's source (the client) is not routed through C(tunl0), and strict reverse-path
        filtering (V(1)) drops it.
      - With O(state=absent), giving it also restores C(rp_filter) even if the file does not list it.
    type: int
    choices: [0, 1, 2]
  state:
    description:
      - V(present) sets the values at runtime and (with O(persistent)) in the file.
      - V(absent) removes this interface's entries from the file and puts the defaults back at
        runtime, the kernel's 0 for C(all) and, for the interface, the value of
        C(net.ipv4.conf.default.*) (what the kernel gives a new interface, including a
        distribution's own choice such as systemd's C(rp_filter = 2)).
      - The C(all) entries are kept while another interface still has entries in the file, so
        removing C(tunl0) does not undo C(lo).
    type: str
    choices: [present, absent]
    default: present
seealso:
  - module: lvs.topology.vip_address
  - module: lvs.topology.lvs_sysctl
  - name: ip-sysctl
    description: The kernel's description of arp_ignore, arp_announce and rp_filter.
    link: https://docs.kernel.org/networking/ip-sysctl.html
"""

EXAMPLES = r"""
- name: Keep a DR real server from answering ARP for the VIP on lo
  lvs.topology.arp_suppress:
    interface: lo

- name: Same on a TUN real server, with reverse-path filtering relaxed for decapsulated packets
  lvs.topology.arp_suppress:
    interface: tunl0
    rp_filter: 0

- name: Put the kernel defaults back and forget the settings
  lvs.topology.arp_suppress:
    interface: lo
    state: absent
"""

RETURN = r"""
interface:
  description: The interface.
  returned: always
  type: str
  sample: lo
runtime:
  description: The runtime value of every key the run manages, after the run (null when the kernel has no such key).
  returned: always
  type: dict
  sample: {"net.ipv4.conf.all.arp_ignore": "1", "net.ipv4.conf.lo.arp_ignore": "1",
           "net.ipv4.conf.all.arp_announce": "2", "net.ipv4.conf.lo.arp_announce": "2"}
runtime_changed:
  description: The keys whose runtime value changed (or would change in check mode).
  returned: always
  type: list
  elements: str
  sample: ["net.ipv4.conf.all.arp_ignore", "net.ipv4.conf.lo.arp_ignore"]
conf_file:
  description: The sysctl.d file of this module.
  returned: always
  type: str
  sample: /etc/sysctl.d/90-lvs-topology-arp.conf
conf_changed:
  description: Whether the file was (or would be) rewritten or deleted.
  returned: always
  type: bool
conf_settings:
  description: Every key = value of the file after the run (empty when the file is gone).
  returned: always
  type: dict
  sample: {"net.ipv4.conf.all.arp_ignore": "1", "net.ipv4.conf.lo.arp_ignore": "1"}
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

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.lvs.topology.plugins.module_utils import _sysctl
from ansible_collections.lvs.topology.plugins.module_utils._lock import hold_host_lock, lock_argument_spec
from ansible_collections.lvs.topology.plugins.module_utils._managed_file import read_managed_file
from ansible_collections.lvs.topology.plugins.module_utils._names import interface_name_problem

CONF_PURPOSE = "arp"
PARAMETERS = ("arp_ignore", "arp_announce", "rp_filter")
# Compiled-in defaults of net.ipv4.conf.all.* for these three parameters.
KERNEL_DEFAULT = "0"
# Pseudo-interfaces under net/ipv4/conf that are not devices.
NOT_DEVICES = ("all", "default")


def build_module():
    return AnsibleModule(
        argument_spec=dict(
            interface=dict(type="str", default="lo"),
            arp_ignore=dict(type="int", default=1, choices=[0, 1, 2, 3, 8]),
            arp_announce=dict(type="int", default=2, choices=[0, 1, 2]),
            rp_filter=dict(type="int", choices=[0, 1, 2]),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            persistent=dict(type="bool", default=True),
            **lock_argument_spec()
        ),
        supports_check_mode=True,
    )


def existing_interfaces():
    """Interfaces the kernel has IPv4 settings for, without the all/default pseudo-entries."""
    conf_dir = os.path.join(_sysctl.PROC_SYS, "net", "ipv4", "conf")
    return sorted(name for name in os.listdir(conf_dir) if name not in NOT_DEVICES)


def interface_exists(interface):
    return _sysctl.read_runtime_value(_sysctl.interface_key(interface, "arp_ignore")) is not None


def present_plan(params, conf_file):
    """Both the all and the interface key of every parameter given, at runtime and in the file."""
    wanted = {}
    for parameter in PARAMETERS:
        if params[parameter] is not None:
            for scope in ("all", params["interface"]):
                wanted[_sysctl.interface_key(scope, parameter)] = params[parameter]
    return _sysctl.SysctlPlan("arp_suppress", conf_file, runtime=wanted,
                              conf_set=wanted if params["persistent"] else None)


def absent_plan(params, conf_file):
    """Drop the interface's entries (and all's when no other interface has any); restore defaults."""
    interface = params["interface"]
    in_file = _sysctl.parse_sysctl_conf(read_managed_file(conf_file))
    parameters = [p for p in PARAMETERS
                  if p != "rp_filter" or params["rp_filter"] is not None or _sysctl.interface_key(interface, p) in in_file]
    own_keys = set(_sysctl.interface_key(interface, p) for p in PARAMETERS)
    all_keys = set(_sysctl.interface_key("all", p) for p in PARAMETERS)
    others_remain = any(key not in own_keys and key not in all_keys for key in in_file)

    runtime = {}
    if interface_exists(interface):
        for parameter in parameters:
            runtime[_sysctl.interface_key(interface, parameter)] = _sysctl.read_runtime_value(
                _sysctl.interface_key("default", parameter))
    removed = set(own_keys)
    if not others_remain:
        removed |= all_keys
        for parameter in parameters:
            runtime[_sysctl.interface_key("all", parameter)] = KERNEL_DEFAULT
    return _sysctl.SysctlPlan("arp_suppress", conf_file, runtime=runtime,
                              conf_remove=removed if params["persistent"] else None)


def main():
    module = build_module()
    params = module.params
    interface = params["interface"]
    # The name becomes a part of sysctl keys, so of paths under /proc/sys and of sysctl.d lines.
    problem = interface_name_problem(interface)
    if problem:
        module.fail_json(msg=problem)
    # Held from before the first read of the host until the process exits after exit_json:
    # the sysctl.d file is read, merged and rewritten whole, so two runs must not interleave.
    lock = hold_host_lock(module)
    # In a first deploy's check run vip_address has not created tunl0 yet (it only reported that
    # it would): report the settings this run would make instead of failing the check.
    tunnel_to_come = interface == "tunl0" and module.check_mode
    if params["state"] == "present" and not interface_exists(interface) and not tunnel_to_come:
        hint = " (tunl0 appears once lvs.topology.vip_address has put the VIP on it)" if interface == "tunl0" else ""
        module.fail_json(msg="Interface %s does not exist on this host%s; existing interfaces: %s."
                         % (interface, hint, ", ".join(existing_interfaces())))
    conf_file = _sysctl.conf_path(CONF_PURPOSE)
    plan = present_plan(params, conf_file) if params["state"] == "present" else absent_plan(params, conf_file)
    result = _sysctl.apply_sysctl_plan(module, plan, allow_missing=tunnel_to_come)
    if not module._diff:
        result.pop("diff")
    result.update(lock.returned())
    module.exit_json(interface=interface, **result)


if __name__ == "__main__":
    main()
