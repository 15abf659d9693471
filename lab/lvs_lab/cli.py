# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Real-kernel LVS lab: QEMU guests on vde_switch segments, described by topology files.

The controller's own kernel has no IPVS, so every test that touches the kernel runs in
guests booted from one Debian base image (Debian's kernel has ip_vs and ipip). Each guest
gets its identity (hostname, SSH key, addresses, routes, web ports) through QEMU fw_cfg and
applies it at every boot, so a reboot brings the data centre's base configuration back.

Subcommands: image, up, down, status, poweroff, start, ssh, validate, template. Run with --help
for details.
Everything an instance owns (pids, sockets, overlays, consoles, keys, inventory) lives in
.lab/<instance>/ so two instances of different names never collide.
"""
from __future__ import absolute_import, division, print_function

import argparse
import concurrent.futures
import glob
import os
import shutil
import signal
import subprocess
import sys
import time

from . import paths
from .accel import choose_accelerator
from .boot import BOOT_SLOTS, boot_host
from .identity import identity_files, write_identity_archive
from .image import chosen_release, ensure_image, wanted_host_images
from .instance import Instance, is_zombie, cpu_seconds, free_port, host_release, read_pid, record_host_images, stop_pid
from .inventory import write_inventory
from .qemu import VM_MEMORY_MIB, start_switch
from .report import LabError, log
from .topology import RELEASES, load_topology, shipped_topologies

__metaclass__ = type

TOPOLOGY_HELP = 'a shipped topology (%s) or the path of a topology file' % ', '.join(shipped_topologies())


def cmd_image(args):
    started = time.monotonic()
    for release in [args.release] if args.release else RELEASES:
        ensure_image(release)
    log('image: done in %.1f s' % (time.monotonic() - started))


def cmd_up(args):
    started = time.monotonic()
    topology = load_topology(args.topology)
    instance = Instance(args.name or topology['name'])
    release = chosen_release(args.release)
    wanted = wanted_host_images(topology, release)
    with instance.lock():
        state = instance.load_state()
        if state and state['topology'] != topology['path']:
            raise LabError('instance %s already runs topology %s; run `down %s` first or pick another --name'
                           % (instance.name, state['topology'], instance.name))
        os.makedirs(instance.path('consoles'), exist_ok=True)
        if not os.path.isfile(instance.key):
            subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'lvs-lab-%s' % instance.name, '-f', instance.key], check=True)
        if not state:
            state = {'topology': topology['path'], 'release': release, 'hosts': {}, 'ports': {}, 'key': instance.key,
                     'accel': choose_accelerator(host['image'] for host in wanted.values())}
        record_host_images(instance, state, wanted)
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
    names = [args.name] if args.name else sorted(os.path.basename(os.path.dirname(p)) for p in glob.glob(os.path.join(paths.STATE_ROOT, '*', 'state.json')))
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
            log('  %-10s %-8s %-9s ssh port %d%s' % (host, 'running' if pid else 'stopped', host_release(state, host), port,
                                                     ' pid %d' % pid if pid else ''))


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
    while os.path.exists('/proc/%d' % pid) and not is_zombie(pid):
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


def cmd_validate(args):
    topology = load_topology(args.topology)
    log('topology %s (%s): valid; %d host(s) on %d segment(s)'
        % (topology['name'], topology['path'], len(topology['hosts']), len(topology['segments'])))
    for host in topology['hosts']:
        log('  %-10s %-11s %s' % (host['name'], host['role'], ' '.join('%s:%s' % (nic['segment'], nic['ipv4']) for nic in host['nics'])))


def cmd_template(args):
    """Copy the Molecule scenario template into a new directory, never over a file that exists."""
    if os.path.exists(args.directory) and not os.path.isdir(args.directory):
        raise LabError('%s is a file; give the directory of a new Molecule scenario (molecule/<scenario>)' % args.directory)
    names = sorted(os.listdir(paths.TEMPLATE_DIR))
    taken = [name for name in names if os.path.lexists(os.path.join(args.directory, name))]
    if taken:
        raise LabError('%s already holds %s; pick a new scenario directory' % (args.directory, ', '.join(taken)))
    os.makedirs(args.directory, exist_ok=True)
    for name in names:
        shutil.copyfile(os.path.join(paths.TEMPLATE_DIR, name), os.path.join(args.directory, name))
    log('%s: Molecule scenario written (%s); see its molecule.yml to point it at your project'
        % (args.directory, ', '.join(names)))


def main(argv=None, prog=None):
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.partition('\n\n')[0])
    commands = parser.add_subparsers(dest='command', required=True)
    image = commands.add_parser('image', help='build the base images unless the cached ones match the recipe')
    image.add_argument('--release', choices=RELEASES, help='build only this release\'s image (default: every release)')
    image.set_defaults(func=cmd_image)
    up = commands.add_parser('up', help='boot a topology (safe to run again)')
    up.add_argument('topology', help=TOPOLOGY_HELP)
    up.add_argument('--name', help='instance name (default: the topology name)')
    up.add_argument('--release', choices=RELEASES,
                    help='Debian release of the hosts whose topology entry names none (default: $LVS_LAB_RELEASE, else %s)' % RELEASES[0])
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
    validate = commands.add_parser('validate', help='check a topology file without booting anything')
    validate.add_argument('topology', help=TOPOLOGY_HELP)
    validate.set_defaults(func=cmd_validate)
    template = commands.add_parser('template', help='write the Molecule scenario template into a new directory (molecule/<scenario>)')
    template.add_argument('directory')
    template.set_defaults(func=cmd_template)
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except LabError as error:
        print('%s: error: %s' % (parser.prog, error), file=sys.stderr)
        return 1
    return 0
