# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The accelerator the lab's VMs run under: KVM when a guest really boots under it here, TCG otherwise."""
from __future__ import absolute_import, division, print_function

import hashlib
import json
import os
import subprocess

from . import paths
from .report import log, tail

__metaclass__ = type

# Under KVM the probe kernel panics within seconds; the bound only stops one that hangs. A
# probe cut short on a busy host would cache TCG for good, so it is generous.
KVM_PROBE_TIMEOUT = 120


def choose_accelerator(images):
    """KVM only when every kernel the instance boots passes the probe (choose_kernel_accelerator)."""
    return 'kvm' if all(choose_kernel_accelerator(image) == 'kvm' for image in sorted(set(images))) else 'tcg'


def choose_kernel_accelerator(image):
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
        cache = os.path.join(paths.STATE_ROOT, 'accel-probe-%s.json' % hashlib.sha256(kernel.read()).hexdigest()[:16])
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
