# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Booting VMs: the machine-wide boot slots, and one boot with its retry when it gets stuck."""
from __future__ import absolute_import, division, print_function

import fcntl
import os
import threading
import time

from . import paths
from .instance import console_tail, stop_pid
from .qemu import start_vm
from .report import log
from .ssh_wait import BOOT_TIMEOUT, STUCK_BOOT_FRACTION, BootStuck, wait_for_ssh

__metaclass__ = type

# VMs booting at the same time on this machine, across all lab instances (see acquire_boot_slot).
BOOT_SLOTS = int(os.environ.get('LVS_LAB_BOOT_SLOTS', '6'))

# start_vm may rewrite state.json (a port taken meanwhile): one VM at a time.
STATE_LOCK = threading.Lock()


def acquire_boot_slot():
    """Wait for one of the machine-wide boot slots and return its locked file.

    A TCG boot is CPU-bound: ten guests booting at once on two cores all crawl past their
    own timeouts, while the same guests booted a few at a time each come up quickly. The
    slot is a flock, so it is released when the holder exits, whatever happens to it.
    """
    slots_dir = os.path.join(paths.STATE_ROOT, 'boot-slots')
    os.makedirs(slots_dir, exist_ok=True)
    while True:
        for index in range(BOOT_SLOTS):
            handle = open(os.path.join(slots_dir, '%d.lock' % index), 'w')
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return handle
            except BlockingIOError:
                handle.close()
        time.sleep(1)


def boot_host(instance, state, host):
    """Boot one VM unless it runs (holding a boot slot while it boots) and wait for SSH.

    A boot that gets stuck is cut off and retried once, within the same BOOT_TIMEOUT.
    """
    name = host['name']
    deadline = time.monotonic() + BOOT_TIMEOUT
    if instance.vm_pid(name):
        return wait_for_ssh(instance, state, host, deadline)
    with acquire_boot_slot():
        try:
            with STATE_LOCK:
                start_vm(instance, state, host)
            return wait_for_ssh(instance, state, host, deadline, stuck_after=time.monotonic() + BOOT_TIMEOUT * STUCK_BOOT_FRACTION)
        except BootStuck as stuck:
            log('lab %s: %s; powering it off and booting it once more. Last lines of its console:\n%s'
                % (instance.name, stuck, console_tail(instance, name)))
            pid = instance.vm_pid(name)
            if pid:
                stop_pid(pid)
            with STATE_LOCK:
                start_vm(instance, state, host)
            return wait_for_ssh(instance, state, host, deadline)
