# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Give a lab VM its identity at every boot.

All VMs boot the same base image; lab/labctl.py hands each one a JSON document through
QEMU's fw_cfg (opt/lvs/identity). This runs before systemd-networkd and sshd and writes
only runtime or regenerated files, so the base addressing survives any reboot and a VM
never keeps a stale identity.
"""
from __future__ import absolute_import, division, print_function

import ipaddress
import json
import os
import socket
import subprocess
import sys

__metaclass__ = type

FW_CFG_IDENTITY = '/sys/firmware/qemu_fw_cfg/by_name/opt/lvs/identity/raw'
NETWORK_DIR = '/run/systemd/network'
WEB_ROOT = '/var/www/lvs-lab'
NGINX_SITE = '/etc/nginx/conf.d/lvs-lab.conf'
# Policy routing table for the management NIC: SSH replies leave through it, data traffic
# follows the data plane's own default route.
MANAGEMENT_TABLE = 100


def write_file(path, content, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as handle:
        handle.write(content)
    os.chmod(path, mode)


def read_identity():
    subprocess.run(['modprobe', 'qemu_fw_cfg'], check=False)
    try:
        with open(FW_CFG_IDENTITY) as handle:
            return json.load(handle)
    except FileNotFoundError:
        return None


def nic_for_gateway(nics, gateway):
    """Name the data NIC whose subnet holds the gateway, so the route is attached there."""
    gateway = ipaddress.ip_address(gateway)
    for nic in nics:
        for key in ('ipv4', 'ipv6'):
            if nic.get(key) and gateway in ipaddress.ip_interface(nic[key]).network:
                return nic['name']
    return None


def management_network(management):
    address = ipaddress.ip_interface(management['address'])
    return '\n'.join([
        '[Match]',
        'MACAddress=%s' % management['mac'],
        '',
        '[Network]',
        'LinkLocalAddressing=no',
        'IPv6AcceptRA=no',
        '',
        '[Address]',
        'Address=%s' % address,
        'AddPrefixRoute=no',
        '',
        '[Route]',
        'Destination=%s' % address.network,
        'Scope=link',
        'Table=%d' % MANAGEMENT_TABLE,
        '',
        '[RoutingPolicyRule]',
        'From=%s' % address.ip,
        'Table=%d' % MANAGEMENT_TABLE,
        'Priority=100',
        '',
    ])


def data_network(nic, identity):
    lines = ['[Match]', 'MACAddress=%s' % nic['mac'], '', '[Network]',
             'IPv6AcceptRA=no', 'LinkLocalAddressing=ipv6', 'ConfigureWithoutCarrier=yes']
    for key in ('ipv4', 'ipv6'):
        if nic.get(key):
            lines.append('Address=%s' % nic[key])
    for key in ('gateway4', 'gateway6'):
        gateway = identity.get(key)
        if gateway and nic_for_gateway(identity['nics'], gateway) == nic['name']:
            lines.append('Gateway=%s' % gateway)
    for route in identity.get('routes', []):
        if nic_for_gateway(identity['nics'], route['via']) == nic['name']:
            lines += ['', '[Route]', 'Destination=%s' % route['to'], 'Gateway=%s' % route['via']]
    return '\n'.join(lines) + '\n'


def apply_network(identity):
    write_file(os.path.join(NETWORK_DIR, '05-lvs-lab-mgmt0.network'), management_network(identity['management']))
    for nic in identity['nics']:
        write_file(os.path.join(NETWORK_DIR, '10-lvs-lab-%s.network' % nic['name']), data_network(nic, identity))
    forwarding = '1' if identity.get('forwarding') else '0'
    for key in ('net/ipv4/ip_forward', 'net/ipv6/conf/all/forwarding'):
        with open('/proc/sys/' + key, 'w') as handle:
            handle.write(forwarding + '\n')


def apply_names(identity):
    hostname = identity['hostname']
    write_file('/etc/hostname', hostname + '\n')
    socket.sethostname(hostname)
    lines = ['127.0.0.1\tlocalhost', '127.0.1.1\t%s' % hostname, '::1\tlocalhost ip6-localhost ip6-loopback']
    lines += ['%s\t%s' % (address, name) for name, address in sorted(identity.get('hosts', {}).items())]
    write_file('/etc/hosts', '\n'.join(lines) + '\n')
    write_file('/root/.ssh/authorized_keys', identity['authorized_key'].strip() + '\n', 0o600)
    os.chmod('/root/.ssh', 0o700)


def apply_web(identity):
    ports = identity.get('web_ports', [])
    if not ports:
        if os.path.exists(NGINX_SITE):
            os.unlink(NGINX_SITE)
        return
    write_file(os.path.join(WEB_ROOT, 'index.html'), identity['hostname'] + '\n')
    servers = ['server {\n    listen %d;\n    listen [::]:%d;\n    root %s;\n    index index.html;\n}\n'
               % (port, port, WEB_ROOT) for port in ports]
    write_file(NGINX_SITE, '# Written at every boot by lvs-lab-identity.\n' + ''.join(servers))
    # nginx stays disabled in the image: only hosts that serve pages start it.
    subprocess.run(['systemctl', 'start', '--no-block', 'nginx.service'], check=False)


def main():
    identity = read_identity()
    if identity is None:
        print('lvs-lab-identity: no identity in fw_cfg, leaving this host unconfigured')
        return 0
    apply_names(identity)
    apply_network(identity)
    apply_web(identity)
    print('lvs-lab-identity: %s configured' % identity['hostname'])
    return 0


if __name__ == '__main__':
    sys.exit(main())
