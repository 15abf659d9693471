#!/usr/bin/env python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Real-kernel LVS lab: QEMU guests on vde_switch segments, described by topology files.

The controller's own kernel has no IPVS, so every test that touches the kernel runs in
guests booted from one Debian base image (Debian's kernel has ip_vs and ipip). Each guest
gets its identity (hostname, SSH key, addresses, routes, web ports) through QEMU fw_cfg and
applies it at every boot, so a reboot brings the data centre's base configuration back.

Subcommands: image, up, down, status, poweroff, start, ssh. Run with --help for details.
Everything an instance owns (pids, sockets, overlays, consoles, keys, inventory) lives in
.lab/<instance>/ so two instances of different names never collide.
"""
from __future__ import absolute_import, division, print_function

import argparse
import concurrent.futures
import fcntl
import glob
import hashlib
import io
import ipaddress
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import threading
import time

import yaml

__metaclass__ = type

LAB_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_DIR = os.path.dirname(LAB_DIR)
STATE_ROOT = os.environ.get('LVS_LAB_STATE_DIR', os.path.join(REPO_DIR, '.lab'))
IMAGE_RECIPE_DIR = os.path.join(LAB_DIR, 'image')
TOPOLOGY_DIR = os.path.join(LAB_DIR, 'topologies')

ALLOWED_NETWORKS = [ipaddress.ip_network(n) for n in ('192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24', '2001:db8::/32')]
# The management NIC of every VM lives here (inside QEMU's private user network, one per
# VM), so topology files may not use it.
MANAGEMENT_NETWORK = ipaddress.ip_network('192.0.2.248/29')
MANAGEMENT_HOST = '192.0.2.249'
MANAGEMENT_DNS = '192.0.2.250'
MANAGEMENT_GUEST = '192.0.2.252'
ROLE_GROUPS = {'client': 'clients', 'router': 'routers', 'director': 'directors', 'real_server': 'real_servers'}
HOSTNAME_RE = re.compile(r'^[a-z][a-z0-9-]{0,30}$')
SEGMENT_RE = re.compile(r'^[a-z][a-z0-9_-]{0,15}$')
FIRST_DATA_PCI_SLOT = 3
MANAGEMENT_PCI_SLOT = 0x1f
MAX_DATA_NICS = 8
VM_MEMORY_MIB = int(os.environ.get('LVS_LAB_MEMORY_MIB', '512'))
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
# Under KVM the probe kernel panics within seconds; the bound only stops one that hangs. A
# probe cut short on a busy host would cache TCG for good, so it is generous.
KVM_PROBE_TIMEOUT = 120
# How long a VM or a switch has to disappear after SIGKILL: at once normally; the bound only
# keeps a process stuck in the kernel from holding labctl forever.
KILLED_EXIT_TIMEOUT = 60
# VMs booting at the same time on this machine, across all lab instances (see acquire_boot_slot).
BOOT_SLOTS = int(os.environ.get('LVS_LAB_BOOT_SLOTS', '6'))
KERNEL_CMDLINE = ('root=/dev/vda rw console=ttyS0 net.ifnames=0 fsck.mode=skip mitigations=off '
                  # Under TCG the clocksource watchdog wrongly drops the TSC for the HPET, whose
                  # every read is an emulated device access.
                  'tsc=reliable '
                  # Every console byte is an emulated UART access: log warnings and failed
                  # units only, which is also what a failed boot needs to show.
                  'loglevel=4 systemd.show_status=error '
                  # Crypto self-tests of the SIMD modules udev loads crawl (and even fail)
                  # under TCG; nothing in the lab needs the kernel to re-prove them.
                  'cryptomgr.notests')


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


# start_vm may rewrite state.json (a port taken meanwhile): one VM at a time.
STATE_LOCK = threading.Lock()


class LabError(Exception):
    """A failure reported to the user as one message, without a traceback."""


def log(message):
    print(message, flush=True)


# --------------------------------------------------------------------------- topology

def _address_error(where, value):
    return LabError('%s: %s is outside the lab address ranges; use only 192.0.2.0/24, 198.51.100.0/24, '
                    '203.0.113.0/24 or 2001:db8::/32 (and not %s, kept for the management NIC)'
                    % (where, value, MANAGEMENT_NETWORK))


def _check_allowed(where, value, parse):
    try:
        parsed = parse(value)
    except ValueError:
        raise LabError('%s: %r is not a valid address' % (where, value))
    network = parsed if isinstance(parsed, (ipaddress.IPv4Network, ipaddress.IPv6Network)) else ipaddress.ip_network(parsed, strict=False)
    if not any(network.version == allowed.version and network.subnet_of(allowed) for allowed in ALLOWED_NETWORKS):
        raise _address_error(where, value)
    if network.version == 4 and network.overlaps(MANAGEMENT_NETWORK):
        raise _address_error(where, value)
    return parsed


def load_topology(name_or_path):
    """Read and validate a topology file; return it with defaults filled in."""
    path = name_or_path if os.sep in name_or_path or name_or_path.endswith('.yml') else os.path.join(TOPOLOGY_DIR, name_or_path + '.yml')
    if not os.path.isfile(path):
        known = sorted(os.path.basename(p)[:-4] for p in glob.glob(os.path.join(TOPOLOGY_DIR, '*.yml')))
        raise LabError('unknown topology %r: expected one of %s or a path to a .yml file' % (name_or_path, ', '.join(known)))
    with open(path) as handle:
        data = yaml.safe_load(handle) or {}
    name = os.path.basename(path)[:-4]
    where = 'topology %s' % name
    if not isinstance(data.get('hosts'), dict) or not data['hosts']:
        raise LabError('%s: needs a non-empty "hosts" mapping' % where)
    segments = data.get('segments') or {}
    if not isinstance(segments, dict):
        raise LabError('%s: "segments" must be a mapping of segment name to its prefixes' % where)
    for segment, spec in segments.items():
        if not SEGMENT_RE.match(str(segment)):
            raise LabError('%s: segment name %r must be lower-case letters, digits, "-" or "_" (16 characters at most)' % (where, segment))
        spec = segments[segment] = spec or {}
        for family in ('ipv4', 'ipv6'):
            if spec.get(family):
                spec[family] = str(_check_allowed('%s segment %s %s' % (where, segment, family), spec[family], ipaddress.ip_network))
    hosts = []
    for index, (host, spec) in enumerate(data['hosts'].items()):
        hosts.append(_validate_host(where, index, str(host), spec or {}, segments))
    inventory_vars = data.get('inventory_vars') or {}
    if not isinstance(inventory_vars, dict):
        raise LabError('%s: "inventory_vars" must be a mapping' % where)
    names = {}
    for host in hosts:
        for nic in host['nics']:
            if nic.get('ipv4'):
                names.setdefault(host['name'], nic['ipv4'].split('/')[0])
    return {'name': name, 'path': os.path.abspath(path), 'description': data.get('description', ''),
            'segments': segments, 'hosts': hosts, 'inventory_vars': inventory_vars, 'host_addresses': names}


def _validate_host(where, index, name, spec, segments):
    where = '%s host %s' % (where, name)
    if not HOSTNAME_RE.match(name):
        raise LabError('%s: host name must be lower-case letters, digits or "-", starting with a letter' % where)
    role = spec.get('role')
    if role not in ROLE_GROUPS:
        raise LabError('%s: role %r is not one of %s' % (where, role, ', '.join(sorted(ROLE_GROUPS))))
    nics_spec = spec.get('nics') or []
    if not isinstance(nics_spec, list) or not 1 <= len(nics_spec) <= MAX_DATA_NICS:
        raise LabError('%s: "nics" must list between 1 and %d NICs' % (where, MAX_DATA_NICS))
    nics = []
    for nic_index, nic_spec in enumerate(nics_spec):
        nic_name = 'eth%d' % nic_index
        nic_where = '%s %s' % (where, nic_name)
        segment = nic_spec.get('segment')
        if segment not in segments:
            raise LabError('%s: segment %r is not declared under "segments"' % (nic_where, segment))
        nic = {'name': nic_name, 'segment': segment, 'mac': '52:54:00:4c:%02x:%02x' % (index + 1, nic_index + 1)}
        for family in ('ipv4', 'ipv6'):
            if nic_spec.get(family):
                address = _check_allowed('%s %s' % (nic_where, family), nic_spec[family], ipaddress.ip_interface)
                prefix = segments[segment].get(family)
                if prefix and not address.network.subnet_of(ipaddress.ip_network(prefix)):
                    raise LabError('%s: %s is not inside segment %s (%s)' % (nic_where, nic_spec[family], segment, prefix))
                nic[family] = str(address)
        if 'ipv4' not in nic:
            raise LabError('%s: every data NIC needs an "ipv4" address/prefix' % nic_where)
        nics.append(nic)
    host = {'name': name, 'role': role, 'nics': nics, 'index': index,
            'groups': [str(g) for g in spec.get('groups') or []],
            'web_ports': [int(p) for p in spec.get('web_ports', [80] if role == 'real_server' else [])],
            'forwarding': bool(spec.get('forwarding', role == 'router')),
            'routes': []}
    for key in ('gateway4', 'gateway6'):
        if spec.get(key):
            gateway = _check_allowed('%s %s' % (where, key), spec[key], ipaddress.ip_address)
            if not _on_link(nics, gateway):
                raise LabError('%s: %s %s is not on any of its NICs\' subnets' % (where, key, gateway))
            host[key] = str(gateway)
    for route in spec.get('routes') or []:
        destination = _check_allowed('%s route' % where, route.get('to', ''), ipaddress.ip_network)
        via = _check_allowed('%s route to %s' % (where, destination), route.get('via', ''), ipaddress.ip_address)
        if not _on_link(nics, via):
            raise LabError('%s: route to %s goes via %s, which is not on any of its NICs\' subnets' % (where, destination, via))
        host['routes'].append({'to': str(destination), 'via': str(via)})
    return host


def _on_link(nics, address):
    return any(nic.get(family) and address in ipaddress.ip_interface(nic[family]).network
               for nic in nics for family in ('ipv4', 'ipv6'))


# --------------------------------------------------------------------------- image

def apt_mirror(apt_dir='/etc/apt'):
    """Return the Debian mirror apt already uses on this machine (deb822 or one-line style)."""
    if os.environ.get('LVS_LAB_MIRROR'):
        return os.environ['LVS_LAB_MIRROR']
    candidates = []
    for path in sorted(glob.glob(os.path.join(apt_dir, 'sources.list.d', '*.sources'))):
        with open(path) as handle:
            for stanza in re.split(r'\n\s*\n', handle.read()):
                fields = {}
                for line in stanza.splitlines():
                    if line.startswith('#') or ':' not in line or line[0].isspace():
                        continue
                    key, value = line.split(':', 1)
                    fields[key.strip().lower()] = value.split()
                if 'deb' in fields.get('types', []) and fields.get('enabled', ['yes'])[0] != 'no':
                    candidates += [(uri, suite) for uri in fields.get('uris', []) for suite in fields.get('suites', [])]
    for path in [os.path.join(apt_dir, 'sources.list')] + sorted(glob.glob(os.path.join(apt_dir, 'sources.list.d', '*.list'))):
        if os.path.isfile(path):
            with open(path) as handle:
                for line in handle:
                    words = re.sub(r'\[[^]]*\]', '', line.split('#', 1)[0]).split()
                    if len(words) >= 3 and words[0] == 'deb':
                        candidates.append((words[1], words[2]))
    for uri, suite in candidates:
        # The main archive carries the plain suite (bookworm); -security/-updates mirrors do not.
        if '-' not in suite and not uri.rstrip('/').endswith('-security'):
            return uri
    raise LabError('no Debian mirror found in %s/sources.list or %s/sources.list.d; set LVS_LAB_MIRROR to one' % (apt_dir, apt_dir))


def recipe_hash():
    """Hash of everything that shapes the base image: rebuilding is needed only when it changes."""
    digest = hashlib.sha256()
    for root, dirs, files in os.walk(IMAGE_RECIPE_DIR):
        dirs.sort()
        for filename in sorted(files):
            path = os.path.join(root, filename)
            executable = b'x' if os.access(path, os.X_OK) else b'-'
            digest.update(os.path.relpath(path, IMAGE_RECIPE_DIR).encode() + executable + b'\0')
            with open(path, 'rb') as handle:
                digest.update(handle.read() + b'\0')
    return digest.hexdigest()[:16]


def image_dir():
    return os.path.join(STATE_ROOT, 'images', recipe_hash())


def ensure_image(quiet_when_cached=False):
    target = image_dir()
    if os.path.isfile(os.path.join(target, 'base.raw')):
        if not quiet_when_cached:
            log('image: %s is up to date (recipe %s)' % (target, os.path.basename(target)))
        return target
    if os.geteuid() != 0:
        raise LabError('building the base image needs root (debootstrap, chroot); run `lab/labctl.py image` as root once')
    for tool in ('debootstrap', 'mkfs.ext4', 'chroot'):
        if not shutil.which(tool):
            raise LabError('%s is not installed; the image build needs debootstrap and e2fsprogs' % tool)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with open(os.path.join(os.path.dirname(target), '.build.lock'), 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.isfile(os.path.join(target, 'base.raw')):
            return target
        mirror = apt_mirror()
        log('image: building recipe %s from the mirror apt uses (%s) ...' % (os.path.basename(target), mirror))
        started = time.monotonic()
        build_log = target + '.log'
        with open(build_log, 'w') as output:
            result = subprocess.run(['sh', os.path.join(IMAGE_RECIPE_DIR, 'build.sh'), target, mirror],
                                    stdout=output, stderr=subprocess.STDOUT, check=False)
        if result.returncode != 0:
            raise LabError('image build failed (exit %d); last lines of %s:\n%s' % (result.returncode, build_log, tail(build_log, 25)))
        log('image: built in %.0f s -> %s' % (time.monotonic() - started, target))
    for old in glob.glob(os.path.join(os.path.dirname(target), '*')):
        if os.path.isdir(old) and old != target and not _image_in_use(old):
            shutil.rmtree(old, ignore_errors=True)
            if os.path.isfile(old + '.log'):
                os.unlink(old + '.log')
    return target


def _image_in_use(path):
    for state_file in glob.glob(os.path.join(STATE_ROOT, '*', 'state.json')):
        with open(state_file) as handle:
            if json.load(handle).get('image') == path:
                return True
    return False


# --------------------------------------------------------------------------- helpers

def tail(path, lines):
    try:
        with open(path, 'rb') as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 16384))
            text = handle.read().decode('utf-8', 'replace')
    except OSError:
        return '(no %s)' % path
    return '\n'.join(text.splitlines()[-lines:])


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
        if not os.path.exists('/proc/%d' % pid) or _is_zombie(pid):
            return
        time.sleep(0.1)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    # Gone for real before the caller reuses its files or boots the VM again (a QEMU still
    # exiting keeps its pid file valid, and boot_host would take it for the new VM).
    deadline = time.monotonic() + KILLED_EXIT_TIMEOUT
    while time.monotonic() < deadline and os.path.exists('/proc/%d' % pid) and not _is_zombie(pid):
        time.sleep(0.05)


def _proc_stat(pid):
    """The fields of /proc/<pid>/stat after the command name (the first is the state), or None."""
    try:
        with open('/proc/%d/stat' % pid) as handle:
            return handle.read().rsplit(')', 1)[1].split()
    except (OSError, IndexError):
        return None


def _is_zombie(pid):
    fields = _proc_stat(pid)
    return not fields or fields[0] == 'Z'


def cpu_seconds(pid):
    """CPU time (user + system) the process has used, in seconds."""
    fields = _proc_stat(pid)
    if not fields:
        return 0.0
    # utime and stime, fields 14 and 15 of proc(5); fields[0] is field 3.
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


class Instance:
    """Paths and state of one running (or stopped) lab instance under .lab/<name>/."""

    def __init__(self, name):
        if not HOSTNAME_RE.match(name) and not re.match(r'^[a-z0-9][a-z0-9_.-]{0,40}$', name):
            raise LabError('instance name %r must be lower-case letters, digits, ".", "_" or "-"' % name)
        self.name = name
        self.dir = os.path.join(STATE_ROOT, name)
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


# --------------------------------------------------------------------------- acceleration

def choose_accelerator(image):
    """KVM only when a guest really boots under it here; otherwise TCG.

    /dev/kvm existing is not enough: on some hosts Debian's kernel hangs under KVM. The
    probe boots the lab kernel without a root disk under KVM and waits for its expected
    panic; the answer is cached per kernel.
    """
    forced = os.environ.get('LVS_LAB_ACCEL', 'auto')
    if forced in ('kvm', 'tcg'):
        return forced
    if not os.access('/dev/kvm', os.R_OK | os.W_OK):
        return 'tcg'
    with open(os.path.join(image, 'vmlinux'), 'rb') as kernel:
        # Keyed by kernel, not by image: recipe changes that keep the kernel skip the probe.
        cache = os.path.join(STATE_ROOT, 'accel-probe-%s.json' % hashlib.sha256(kernel.read()).hexdigest()[:16])
    if os.path.isfile(cache):
        with open(cache) as handle:
            return json.load(handle)['accel']
    console = cache[:-len('.json')] + '.console'
    argv = ['qemu-system-x86_64', '-accel', 'kvm', '-cpu', 'host', '-m', '256', '-nodefaults', '-no-user-config',
            '-display', 'none', '-no-reboot', '-kernel', os.path.join(image, 'vmlinux'),
            '-append', 'console=ttyS0 panic=-1 root=/dev/nonexistent', '-serial', 'file:' + console]
    accel = 'tcg'
    try:
        result = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=KVM_PROBE_TIMEOUT, check=False)
        if result.returncode == 0 and 'Kernel panic' in tail(console, 40):
            accel = 'kvm'
    except subprocess.TimeoutExpired:
        pass
    with open(cache, 'w') as handle:
        json.dump({'accel': accel}, handle)
    log('accelerator: %s (KVM probe %s)' % (accel, 'booted' if accel == 'kvm' else 'did not boot'))
    return accel


# --------------------------------------------------------------------------- VMs

# Policy routing table of the management NIC: SSH replies leave through it (rule on its
# source address), data traffic follows the data plane's own routes in the main table.
MANAGEMENT_TABLE = 100
# What the image's lvs-lab-identity unpacks; bump with lab/image/build.sh when it changes.
IDENTITY_FORMAT = 'tar'
WEB_ROOT = '/var/www/lvs-lab'


def _nic_for_next_hop(nics, next_hop):
    """Name the data NIC whose subnet holds next_hop: its route is configured there."""
    next_hop = ipaddress.ip_address(next_hop)
    for nic in nics:
        for family in ('ipv4', 'ipv6'):
            if nic.get(family) and next_hop in ipaddress.ip_interface(nic[family]).network:
                return nic['name']
    return None


def management_network_unit(host):
    address = ipaddress.ip_interface('%s/%d' % (MANAGEMENT_GUEST, MANAGEMENT_NETWORK.prefixlen))
    return '\n'.join([
        '[Match]', 'MACAddress=%s' % management_mac(host), '',
        '[Network]', 'LinkLocalAddressing=no', 'IPv6AcceptRA=no', '',
        # No prefix route in the main table: the data plane may use the rest of 192.0.2.0/24.
        '[Address]', 'Address=%s' % address, 'AddPrefixRoute=no', '',
        '[Route]', 'Destination=%s' % address.network, 'Scope=link', 'Table=%d' % MANAGEMENT_TABLE, '',
        '[RoutingPolicyRule]', 'From=%s' % address.ip, 'Table=%d' % MANAGEMENT_TABLE, 'Priority=100', '',
    ])


def data_network_unit(host, nic):
    lines = ['[Match]', 'MACAddress=%s' % nic['mac'], '', '[Network]',
             'IPv6AcceptRA=no', 'LinkLocalAddressing=ipv6', 'ConfigureWithoutCarrier=yes']
    lines += ['Address=%s' % nic[family] for family in ('ipv4', 'ipv6') if nic.get(family)]
    lines += ['Gateway=%s' % host[key] for key in ('gateway4', 'gateway6')
              if host.get(key) and _nic_for_next_hop(host['nics'], host[key]) == nic['name']]
    for route in host['routes']:
        if _nic_for_next_hop(host['nics'], route['via']) == nic['name']:
            lines += ['', '[Route]', 'Destination=%s' % route['to'], 'Gateway=%s' % route['via']]
    return '\n'.join(lines) + '\n'


def nginx_site(host):
    servers = ''.join('server {\n    listen %d;\n    listen [::]:%d;\n    root %s;\n    index index.html;\n}\n'
                      % (port, port, WEB_ROOT) for port in host['web_ports'])
    return '# Written at every boot by lvs-lab-identity from the lab topology.\n' + servers


def identity_files(topology, host, authorized_key):
    """Every file that makes a VM this host, as {absolute path: (mode, content)}.

    Rendered here rather than in the guest: unpacking a ready-made archive is the
    cheapest thing a TCG guest can do at boot.
    """
    name = host['name']
    hosts_lines = ['127.0.0.1\tlocalhost', '127.0.1.1\t%s' % name, '::1\tlocalhost ip6-localhost ip6-loopback']
    hosts_lines += ['%s\t%s' % (address, other) for other, address in sorted(topology['host_addresses'].items())]
    # Only routers get forwarding turned on; other hosts keep the kernel default (0) and no
    # line at all: this runs at every boot, possibly after systemd-sysctl, and must not undo
    # the ip_forward a director's own sysctl.d file sets (LVS-NAT after a reboot).
    sysctls = ('net.ipv4.ip_forward = 1\nnet.ipv6.conf.all.forwarding = 1\n' if host['forwarding'] else '')
    files = {
        '/etc/hostname': (0o644, name + '\n'),
        '/etc/hosts': (0o644, '\n'.join(hosts_lines) + '\n'),
        '/root/.ssh/authorized_keys': (0o600, authorized_key.strip() + '\n'),
        '/run/systemd/network/05-lvs-lab-mgmt0.network': (0o644, management_network_unit(host)),
        '/run/lvs-lab/sysctl.conf': (0o644, sysctls),
    }
    for nic in host['nics']:
        files['/run/systemd/network/10-lvs-lab-%s.network' % nic['name']] = (0o644, data_network_unit(host, nic))
    if host['web_ports']:
        files['/etc/nginx/conf.d/lvs-lab.conf'] = (0o644, nginx_site(host))
        files[WEB_ROOT + '/index.html'] = (0o644, name + '\n')
    return files


def write_identity_archive(path, files):
    """Write the files as a tar archive the guest unpacks over / (root-owned, fixed modes)."""
    directories = {'/root/.ssh': 0o700}
    with tarfile.open(path, 'w', format=tarfile.GNU_FORMAT) as archive:
        for directory, mode in directories.items():
            entry = tarfile.TarInfo(directory.lstrip('/'))
            entry.type, entry.mode = tarfile.DIRTYPE, mode
            archive.addfile(entry)
        for file_path, (mode, content) in sorted(files.items()):
            data = content.encode()
            entry = tarfile.TarInfo(file_path.lstrip('/'))
            entry.size, entry.mode, entry.mtime = len(data), mode, int(time.time())
            archive.addfile(entry, io.BytesIO(data))


def management_mac(host):
    return '52:54:00:4c:%02x:f0' % (host['index'] + 1)


def qemu_argv(instance, state, host):
    name = host['name']
    image = state['image']
    port = state['ports'][name]
    argv = ['qemu-system-x86_64', '-name', 'lvs-lab-%s-%s' % (instance.name, name),
            '-machine', 'pc', '-m', str(VM_MEMORY_MIB), '-smp', '1',
            '-nodefaults', '-no-user-config', '-display', 'none', '-vga', 'none',
            '-kernel', os.path.join(image, 'vmlinux'), '-initrd', os.path.join(image, 'initrd.img'),
            '-append', KERNEL_CMDLINE,
            '-drive', 'file=%s,if=virtio,format=qcow2,discard=unmap' % instance.path('%s.qcow2' % name),
            '-device', 'virtio-rng-pci',
            '-fw_cfg', 'name=opt/lvs/identity,file=%s' % instance.path('%s.identity.tar' % name),
            '-chardev', 'file,id=console,path=%s,append=on' % instance.path('consoles', '%s.log' % name),
            '-serial', 'chardev:console',
            '-pidfile', instance.path('%s.pid' % name), '-daemonize']
    if state['accel'] == 'kvm':
        argv += ['-accel', 'kvm', '-cpu', 'host']
    else:
        # A bounded translation cache keeps each TCG VM's host memory close to its RAM size.
        # qemu64: no emulated AES-NI/AVX, so udev loads no SIMD crypto modules whose setup
        # costs minutes of emulation per boot on a loaded host.
        argv += ['-accel', 'tcg,tb-size=256', '-cpu', 'qemu64']
    # romfile= (on every NIC): the kernel is loaded directly, so the NICs' iPXE boot ROMs,
    # which the BIOS would otherwise load and run under emulation, are never needed.
    for nic in host['nics']:
        netdev = 'data%s' % nic['name'][3:]
        argv += ['-netdev', 'vde,id=%s,sock=%s' % (netdev, instance.path('switch-%s' % nic['segment'])),
                 '-device', 'virtio-net-pci,netdev=%s,mac=%s,addr=0x%x,romfile=' % (netdev, nic['mac'], FIRST_DATA_PCI_SLOT + int(nic['name'][3:]))]
    # restrict=on: the guest can never reach anything through QEMU's user network, only
    # the forwarded SSH port on 127.0.0.1 reaches the guest.
    argv += ['-netdev', 'user,id=mgmt,restrict=on,ipv6=off,net=%s,host=%s,dns=%s,dhcpstart=%s,hostfwd=tcp:127.0.0.1:%d-%s:22'
             % (MANAGEMENT_NETWORK, MANAGEMENT_HOST, MANAGEMENT_DNS, MANAGEMENT_GUEST, port, MANAGEMENT_GUEST),
             '-device', 'virtio-net-pci,netdev=mgmt,mac=%s,addr=0x%x,romfile=' % (management_mac(host), MANAGEMENT_PCI_SLOT)]
    return argv


def start_switch(instance, segment):
    if instance.switch_pid(segment):
        return
    sock = instance.path('switch-%s' % segment)
    shutil.rmtree(sock, ignore_errors=True)
    result = subprocess.run(['vde_switch', '--sock', sock, '--daemon', '--pidfile', instance.path('switch-%s.pid' % segment)],
                            stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise LabError('vde_switch for segment %s failed: %s' % (segment, result.stderr.strip()))
    # vde_switch daemonizes before it creates its control socket: on a busy host QEMU can
    # start first and fail with "Could not open vde" (seen in CI), so wait for the socket.
    control = os.path.join(sock, 'ctl')
    deadline = time.monotonic() + 30
    while not os.path.exists(control):
        if time.monotonic() > deadline:
            raise LabError('vde_switch for segment %s did not create %s within 30 s' % (segment, control))
        time.sleep(0.1)


def start_vm(instance, state, host):
    name = host['name']
    if instance.vm_pid(name):
        return False
    format_file = os.path.join(state['image'], 'identity-format')
    if not os.path.isfile(format_file) or open(format_file).read().strip() != IDENTITY_FORMAT:
        raise LabError('instance %s was booted from an older lab image that reads another identity format; '
                       'run `down %s` and `up` again' % (instance.name, instance.name))
    overlay = instance.path('%s.qcow2' % name)
    if not os.path.isfile(overlay):
        subprocess.run(['qemu-img', 'create', '-q', '-f', 'qcow2', '-b', os.path.join(state['image'], 'base.raw'), '-F', 'raw', overlay],
                       check=True)
    with open(instance.path('consoles', '%s.log' % name), 'a') as console:
        console.write('\n===== lvs-lab: starting %s at %s =====\n' % (name, time.strftime('%Y-%m-%d %H:%M:%S')))
    for attempt in range(3):
        result = subprocess.run(qemu_argv(instance, state, host), stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False)
        if result.returncode == 0:
            return True
        if 'hostfwd' in result.stderr and attempt < 2:
            # Someone took the port between our probe and QEMU's bind: pick another.
            state['ports'][name] = free_port()
            instance.save_state(state)
            continue
        raise LabError('QEMU failed to start %s: %s' % (name, result.stderr.strip()))
    return True


def acquire_boot_slot():
    """Wait for one of the machine-wide boot slots and return its locked file.

    A TCG boot is CPU-bound: ten guests booting at once on two cores all crawl past their
    own timeouts, while the same guests booted a few at a time each come up quickly. The
    slot is a flock, so it is released when the holder exits, whatever happens to it.
    """
    slots_dir = os.path.join(STATE_ROOT, 'boot-slots')
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


class BootStuck(LabError):
    pass


def console_tail(instance, name):
    return tail(instance.path('consoles', '%s.log' % name), 30)


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


def write_inventory(instance, topology, state):
    groups = {group: {'hosts': {}} for group in sorted(ROLE_GROUPS.values())}
    hosts = {}
    for host in topology['hosts']:
        name = host['name']
        hostvars = {
            'ansible_host': '127.0.0.1',
            'ansible_port': state['ports'][name],
            'ansible_user': 'root',
            'ansible_ssh_private_key_file': os.path.abspath(instance.key),
            'ansible_ssh_common_args': SSH_OPTIONS,
            'ansible_python_interpreter': '/usr/bin/python3',
            # Tests read kernel state with ansible.builtin.raw (no Python on the guest: about
            # 0.3 s a read instead of 5 s for a module under TCG). Without a tty, raw keeps
            # the guest's stdout apart from its stderr and without carriage returns.
            'ansible_ssh_use_tty': False,
            'ansible_timeout': SSH_CONNECT_TIMEOUT,
            'lab_instance': instance.name,
            'lab_topology': topology['name'],
            'lab_role': host['role'],
            'lab_nics': [{k: nic[k] for k in ('name', 'segment', 'mac', 'ipv4', 'ipv6') if k in nic} for nic in host['nics']],
            'lab_web_ports': host['web_ports'],
        }
        for key, var in (('gateway4', 'lab_default_gateway'), ('gateway6', 'lab_default_gateway6')):
            if host.get(key):
                hostvars[var] = host[key]
        if host['routes']:
            hostvars['lab_routes'] = host['routes']
        hosts[name] = hostvars
        for group in [ROLE_GROUPS[host['role']]] + host['groups']:
            groups.setdefault(group, {'hosts': {}})['hosts'][name] = None
    inventory = {'all': {'hosts': hosts, 'children': groups}}
    if topology['inventory_vars']:
        inventory['all']['vars'] = topology['inventory_vars']
    temporary = instance.inventory + '.tmp'
    with open(temporary, 'w') as handle:
        handle.write('# Generated by lab/labctl.py for lab instance %s (topology %s); rewritten by every `up`.\n'
                     % (instance.name, topology['name']))
        yaml.safe_dump(inventory, handle, default_flow_style=False, sort_keys=False)
    os.replace(temporary, instance.inventory)


# --------------------------------------------------------------------------- commands

def cmd_image(args):
    started = time.monotonic()
    ensure_image()
    log('image: done in %.1f s' % (time.monotonic() - started))


def cmd_up(args):
    started = time.monotonic()
    topology = load_topology(args.topology)
    instance = Instance(args.name or topology['name'])
    image = ensure_image(quiet_when_cached=True)
    with instance.lock():
        state = instance.load_state()
        if state and state['topology'] != topology['path']:
            raise LabError('instance %s already runs topology %s; run `down %s` first or pick another --name'
                           % (instance.name, state['topology'], instance.name))
        if state and state['image'] != image and any(instance.vm_pid(h['name']) for h in topology['hosts']):
            log('note: instance %s still runs an older image; `down` and `up` again to use the new one' % instance.name)
            image = state['image']
        os.makedirs(instance.path('consoles'), exist_ok=True)
        if not os.path.isfile(instance.key):
            subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'lvs-lab-%s' % instance.name, '-f', instance.key], check=True)
        if not state:
            state = {'topology': topology['path'], 'image': image, 'ports': {}, 'key': instance.key,
                     'accel': choose_accelerator(image)}
        for host in topology['hosts']:
            if host['name'] not in state['ports']:
                port = free_port()
                while port in state['ports'].values():
                    port = free_port()
                state['ports'][host['name']] = port
        instance.save_state(state)
        for segment in topology['segments']:
            start_switch(instance, segment)
        for host in topology['hosts']:
            with open(state['key'] + '.pub') as public_key:
                files = identity_files(topology, host, public_key.read())
            write_identity_archive(instance.path('%s.identity.tar' % host['name']), files)
        running = [host['name'] for host in topology['hosts'] if instance.vm_pid(host['name'])]
        log('lab %s: booting %d host(s) (%s, %d MiB each, at most %d booting on this machine at once), %d already running'
            % (instance.name, len(topology['hosts']) - len(running), state['accel'], VM_MEMORY_MIB, BOOT_SLOTS, len(running)))
        with concurrent.futures.ThreadPoolExecutor(max_workers=len(topology['hosts'])) as pool:
            futures = {pool.submit(boot_host, instance, state, host): host['name'] for host in topology['hosts']}
            try:
                ready = {futures[f]: f.result() - started for f in concurrent.futures.as_completed(futures)}
            except LabError as error:
                raise LabError('%s\n(the other VMs of lab %s stay up for inspection; `down %s` stops them)'
                               % (error, instance.name, instance.name))
        write_inventory(instance, topology, state)
    for name in sorted(ready, key=ready.get):
        log('  %-10s ssh -p %-5d ready at %5.1f s' % (name, state['ports'][name], ready[name]))
    log('lab %s: %d host(s) SSH-reachable in %.1f s; inventory: %s'
        % (instance.name, len(topology['hosts']), time.monotonic() - started, instance.inventory))


def cmd_down(args):
    started = time.monotonic()
    instance = Instance(args.name)
    if not os.path.isdir(instance.dir):
        log('lab %s: not running' % instance.name)
        return
    with instance.lock():
        stopped = 0
        vm_cpu = {}
        for pidfile in glob.glob(instance.path('*.pid')):
            pid = read_pid(pidfile, instance.dir)
            if pid:
                if not os.path.basename(pidfile).startswith('switch-'):
                    vm_cpu[os.path.basename(pidfile)[:-4]] = cpu_seconds(pid)
                stop_pid(pid)
                stopped += 1
        for leftover in os.listdir(instance.dir):
            if leftover in ('consoles', 'lock'):
                continue
            path = instance.path(leftover)
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                os.unlink(path)
        os.unlink(instance.path('lock'))
    if vm_cpu:
        # What the lab cost the machine: with two cores shared by every lab, the sum decides
        # how long the whole test run takes.
        log('lab %s: CPU seconds its VMs used since QEMU started them: %.0f (%s)'
            % (instance.name, sum(vm_cpu.values()), ', '.join('%s %.0f' % item for item in sorted(vm_cpu.items()))))
    log('lab %s: stopped %d process(es) in %.1f s; console logs kept in %s'
        % (instance.name, stopped, time.monotonic() - started, instance.path('consoles')))


def cmd_status(args):
    names = [args.name] if args.name else sorted(os.path.basename(os.path.dirname(p)) for p in glob.glob(os.path.join(STATE_ROOT, '*', 'state.json')))
    if not names:
        log('no lab instance is up')
    for name in names:
        instance = Instance(name)
        state = instance.load_state()
        if not state:
            log('lab %s: down' % name)
            continue
        log('lab %s (topology %s, %s): inventory %s' % (name, os.path.basename(state['topology'])[:-4], state['accel'], instance.inventory))
        for host, port in sorted(state['ports'].items()):
            pid = instance.vm_pid(host)
            log('  %-10s %-8s ssh port %d%s' % (host, 'running' if pid else 'stopped', port, ' pid %d' % pid if pid else ''))


def _instance_host(args):
    instance = Instance(args.name)
    state = instance.load_state()
    if not state:
        raise LabError('lab %s is not up' % args.name)
    topology = load_topology(state['topology'])
    hosts = {h['name']: h for h in topology['hosts']}
    if args.host not in hosts:
        raise LabError('lab %s has no host %r; hosts: %s' % (args.name, args.host, ', '.join(hosts)))
    return instance, state, hosts[args.host]


def cmd_poweroff(args):
    instance, state, host = _instance_host(args)
    pid = instance.vm_pid(host['name'])
    if not pid:
        log('%s: already powered off' % host['name'])
        return
    # SIGKILL is a power cut: the guest gets no chance to shut down (HA failover tests).
    os.kill(pid, signal.SIGKILL)
    while os.path.exists('/proc/%d' % pid) and not _is_zombie(pid):
        time.sleep(0.05)
    os.unlink(instance.path('%s.pid' % host['name']))
    log('%s: powered off' % host['name'])


def cmd_start(args):
    started = time.monotonic()
    instance, state, host = _instance_host(args)
    with instance.lock():
        if instance.vm_pid(host['name']):
            log('%s: already running' % host['name'])
            return
        boot_host(instance, state, host)
    log('%s: SSH-reachable in %.1f s' % (host['name'], time.monotonic() - started))


def cmd_ssh(args):
    instance, state, host = _instance_host(args)
    argv = instance.ssh_argv(state['ports'][host['name']], batch=bool(args.command))
    if not args.command:
        argv.insert(1, '-t')
    os.execvp('ssh', argv + args.command)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    commands = parser.add_subparsers(dest='command', required=True)
    commands.add_parser('image', help='build the base image unless the cached one matches the recipe').set_defaults(func=cmd_image)
    up = commands.add_parser('up', help='boot a topology (safe to run again)')
    up.add_argument('topology', help='name of lab/topologies/<name>.yml or a path to a topology file')
    up.add_argument('--name', help='instance name (default: the topology name)')
    up.set_defaults(func=cmd_up)
    down = commands.add_parser('down', help='stop every VM and switch of an instance')
    down.add_argument('name')
    down.set_defaults(func=cmd_down)
    status = commands.add_parser('status', help='show instances and their VMs')
    status.add_argument('name', nargs='?')
    status.set_defaults(func=cmd_status)
    for command, func, text in (('poweroff', cmd_poweroff, 'hard power-off one VM'), ('start', cmd_start, 'boot one powered-off VM')):
        sub = commands.add_parser(command, help=text)
        sub.add_argument('name')
        sub.add_argument('host')
        sub.set_defaults(func=func)
    ssh = commands.add_parser('ssh', help='open a shell (or run a command) on a VM')
    ssh.add_argument('name')
    ssh.add_argument('host')
    ssh.add_argument('command', nargs=argparse.REMAINDER)
    ssh.set_defaults(func=cmd_ssh)
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except LabError as error:
        print('labctl: error: %s' % error, file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
