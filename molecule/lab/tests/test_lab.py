# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Verify the lab's `dr` topology from the client, the way the roles' scenarios will use it."""
import pytest

testinfra_hosts = ['client']

REAL_SERVERS = {'rs1': '192.0.2.11', 'rs2': '192.0.2.12'}


@pytest.mark.parametrize('name,address', sorted(REAL_SERVERS.items()))
def test_real_server_page_names_the_host(host, name, address):
    page = host.check_output('curl -sS --max-time 10 http://%s/', address)
    assert page.strip() == name


@pytest.mark.parametrize('name,address', sorted(REAL_SERVERS.items()))
def test_real_server_page_over_ipv6(host, name, address):
    ipv6 = '2001:db8:0:2::%s' % address.rsplit('.', 1)[1]
    page = host.check_output('curl -sS --max-time 10 http://[%s]/', ipv6)
    assert page.strip() == name


def test_client_reaches_the_lan_through_the_router(host):
    route = host.check_output('ip -4 route get 192.0.2.10')
    assert 'via 203.0.113.1 dev eth0' in route
    assert host.run('ping -c 2 -W 3 192.0.2.10').rc == 0
    # The router is the first hop: a TTL of 1 expires there.
    expired = host.run('ping -c 1 -W 3 -t 1 192.0.2.10')
    assert expired.rc != 0 and 'From 203.0.113.1' in expired.stdout


def test_management_nic_is_not_the_data_path(host):
    assert host.interface('mgmt0').exists
    assert 'mgmt0' not in host.check_output('ip -4 route show table main')
    assert host.check_output('ip -4 route show default') == 'default via 203.0.113.1 dev eth0 proto static'


def test_ip_vs_and_ipip_load_on_the_director(host):
    director = host.get_host('ansible://lvs', ansible_inventory=host.backend.ansible_inventory)
    director.check_output('modprobe ip_vs && modprobe ip_vs_wrr && modprobe ipip')
    assert director.file('/proc/net/ip_vs').exists
    assert director.interface('tunl0').exists
    assert 'IP Virtual Server' in director.check_output('ipvsadm -Ln')


def test_rebooted_real_server_has_its_base_addressing(host):
    rs1 = host.get_host('ansible://rs1', ansible_inventory=host.backend.ansible_inventory)
    assert '192.0.2.11/25' in rs1.check_output('ip -4 -o addr show dev eth0')
    assert rs1.check_output('ip -4 route show default') == 'default via 192.0.2.1 dev eth0 proto static'
    uptime = float(rs1.check_output('cut -d " " -f1 /proc/uptime'))
    assert uptime < 900, 'rs1 was not rebooted by side_effect'
