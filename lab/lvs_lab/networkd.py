# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The systemd-networkd units of a guest: its management NIC and its data NICs."""
from __future__ import absolute_import, division, print_function

import ipaddress

from .topology import MANAGEMENT_GUEST, MANAGEMENT_NETWORK, management_mac

__metaclass__ = type

# Policy routing table of the management NIC: SSH replies leave through it (rule on its
# source address), data traffic follows the data plane's own routes in the main table.
MANAGEMENT_TABLE = 100


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
