# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""QEMU and its switches: the argv of a VM, the vde_switch of a segment, starting a VM."""
from __future__ import absolute_import, division, print_function

import os
import shutil
import subprocess
import time

from .identity import IDENTITY_FORMAT
from .instance import free_port, host_images
from .report import LabError
from .topology import MANAGEMENT_DNS, MANAGEMENT_GUEST, MANAGEMENT_HOST, MANAGEMENT_NETWORK, management_mac

__metaclass__ = type

FIRST_DATA_PCI_SLOT = 3
MANAGEMENT_PCI_SLOT = 0x1f
VM_MEMORY_MIB = int(os.environ.get('LVS_LAB_MEMORY_MIB', '512'))
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


def qemu_argv(instance, state, host):
    name = host['name']
    image = host_images(state)[name]
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
    image = host_images(state)[name]
    format_file = os.path.join(image, 'identity-format')
    if not os.path.isfile(format_file) or open(format_file).read().strip() != IDENTITY_FORMAT:
        raise LabError('instance %s was booted from an older lab image that reads another identity format; '
                       'run `down %s` and `up` again' % (instance.name, instance.name))
    overlay = instance.path('%s.qcow2' % name)
    if not os.path.isfile(overlay):
        subprocess.run(['qemu-img', 'create', '-q', '-f', 'qcow2', '-b', os.path.join(image, 'base.raw'), '-F', 'raw', overlay],
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
