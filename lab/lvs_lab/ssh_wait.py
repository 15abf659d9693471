# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Waiting for a booting guest: until it runs a command over SSH with its base addressing in place."""
from __future__ import absolute_import, division, print_function

import os
import socket
import subprocess
import time

from .instance import SSH_CONNECT_TIMEOUT, console_tail, cpu_seconds
from .report import LabError

__metaclass__ = type

# Five-host boots took up to 311 s in CI, with another lab booting beside them.
BOOT_TIMEOUT = float(os.environ.get('LVS_LAB_BOOT_TIMEOUT', '900'))

# A boot to SSH costs a guest 24 s of CPU alone and up to about 100 s while other guests boot
# beside it (docs/lab.md), on this machine: emulation costs a slower host proportionally more
# CPU. One that has burnt STUCK_BOOT_CPU_SECONDS, or two thirds of BOOT_TIMEOUT, without
# answering is stuck: it is powered off and booted once more (a CI run once lost a whole
# scenario to one VM that never answered). The CPU bound follows BOOT_TIMEOUT, the one knob a
# slow host turns up (450 s by default: room for a host three times slower than the one
# those figures come from).
STUCK_BOOT_CPU_SECONDS = BOOT_TIMEOUT / 2
STUCK_BOOT_FRACTION = 2 / 3


class BootStuck(LabError):
    pass


def wait_for_ssh(instance, state, host, deadline, stuck_after=None):
    """Poll until the guest runs a command over SSH with its base addressing in place.

    With stuck_after (a time.monotonic() value), raise BootStuck once that time passes, or
    once the VM has used STUCK_BOOT_CPU_SECONDS of CPU, without the guest answering.
    """
    name = host['name']
    started = time.monotonic()
    port = state['ports'][name]
    interfaces = ' '.join('-i %s' % nic['name'] for nic in host['nics'])
    # One login that waits inside the guest: each login (and each sshd re-exec for a banner
    # probe) costs an emulated guest CPU time its boot needs. Exit 3: the identity unit failed.
    check = ('until systemctl is-active --quiet lvs-lab-identity.service; do'
             ' if systemctl is-failed --quiet lvs-lab-identity.service; then'
             ' journalctl -b -u lvs-lab-identity.service --no-pager | tail -n 20; exit 3; fi; sleep 1; done'
             ' && /lib/systemd/systemd-networkd-wait-online --timeout=60 %s' % interfaces)
    banner_seen = False
    while time.monotonic() < deadline:
        pid = instance.vm_pid(name)
        if not pid:
            raise LabError('VM %s stopped while booting; last lines of its console (%s):\n%s'
                           % (name, instance.path('consoles', '%s.log' % name), console_tail(instance, name)))
        if stuck_after is not None:
            used = cpu_seconds(pid)
            if time.monotonic() > stuck_after or used > STUCK_BOOT_CPU_SECONDS:
                raise BootStuck('VM %s has not answered SSH in %.0f s (%.0f s of CPU)' % (name, time.monotonic() - started, used))
        banner_seen = banner_seen or _ssh_banner(port)
        if not banner_seen:
            time.sleep(1)
            continue
        try:
            result = subprocess.run(instance.ssh_argv(port) + [check], stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                    check=False, timeout=max(5.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            continue
        if result.returncode == 0:
            return time.monotonic()
        if result.returncode == 3:
            raise LabError('VM %s: its base addressing (lvs-lab-identity.service) failed:\n%s' % (name, result.stdout.strip()))
        time.sleep(2)
    raise LabError('VM %s did not answer SSH within %.0f s; last lines of its console (%s):\n%s'
                   % (name, BOOT_TIMEOUT, instance.path('consoles', '%s.log' % name), console_tail(instance, name)))


def _ssh_banner(port):
    # QEMU accepts the forwarded connection even before sshd runs, so only the banner
    # proves the guest is there.
    try:
        with socket.create_connection(('127.0.0.1', port), timeout=2) as connection:
            # A listening sshd re-executes itself before its banner, seconds on a busy TCG
            # guest: wait for it as long as ssh itself would, rather than abandon the child
            # and start another.
            connection.settimeout(SSH_CONNECT_TIMEOUT)
            return connection.recv(8).startswith(b'SSH-')
    except OSError:
        return False
