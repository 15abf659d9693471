# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A guest's identity: every file that makes a VM this host, packed for QEMU fw_cfg."""
from __future__ import absolute_import, division, print_function

import io
import tarfile
import time

from .networkd import data_network_unit, management_network_unit
from .nginx import WEB_ROOT, nginx_site

__metaclass__ = type

# What the image's lvs-lab-identity unpacks; bump with lab/image/build.sh when it changes.
IDENTITY_FORMAT = 'tar'


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
