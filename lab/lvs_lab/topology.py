# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Topology files: read one, check it against the lab's address rules, fill in defaults."""
from __future__ import absolute_import, division, print_function

import glob
import ipaddress
import os
import re

import yaml

from .paths import TOPOLOGY_DIR
from .report import LabError

__metaclass__ = type

ALLOWED_NETWORKS = [ipaddress.ip_network(n) for n in ('192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24', '2001:db8::/32')]

# The management NIC of every VM lives here (inside QEMU's private user network, one per
# VM), so topology files may not use it.
MANAGEMENT_NETWORK = ipaddress.ip_network('192.0.2.248/29')
MANAGEMENT_HOST = '192.0.2.249'
MANAGEMENT_DNS = '192.0.2.250'
MANAGEMENT_GUEST = '192.0.2.252'
ROLE_GROUPS = {'client': 'clients', 'router': 'routers', 'director': 'directors', 'real_server': 'real_servers'}
# Debian releases the lab builds an image of (Debian 12, Debian 13). A lab instance boots the
# first unless `up --release` or $LVS_LAB_RELEASE names another; a host's `release:` in its
# topology file overrides the instance's (a cluster in the middle of an upgrade).
RELEASES = ('bookworm', 'trixie')
HOSTNAME_RE = re.compile(r'^[a-z][a-z0-9-]{0,30}$')
SEGMENT_RE = re.compile(r'^[a-z][a-z0-9_-]{0,15}$')
MAX_DATA_NICS = 8


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


def shipped_topologies():
    return sorted(os.path.basename(p)[:-4] for p in glob.glob(os.path.join(TOPOLOGY_DIR, '*.yml')))


def load_topology(name_or_path):
    """Read and validate a topology file (a shipped one by name, or any by path); return it with defaults filled in."""
    is_path = os.sep in name_or_path or name_or_path.endswith(('.yml', '.yaml'))
    path = name_or_path if is_path else os.path.join(TOPOLOGY_DIR, name_or_path + '.yml')
    if not os.path.isfile(path):
        raise LabError('unknown topology %r: expected one of %s or the path of a .yml file'
                       % (name_or_path, ', '.join(shipped_topologies())))
    with open(path) as handle:
        data = yaml.safe_load(handle) or {}
    name = os.path.splitext(os.path.basename(path))[0]
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
    release = spec.get('release')
    if release is not None and release not in RELEASES:
        raise LabError('%s: release %r is not one the lab builds an image of: %s' % (where, release, ', '.join(RELEASES)))
    host = {'name': name, 'role': role, 'nics': nics, 'index': index, 'release': release,
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


def management_mac(host):
    return '52:54:00:4c:%02x:f0' % (host['index'] + 1)
