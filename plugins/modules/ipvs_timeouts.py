#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: ipvs_timeouts
short_description: Set the IPVS connection timeouts (ipvsadm --set)
version_added: 0.1.0
description:
  - Sets how long the kernel keeps an idle IPVS connection entry, as C(ipvsadm --set TCP TCPFIN UDP)
    does, idempotently, and reads them from the one line C(ipvsadm -L --timeout) prints.
  - Only the timeouts the task gives change; one left out stays as the kernel has it. The module
    reads the current values first and runs C(ipvsadm --set) only when one differs, with V(0)
    (ipvsadm's "unchanged") for every timeout that stays.
  - A timeout cannot be set to V(0) - C(ipvsadm --set) and the kernel read V(0) as "leave this
    timeout unchanged" - so V(0) is refused with a sentence that says so; leave the option out to
    keep a value. To go back to the kernel's values, give them - V(900), V(120) and V(300).
  - The values live in the kernel until C(ip_vs) is unloaded or the host reboots, and come back as
    900, 120 and 300 after either. This module sets the running kernel only; the director role keeps
    them across reboots (C(director_ipvs_timeouts), C(docs/roles.md)).
  - The kernel gives a connection entry its state's timeout at every packet, so an existing entry
    takes a new value at its next packet and until then counts down the one it had.
author:
  - lvs.topology contributors (@lvs-topology)
extends_documentation_fragment:
  - lvs.topology.host_lock
attributes:
  check_mode:
    support: full
    description: Reads the timeouts and reports what would change; runs nothing and loads no kernel module.
  diff_mode:
    support: full
    description: "The three timeouts before and after, one C(name: seconds) line each."
options:
  tcp:
    description:
      - Seconds an established TCP connection may stay idle (the first value of C(ipvsadm --set)).
      - V(1) to V(2678400) (31 days, ipvsadm's limit). A kernel built with C(HZ=1000) refuses more than
        V(2147483); Debian's kernels use C(HZ=250) and take the full range.
      - Unset, the current value stays.
    type: int
  tcpfin:
    description:
      - Seconds a TCP connection may stay in C(FIN_WAIT) after the client's FIN (the second value of C(ipvsadm --set)).
      - The same range as O(tcp); unset, the current value stays.
    type: int
  udp:
    description:
      - Seconds a UDP connection entry lives after its last packet (the third value of C(ipvsadm --set)).
      - The same range as O(tcp); unset, the current value stays.
    type: int
  state:
    description:
      - V(present) sets the timeouts given (at least one of O(tcp), O(tcpfin), O(udp)).
      - V(gathered) only reads them into RV(timeouts); it takes no timeout option and changes nothing.
    type: str
    choices: [present, gathered]
    default: present
notes:
  - Needs C(ipvsadm) on the managed host and a kernel with IPVS. With O(state=present) the module loads
    C(ip_vs) when it is not loaded yet (a change of its own); until then the kernel holds no timeouts, and
    the module reports the values C(ip_vs) starts with (900, 120, 300) as the current ones.
  - The kernel checks all three values before it sets any, so a refused call changes nothing; the module
    reads the timeouts back after C(ipvsadm --set) and fails when they are not what the task asked for.
  - The timeouts are the kernel's, one set per network namespace, shared by every virtual service.
seealso:
  - module: lvs.topology.ipvs_info
  - name: ipvsadm(8)
    description: The C(--set) and C(--timeout) options.
    link: https://manpages.debian.org/bookworm/ipvsadm/ipvsadm.8.en.html
"""

EXAMPLES = r"""
- name: Keep idle established TCP connections for 2 hours (ipvsadm --set 7200 0 0)
  lvs.topology.ipvs_timeouts:
    tcp: 7200

- name: Shorter FIN_WAIT and UDP timeouts
  lvs.topology.ipvs_timeouts:
    tcpfin: 30
    udp: 60

- name: Back to the values ip_vs starts with
  lvs.topology.ipvs_timeouts:
    tcp: 900
    tcpfin: 120
    udp: 300

- name: Read the timeouts
  lvs.topology.ipvs_timeouts:
    state: gathered
  register: ipvs_timeouts
"""

RETURN = r"""
timeouts:
  description:
    - The timeouts in seconds before and after the run (in check mode, after is what the run would set).
    - With O(state=gathered) both are the current values.
  returned: always
  type: dict
  contains:
    before:
      description: The timeouts the module read, or those C(ip_vs) starts with when it was not loaded.
      returned: always
      type: dict
      sample: {tcp: 900, tcpfin: 120, udp: 300}
    after:
      description: The timeouts after the run, read back from the kernel when it changed them.
      returned: always
      type: dict
      sample: {tcp: 7200, tcpfin: 120, udp: 300}
ipvs_loaded:
  description: Whether C(ip_vs) was loaded when the module started.
  returned: always
  type: bool
commands:
  description: The ipvsadm arguments that ran (or would run in check mode), 0 for each timeout that stays; empty when nothing changed.
  returned: always
  type: list
  elements: str
  sample: ["--set 7200 0 0"]
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

from collections import OrderedDict

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.lvs.topology.plugins.module_utils._lock import hold_host_lock, lock_argument_spec
from ansible_collections.lvs.topology.plugins.module_utils.ipvs.host import IpvsHost
from ansible_collections.lvs.topology.plugins.module_utils.ipvs.listing import parse_timeouts
from ansible_collections.lvs.topology.plugins.module_utils.ipvs.model import IpvsInputError, IpvsParseError
from ansible_collections.lvs.topology.plugins.module_utils.ipvs.timeouts import (
    KERNEL_DEFAULTS, TIMEOUT_NAMES, checked_timeout, set_arguments, timeouts_phrase, timeouts_text,
)


def build_module():
    return AnsibleModule(
        argument_spec=dict(
            tcp=dict(type="int"),
            tcpfin=dict(type="int"),
            udp=dict(type="int"),
            state=dict(type="str", default="present", choices=["present", "gathered"]),
            **lock_argument_spec()
        ),
        required_if=[("state", "present", TIMEOUT_NAMES, True)],
        supports_check_mode=True,
    )


def wanted_timeouts(module):
    """The timeouts the task gives, checked before anything is read or run."""
    params = module.params
    given = [name for name in TIMEOUT_NAMES if params[name] is not None]
    if params["state"] == "gathered" and given:
        module.fail_json(msg="%s do%s not apply with state gathered, which only reads the timeouts." % (
            ", ".join(given), "es" if len(given) == 1 else ""))
    try:
        return OrderedDict((name, checked_timeout(params[name], name)) for name in given)
    except IpvsInputError as error:
        module.fail_json(msg=str(error))


def read_timeouts(host):
    """The kernel's timeouts as ipvsadm -L --timeout prints them."""
    text = host.ipvsadm_output("-L", "--timeout")
    try:
        return parse_timeouts(text)
    except IpvsParseError as error:
        host.module.fail_json(msg="Cannot read the output of ipvsadm -L --timeout: %s." % error, stdout=text)


def main():
    module = build_module()
    wanted = wanted_timeouts(module)
    # Held from before the timeouts are read until the process exits after exit_json.
    lock = hold_host_lock(module)
    host = IpvsHost(module)
    ipvs_loaded = host.ipvs_present()
    loaded_now = False
    if module.params["state"] == "present":
        # ipvsadm would load ip_vs itself; loading it here makes that a change the task reports.
        loaded_now = host.load_ipvs()
    # Without ip_vs (in check mode or gathered) the kernel holds no timeouts yet: loading it gives these.
    before = read_timeouts(host) if host.ipvs_present() else OrderedDict(KERNEL_DEFAULTS)
    arguments = set_arguments(before, wanted)
    after = OrderedDict((name, wanted.get(name, before[name])) for name in TIMEOUT_NAMES)
    if arguments and not module.check_mode:
        host.ipvsadm_output(*arguments)
        now = read_timeouts(host)
        if now != after:
            module.fail_json(msg="ipvsadm %s left the timeouts at %s instead of %s." % (
                " ".join(arguments), timeouts_phrase(now), timeouts_phrase(after)),
                cmd=[host.ipvsadm] + arguments, timeouts=dict(before=before, after=now))
        after = now
    result = dict(changed=bool(arguments) or loaded_now, timeouts=dict(before=before, after=after), ipvs_loaded=ipvs_loaded,
                  commands=[" ".join(arguments)] if arguments else [])
    if module._diff:
        result["diff"] = dict(before=timeouts_text(before), after=timeouts_text(after))
    result.update(lock.returned())
    module.exit_json(**result)


if __name__ == "__main__":
    main()
