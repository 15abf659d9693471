# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """The host lock of the modules that change a host; the code is module_utils/_lock.py."""

    DOCUMENTATION = r"""
options:
  lock_timeout:
    description:
      - How many seconds to wait for the host lock while another run holds it. When it is still
        held after that, the task fails with one sentence naming the holder and changes nothing.
      - V(0) tries once and fails at once when another run holds the lock.
    type: int
    default: 300
notes:
  - One lock per host - an exclusive C(flock) on C(/run/lvs-topology/lock) - is taken before the
    module reads what it is going to change, and kept until the module's process exits, after the
    change and anything recorded about it. Two runs on one host (a deployment and a drain started
    by hand, two M(lvs.topology.ipvs_table) tasks that override the table with different ones)
    therefore never mix their reads and changes - the second waits for the first, and reports how
    long in RV(lock_waited) and whom for in RV(lock_holder).
  - Check mode takes the lock too, so what it reads and reports is the host between two runs, never
    a change of another run half applied; it may therefore wait for a run that changes the host.
  - The holder writes its module, pid, user (the one C(sudo) became root for) and start time into
    the lock file, and also C(ansible_target_log_info) (C(ANSIBLE_TARGET_LOG_INFO)) when that is set,
    which lets a deployment name itself (its Jenkins build, say) to whoever waits for it.
  - The kernel drops the lock when the module's process ends, however it ends, so a run that died
    never leaves the host locked.
  - C(docs/transactions.md) says what the lock covers and what it does not (whole playbooks, files the
    roles write with builtin modules).
"""
