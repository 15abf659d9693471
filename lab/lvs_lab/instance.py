# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One lab instance's directory, state, lock and processes, and how the controller logs in to its VMs."""
from __future__ import absolute_import, division, print_function

import fcntl
import json
import os
import re
import signal
import socket
import time

from . import paths
from .report import LabError, log, tail
from .topology import HOSTNAME_RE, RELEASES

__metaclass__ = type

# How the controller logs in to a lab VM, by labctl and by Ansible alike: per-lab keys and
# throwaway host keys. The key exchange is the classic curve25519 because OpenSSH's default
# post-quantum hybrid costs the TCG guest about 0.5 s of every login.
SSH_OPTIONS = ('-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o IdentitiesOnly=yes '
               '-o KexAlgorithms=curve25519-sha256')

# Seconds for the TCP connection and sshd's banner. A guest starved of CPU (fifteen busy
# guests on two cores) can take longer than ssh's usual 10 s to re-execute sshd and greet;
# giving up then leaves an unauthenticated sshd child behind, and retries pile them up until
# sshd refuses every connection (MaxStartups): whole labs failed to come up that way.
SSH_CONNECT_TIMEOUT = 60

# How long a VM or a switch has to disappear after SIGKILL: at once normally; the bound only
# keeps a process stuck in the kernel from holding labctl forever.
KILLED_EXIT_TIMEOUT = 60


def free_port():
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


def read_pid(pidfile, expected_in_cmdline):
    """Return the pid in pidfile if that process still runs and is ours (guards against pid reuse)."""
    try:
        with open(pidfile) as handle:
            pid = int(handle.read().strip())
        with open('/proc/%d/cmdline' % pid, 'rb') as handle:
            cmdline = handle.read().decode('utf-8', 'replace')
    except (OSError, ValueError):
        return None
    return pid if expected_in_cmdline in cmdline else None


def stop_pid(pid, grace=10.0):
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not os.path.exists('/proc/%d' % pid) or is_zombie(pid):
            return
        time.sleep(0.1)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    # Gone for real before the caller reuses its files or boots the VM again (a QEMU still
    # exiting keeps its pid file valid, and boot_host would take it for the new VM).
    deadline = time.monotonic() + KILLED_EXIT_TIMEOUT
    while time.monotonic() < deadline and os.path.exists('/proc/%d' % pid) and not is_zombie(pid):
        time.sleep(0.05)


def _proc_stat(pid):
    """The fields of /proc/<pid>/stat after the command name (the first is the state), or None."""
    try:
        with open('/proc/%d/stat' % pid) as handle:
            return handle.read().rsplit(')', 1)[1].split()
    except (OSError, IndexError):
        return None


def is_zombie(pid):
    fields = _proc_stat(pid)
    return not fields or fields[0] == 'Z'


def cpu_seconds(pid):
    """CPU time (user + system) the process has used, in seconds."""
    fields = _proc_stat(pid)
    if not fields:
        return 0.0
    # utime and stime, fields 14 and 15 of proc(5); fields[0] is field 3.
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def host_images(state):
    """{host: image directory} of an instance's state (older states have one image for all)."""
    if 'hosts' not in state:
        return {name: state['image'] for name in state['ports']}
    return {name: host['image'] for name, host in state['hosts'].items()}


def host_release(state, name):
    return state['hosts'][name]['release'] if 'hosts' in state else RELEASES[0]


def record_host_images(instance, state, wanted):
    """Record each host's image in the state. A host already there keeps its own: its overlay
    disk is built on it, so `down` and `up` are what moves it to another image or release."""
    if 'hosts' not in state:
        state['hosts'] = {name: {'release': RELEASES[0], 'image': image} for name, image in host_images(state).items()}
    for name, host in sorted(wanted.items()):
        recorded = state['hosts'].setdefault(name, dict(host))
        if recorded != host:
            log('note: %s of instance %s keeps its %s image %s; `down %s` and `up` again to boot %s %s'
                % (name, instance.name, recorded['release'], os.path.basename(recorded['image']), instance.name,
                   host['release'], os.path.basename(host['image'])))


class Instance:
    """Paths and state of one running (or stopped) lab instance under .lab/<name>/."""

    def __init__(self, name):
        if not HOSTNAME_RE.match(name) and not re.match(r'^[a-z0-9][a-z0-9_.-]{0,40}$', name):
            raise LabError('instance name %r must be lower-case letters, digits, ".", "_" or "-"' % name)
        self.name = name
        self.dir = os.path.join(paths.STATE_ROOT, name)
        self.state_file = os.path.join(self.dir, 'state.json')
        self.key = os.path.join(self.dir, 'id_ed25519')
        self.inventory = os.path.join(self.dir, 'inventory.yml')

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def load_state(self):
        if not os.path.isfile(self.state_file):
            return None
        with open(self.state_file) as handle:
            return json.load(handle)

    def save_state(self, state):
        temporary = self.state_file + '.tmp'
        with open(temporary, 'w') as handle:
            json.dump(state, handle, indent=2)
        os.replace(temporary, self.state_file)

    def lock(self):
        os.makedirs(self.dir, exist_ok=True)
        handle = open(self.path('lock'), 'w')
        fcntl.flock(handle, fcntl.LOCK_EX)
        return handle

    def vm_pid(self, host):
        return read_pid(self.path('%s.pid' % host), self.dir)

    def switch_pid(self, segment):
        return read_pid(self.path('switch-%s.pid' % segment), self.dir)

    def ssh_argv(self, port, batch=True):
        argv = ['ssh', '-i', self.key, '-p', str(port)] + SSH_OPTIONS.split() + ['-o', 'LogLevel=ERROR', '-o', 'ConnectTimeout=%d' % SSH_CONNECT_TIMEOUT]
        if batch:
            argv += ['-o', 'BatchMode=yes']
        return argv + ['root@127.0.0.1']


def console_tail(instance, name):
    return tail(instance.path('consoles', '%s.log' % name), 30)
