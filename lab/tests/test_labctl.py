# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the lab controller: topology validation, apt mirror discovery, inventory, QEMU argv."""
from __future__ import absolute_import, division, print_function

import os
import shutil
import subprocess
import sys
import tarfile
import threading

import pytest
import yaml

__metaclass__ = type

LAB_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, LAB_DIR)
from lvs_lab import boot, paths  # noqa: E402  pylint: disable=wrong-import-position
from lvs_lab import image as image_module  # noqa: E402  pylint: disable=wrong-import-position
from lvs_lab.identity import identity_files, write_identity_archive  # noqa: E402  pylint: disable=wrong-import-position
from lvs_lab.image import apt_mirror  # noqa: E402  pylint: disable=wrong-import-position
from lvs_lab.instance import SSH_CONNECT_TIMEOUT, Instance, cpu_seconds, host_images, host_release, record_host_images  # noqa: E402  pylint: disable=wrong-import-position
from lvs_lab.inventory import write_inventory  # noqa: E402  pylint: disable=wrong-import-position
from lvs_lab.qemu import qemu_argv  # noqa: E402  pylint: disable=wrong-import-position
from lvs_lab.report import LabError  # noqa: E402  pylint: disable=wrong-import-position
from lvs_lab.ssh_wait import BootStuck  # noqa: E402  pylint: disable=wrong-import-position
from lvs_lab.topology import load_topology  # noqa: E402  pylint: disable=wrong-import-position

SHIPPED_TOPOLOGIES = sorted(os.path.basename(name)[:-4] for name in os.listdir(os.path.join(LAB_DIR, 'topologies')) if name.endswith('.yml'))


def write_topology(tmp_path, host_nic, segment_prefix='192.0.2.0/25', extra_host=None):
    host = {'role': 'real_server', 'nics': [dict({'segment': 'lan'}, **host_nic)]}
    host.update(extra_host or {})
    path = tmp_path / 'case.yml'
    path.write_text(yaml.safe_dump({'segments': {'lan': {'ipv4': segment_prefix}}, 'hosts': {'web01': host}}))
    return str(path)


@pytest.mark.parametrize('name', SHIPPED_TOPOLOGIES)
def test_shipped_topologies_are_valid(name):
    topology = load_topology(name)
    assert topology['hosts']
    for host in topology['hosts']:
        assert [nic['name'] for nic in host['nics']] == ['eth%d' % i for i in range(len(host['nics']))]


def test_dr_has_the_course_notes_hosts():
    topology = load_topology('dr')
    roles = {host['name']: host['role'] for host in topology['hosts']}
    assert roles == {'client': 'client', 'router': 'router', 'lvs': 'director', 'rs1': 'real_server', 'rs2': 'real_server'}
    router = [host for host in topology['hosts'] if host['name'] == 'router'][0]
    assert router['forwarding'] and router['nics'][0]['segment'] == 'lan'


def test_nat_real_servers_serve_8080_and_use_the_dip():
    topology = load_topology('nat')
    for host in topology['hosts']:
        if host['role'] == 'real_server':
            assert host['web_ports'] == [80, 8080]
            assert host['gateway4'] == '198.51.100.1'


@pytest.mark.parametrize('address', ['10.0.0.5/25', '192.168.1.10/24', '172.16.0.1/16', '8.8.8.8/32'])
def test_non_documentation_ipv4_is_refused(tmp_path, address):
    with pytest.raises(LabError, match='outside the lab address ranges'):
        load_topology(write_topology(tmp_path, {'ipv4': address}, segment_prefix='192.0.2.0/25'))


def test_non_documentation_ipv6_is_refused(tmp_path):
    with pytest.raises(LabError, match=r'web01 eth0 ipv6: fd00::5/64 is outside'):
        load_topology(write_topology(tmp_path, {'ipv4': '192.0.2.5/25', 'ipv6': 'fd00::5/64'}))


def test_private_segment_prefix_is_refused(tmp_path):
    with pytest.raises(LabError, match='segment lan ipv4: 10.0.0.0/24 is outside'):
        load_topology(write_topology(tmp_path, {'ipv4': '10.0.0.5/24'}, segment_prefix='10.0.0.0/24'))


def test_management_range_is_refused(tmp_path):
    with pytest.raises(LabError, match='192.0.2.248/29, kept for the management NIC'):
        load_topology(write_topology(tmp_path, {'ipv4': '192.0.2.253/29'}, segment_prefix='192.0.2.248/29'))


def test_address_outside_its_segment_is_refused(tmp_path):
    with pytest.raises(LabError, match='not inside segment lan'):
        load_topology(write_topology(tmp_path, {'ipv4': '198.51.100.5/25'}))


def test_gateway_not_on_link_is_refused(tmp_path):
    with pytest.raises(LabError, match='gateway4 198.51.100.1 is not on any'):
        load_topology(write_topology(tmp_path, {'ipv4': '192.0.2.5/25'}, extra_host={'gateway4': '198.51.100.1'}))


def test_unknown_role_is_refused(tmp_path):
    with pytest.raises(LabError, match="role 'balancer' is not one of"):
        load_topology(write_topology(tmp_path, {'ipv4': '192.0.2.5/25'}, extra_host={'role': 'balancer'}))


def test_required_topologies_are_shipped():
    assert {'single', 'nat', 'dr', 'routed', 'ha'} <= set(SHIPPED_TOPOLOGIES)


def test_unknown_topology_lists_the_known_ones():
    with pytest.raises(LabError, match=r"unknown topology 'nope': expected one of dr, .*single"):
        load_topology('nope')


def test_mirror_from_deb822_sources(tmp_path):
    (tmp_path / 'sources.list.d').mkdir()
    (tmp_path / 'sources.list.d' / 'debian.sources').write_text(
        'Types: deb\n# a comment\nURIs: http://mirror.example/debian-security\nSuites: bookworm-security\nComponents: main\n\n'
        'Types: deb deb-src\nURIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\nComponents: main\n')
    assert apt_mirror(str(tmp_path)) == 'http://mirror.example/debian'


def test_mirror_from_one_line_sources_list(tmp_path):
    (tmp_path / 'sources.list').write_text(
        '# comment\ndeb http://security.example/debian-security bookworm-security main\n'
        'deb [arch=amd64 signed-by=/k.gpg] http://mirror.example/debian bookworm main\n')
    assert apt_mirror(str(tmp_path)) == 'http://mirror.example/debian'


def test_no_mirror_is_a_clear_error(tmp_path):
    with pytest.raises(LabError, match='set LVS_LAB_MIRROR'):
        apt_mirror(str(tmp_path))


@pytest.fixture
def dr_instance(tmp_path, monkeypatch):
    monkeypatch.setattr(paths, 'STATE_ROOT', str(tmp_path))
    instance = Instance('lab-test')
    os.makedirs(instance.dir)
    topology = load_topology('dr')
    state = {'ports': {host['name']: 40000 + host['index'] for host in topology['hosts']}, 'release': 'bookworm',
             'hosts': {host['name']: {'release': 'bookworm', 'image': '/images/bookworm-x'} for host in topology['hosts']},
             'accel': 'tcg', 'key': instance.key}
    state['hosts']['rs1'] = {'release': 'trixie', 'image': '/images/trixie-y'}
    return instance, topology, state


def test_inventory_groups_and_host_vars(dr_instance):
    instance, topology, state = dr_instance
    topology['inventory_vars'] = {'lvs_virtual_services': [{'address': '192.0.2.100'}]}
    write_inventory(instance, topology, state)
    with open(instance.inventory) as handle:
        inventory = yaml.safe_load(handle)['all']
    assert inventory['vars'] == {'lvs_virtual_services': [{'address': '192.0.2.100'}]}
    assert sorted(inventory['children']['real_servers']['hosts']) == ['rs1', 'rs2']
    assert list(inventory['children']['directors']['hosts']) == ['lvs']
    assert list(inventory['children']['routers']['hosts']) == ['router']
    rs1 = inventory['hosts']['rs1']
    assert rs1['ansible_host'] == '127.0.0.1' and rs1['ansible_port'] == 40003 and rs1['ansible_user'] == 'root'
    assert os.path.isabs(rs1['ansible_ssh_private_key_file'])
    assert 'IdentitiesOnly=yes' in rs1['ansible_ssh_common_args'] and 'StrictHostKeyChecking=no' in rs1['ansible_ssh_common_args']
    assert rs1['ansible_ssh_use_tty'] is False, 'raw reads in the tests need stdout without stderr and CRs'
    assert rs1['ansible_timeout'] == SSH_CONNECT_TIMEOUT == 60
    assert rs1['lab_role'] == 'real_server' and rs1['lab_default_gateway'] == '192.0.2.1'
    assert rs1['lab_nics'] == [{'name': 'eth0', 'segment': 'lan', 'mac': '52:54:00:4c:04:01',
                                'ipv4': '192.0.2.11/25', 'ipv6': '2001:db8:0:2::11/64'}]
    assert 'lab_default_gateway' not in inventory['hosts']['router']
    assert rs1['lab_release'] == 'trixie' and inventory['hosts']['rs2']['lab_release'] == 'bookworm'


def test_qemu_uses_restricted_user_net_on_loopback_and_vde_only(dr_instance):
    instance, topology, state = dr_instance
    router = [host for host in topology['hosts'] if host['name'] == 'router'][0]
    argv = qemu_argv(instance, state, router)
    netdevs = [argv[i + 1] for i, arg in enumerate(argv) if arg == '-netdev']
    assert [n.split(',')[0] for n in netdevs] == ['vde', 'vde', 'user']
    assert 'restrict=on' in netdevs[2] and 'hostfwd=tcp:127.0.0.1:40001-192.0.2.252:22' in netdevs[2]
    assert not any('tap' in arg or 'bridge' in arg for arg in argv)
    devices = [argv[i + 1] for i, arg in enumerate(argv) if arg == '-device' and 'virtio-net' in argv[i + 1]]
    assert 'mac=52:54:00:4c:02:01,addr=0x3,' in devices[0] and 'addr=0x1f,' in devices[-1]
    assert all(device.endswith(',romfile=') for device in devices)
    assert argv[argv.index('-m') + 1] == '512'
    assert argv[argv.index('-kernel') + 1] == '/images/bookworm-x/vmlinux'


def test_each_host_boots_the_kernel_of_its_own_image(dr_instance):
    instance, topology, state = dr_instance
    hosts = {host['name']: host for host in topology['hosts']}
    for name, image in (('rs1', '/images/trixie-y'), ('rs2', '/images/bookworm-x')):
        argv = qemu_argv(instance, state, hosts[name])
        assert argv[argv.index('-kernel') + 1] == image + '/vmlinux'
        assert argv[argv.index('-initrd') + 1] == image + '/initrd.img'


def test_identity_of_a_dr_real_server(dr_instance):
    instance, topology, state = dr_instance
    rs1 = [host for host in topology['hosts'] if host['name'] == 'rs1'][0]
    files = identity_files(topology, rs1, 'ssh-ed25519 AAAA lab\n')
    assert files['/etc/hostname'] == (0o644, 'rs1\n')
    assert files['/root/.ssh/authorized_keys'] == (0o600, 'ssh-ed25519 AAAA lab\n')
    assert '192.0.2.12\trs2' in files['/etc/hosts'][1] and '203.0.113.10\tclient' in files['/etc/hosts'][1]
    assert files['/run/systemd/network/10-lvs-lab-eth0.network'][1] == (
        '[Match]\nMACAddress=52:54:00:4c:04:01\n\n[Network]\nIPv6AcceptRA=no\nLinkLocalAddressing=ipv6\n'
        'ConfigureWithoutCarrier=yes\nAddress=192.0.2.11/25\nAddress=2001:db8:0:2::11/64\n'
        'Gateway=192.0.2.1\nGateway=2001:db8:0:2::1\n')
    management = files['/run/systemd/network/05-lvs-lab-mgmt0.network'][1]
    assert 'AddPrefixRoute=no' in management and 'From=192.0.2.252\nTable=100' in management
    assert files['/run/lvs-lab/sysctl.conf'][1] == ''  # leaves ip_forward to the roles
    assert 'listen 80;' in files['/etc/nginx/conf.d/lvs-lab.conf'][1]
    assert files['/var/www/lvs-lab/index.html'] == (0o644, 'rs1\n')


def test_router_forwards_and_serves_no_page(dr_instance):
    instance, topology, state = dr_instance
    router = [host for host in topology['hosts'] if host['name'] == 'router'][0]
    files = identity_files(topology, router, 'key')
    assert 'net.ipv4.ip_forward = 1\nnet.ipv6.conf.all.forwarding = 1' in files['/run/lvs-lab/sysctl.conf'][1]
    assert '/etc/nginx/conf.d/lvs-lab.conf' not in files
    assert 'Gateway=' not in files['/run/systemd/network/10-lvs-lab-eth1.network'][1]


def test_extra_routes_go_on_the_nic_of_their_next_hop(tmp_path):
    path = tmp_path / 'routes.yml'
    path.write_text(yaml.safe_dump({
        'segments': {'a': {'ipv4': '192.0.2.0/26'}, 'b': {'ipv4': '198.51.100.0/26'}},
        'hosts': {'lvs': {'role': 'director', 'nics': [{'segment': 'a', 'ipv4': '192.0.2.10/26'},
                                                       {'segment': 'b', 'ipv4': '198.51.100.10/26'}],
                          'gateway4': '192.0.2.1', 'routes': [{'to': '203.0.113.0/24', 'via': '198.51.100.1'}]}}}))
    topology = load_topology(str(path))
    files = identity_files(topology, topology['hosts'][0], 'key')
    assert 'Gateway=192.0.2.1' in files['/run/systemd/network/10-lvs-lab-eth0.network'][1]
    assert '[Route]\nDestination=203.0.113.0/24\nGateway=198.51.100.1' in files['/run/systemd/network/10-lvs-lab-eth1.network'][1]


def test_identity_archive_is_root_owned_with_modes(tmp_path):
    path = str(tmp_path / 'identity.tar')
    write_identity_archive(path, {'/root/.ssh/authorized_keys': (0o600, 'key\n'), '/etc/hostname': (0o644, 'rs1\n')})
    with tarfile.open(path) as archive:
        members = {member.name: member for member in archive.getmembers()}
        assert members['root/.ssh'].isdir() and members['root/.ssh'].mode == 0o700
        assert members['root/.ssh/authorized_keys'].mode == 0o600
        assert all(member.uid == 0 and member.gid == 0 for member in members.values())
        assert archive.extractfile('etc/hostname').read() == b'rs1\n'


def test_boot_slots_are_shared_and_released(tmp_path, monkeypatch):
    monkeypatch.setattr(paths, 'STATE_ROOT', str(tmp_path))
    monkeypatch.setattr(boot, 'BOOT_SLOTS', 2)
    first, second = boot.acquire_boot_slot(), boot.acquire_boot_slot()
    assert first.name != second.name
    waiter = threading.Thread(target=lambda: boot.acquire_boot_slot().close())
    waiter.start()
    waiter.join(1.5)
    assert waiter.is_alive(), 'a third boot must wait while both slots are held'
    first.close()
    waiter.join(5)
    assert not waiter.is_alive()
    second.close()


def test_cpu_seconds_counts_this_process():
    before = cpu_seconds(os.getpid())
    sum(range(3 * 10 ** 6))
    assert cpu_seconds(os.getpid()) > before


def test_a_stuck_boot_is_powered_off_and_booted_once_more(dr_instance, monkeypatch):
    instance, topology, state = dr_instance
    host = topology['hosts'][0]
    calls = []
    running = {}
    monkeypatch.setattr(paths, 'STATE_ROOT', os.path.dirname(instance.dir))
    monkeypatch.setattr(instance, 'vm_pid', running.get)

    def start_vm(instance_, state_, host_):
        calls.append('start')
        running[host_['name']] = 4242

    def wait_for_ssh(instance_, state_, host_, deadline, stuck_after=None):
        calls.append('wait (may be cut off)' if stuck_after else 'wait')
        if stuck_after:
            raise BootStuck('VM %s has not answered SSH in 450 s (181 s of CPU)' % host_['name'])
        return 12.5

    def stop_pid(pid, grace=10.0):
        calls.append('stop %d' % pid)
        running.clear()

    monkeypatch.setattr(boot, 'start_vm', start_vm)
    monkeypatch.setattr(boot, 'wait_for_ssh', wait_for_ssh)
    monkeypatch.setattr(boot, 'stop_pid', stop_pid)
    assert boot.boot_host(instance, state, host) == 12.5
    assert calls == ['start', 'wait (may be cut off)', 'stop 4242', 'start', 'wait']


def run_lab(lab_dir, cwd, *args, **environ):
    env = dict(os.environ, PYTHONPATH=str(lab_dir), **environ)
    return subprocess.run([sys.executable, '-m', 'lvs_lab'] + list(args), cwd=str(cwd), env=env,
                          capture_output=True, text=True, check=False)


def state_root_seen(lab_dir, cwd, **environ):
    env = dict(os.environ, PYTHONPATH=str(lab_dir), **environ)
    if 'LVS_LAB_STATE_DIR' not in environ:
        env.pop('LVS_LAB_STATE_DIR', None)
    return subprocess.run([sys.executable, '-c', 'from lvs_lab import paths; print(paths.STATE_ROOT)'], cwd=str(cwd), env=env,
                          capture_output=True, text=True, check=True).stdout.strip()


def test_a_checkout_keeps_its_state_in_its_own_lab_dir(tmp_path):
    assert state_root_seen(LAB_DIR, tmp_path) == os.path.join(os.path.dirname(LAB_DIR), '.lab')


def test_elsewhere_the_state_is_in_the_current_directory(tmp_path):
    # The collection as installed from its tarball: lab/ beside galaxy.yml, no Makefile.
    unpacked = tmp_path / 'topology' / 'lab'
    shutil.copytree(os.path.join(LAB_DIR, 'lvs_lab'), str(unpacked / 'lvs_lab'), ignore=shutil.ignore_patterns('__pycache__'))
    (tmp_path / 'topology' / 'galaxy.yml').write_text('namespace: lvs\n')
    project = tmp_path / 'project'
    project.mkdir()
    assert state_root_seen(unpacked, project) == str(project / '.lab')
    assert state_root_seen(unpacked, project, LVS_LAB_STATE_DIR='/srv/lab') == '/srv/lab'


def test_recipe_hash_ignores_python_caches(tmp_path, monkeypatch):
    recipe = tmp_path / 'image'
    (recipe / 'rootfs').mkdir(parents=True)
    (recipe / 'rootfs' / 'helper.py').write_text('pass\n')
    monkeypatch.setattr(image_module, 'IMAGE_RECIPE_DIR', str(recipe))
    before = image_module.recipe_hash('bookworm')
    (recipe / 'rootfs' / '__pycache__').mkdir()
    (recipe / 'rootfs' / '__pycache__' / 'helper.cpython-311.pyc').write_bytes(b'\0')
    assert image_module.recipe_hash('bookworm') == before
    (recipe / 'rootfs' / 'helper.py').write_text('pass  # changed\n')
    assert image_module.recipe_hash('bookworm') != before


def test_a_topology_path_may_end_in_yaml(tmp_path):
    path = write_topology(tmp_path, {'ipv4': '192.0.2.5/25'})
    renamed = tmp_path / 'my-site.yaml'
    os.rename(path, str(renamed))
    assert load_topology(str(renamed))['name'] == 'my-site'


def test_validate_checks_a_topology_without_booting(tmp_path):
    good = run_lab(LAB_DIR, tmp_path, 'validate', write_topology(tmp_path, {'ipv4': '192.0.2.5/25'}))
    assert good.returncode == 0 and 'topology case' in good.stdout and 'valid; 1 host(s) on 1 segment(s)' in good.stdout
    bad = run_lab(LAB_DIR, tmp_path, 'validate', write_topology(tmp_path, {'ipv4': '10.0.0.5/25'}))
    assert bad.returncode == 1 and 'lvs-lab: error: topology case host web01 eth0 ipv4: 10.0.0.5/25 is outside' in bad.stderr


def test_template_writes_the_scenario_and_never_overwrites(tmp_path):
    scenario = tmp_path / 'molecule' / 'lab'
    written = run_lab(LAB_DIR, tmp_path, 'template', 'molecule/lab')
    assert written.returncode == 0, written.stderr
    assert sorted(os.listdir(str(scenario))) == sorted(os.listdir(os.path.join(LAB_DIR, 'template')))
    with open(str(scenario / 'create.yml')) as copy, open(os.path.join(LAB_DIR, 'template', 'create.yml')) as original:
        assert copy.read() == original.read()
    (scenario / 'verify.yml').write_text('# mine\n')
    os.unlink(str(scenario / 'create.yml'))
    again = run_lab(LAB_DIR, tmp_path, 'template', 'molecule/lab')
    assert again.returncode == 1 and 'molecule/lab already holds' in again.stderr
    assert (scenario / 'verify.yml').read_text() == '# mine\n' and not (scenario / 'create.yml').exists()
    (tmp_path / 'a-file').write_text('')
    on_a_file = run_lab(LAB_DIR, tmp_path, 'template', 'a-file')
    assert on_a_file.returncode == 1 and 'a-file is a file' in on_a_file.stderr


# --------------------------------------------------------------------------- releases

def test_packages_of_each_release_differ_only_where_packages_txt_says():
    bookworm, trixie = image_module.image_packages('bookworm'), image_module.image_packages('trixie')
    assert 'nginx-light' in bookworm and 'nginx' not in bookworm
    assert 'nginx' in trixie and 'nginx-light' not in trixie
    assert [p for p in bookworm if p != 'nginx-light'] == [p for p in trixie if p != 'nginx']
    assert {'ipvsadm', 'keepalived', 'nftables', 'python3'} <= set(trixie)


@pytest.mark.parametrize('line', ['nginx-light trixy=nginx', 'nginx-light trixie=', 'nginx-light nginx'])
def test_a_substitution_for_no_known_release_is_refused(tmp_path, monkeypatch, line):
    (tmp_path / 'packages.txt').write_text('# comment\nipvsadm\n%s\n' % line)
    monkeypatch.setattr(image_module, 'IMAGE_RECIPE_DIR', str(tmp_path))
    with pytest.raises(LabError, match='is not RELEASE=PACKAGE with a release of bookworm, trixie'):
        image_module.image_packages('bookworm')


def test_release_from_the_command_line_then_the_environment_then_bookworm(monkeypatch):
    monkeypatch.delenv('LVS_LAB_RELEASE', raising=False)
    assert image_module.chosen_release() == 'bookworm'
    monkeypatch.setenv('LVS_LAB_RELEASE', 'trixie')
    assert image_module.chosen_release() == 'trixie'
    assert image_module.chosen_release('bookworm') == 'bookworm'
    monkeypatch.setenv('LVS_LAB_RELEASE', 'sid')
    with pytest.raises(LabError, match="release 'sid' is not one the lab builds an image of: bookworm, trixie"):
        image_module.chosen_release()


def test_a_host_may_name_its_release(tmp_path):
    topology = load_topology(write_topology(tmp_path, {'ipv4': '192.0.2.5/25'}, extra_host={'release': 'trixie'}))
    assert topology['hosts'][0]['release'] == 'trixie'
    assert load_topology('single')['hosts'][0]['release'] is None
    with pytest.raises(LabError, match="host web01: release 'buster' is not one the lab builds"):
        load_topology(write_topology(tmp_path, {'ipv4': '192.0.2.5/25'}, extra_host={'release': 'buster'}))


@pytest.mark.parametrize('name, instance_release', [('ha', 'bookworm'), ('nat', 'trixie')])
def test_ha_and_nat_mix_releases_as_their_scenarios_boot_them(name, instance_release):
    with open(os.path.join(LAB_DIR, '..', 'molecule', name, 'molecule.yml')) as handle:
        assert yaml.safe_load(handle)['provisioner']['env']['LVS_LAB_RELEASE'] == instance_release
    hosts = load_topology(name)['hosts']
    booted = {(host['role'], host['release'] or instance_release) for host in hosts}
    assert {('real_server', 'bookworm'), ('real_server', 'trixie'), ('director', 'trixie')} <= booted
    if name == 'ha':
        assert ('director', 'bookworm') in booted, 'one keepalived pair of keepalived 2.2.7 and 2.3'


def test_each_release_has_its_own_image_directory(tmp_path, monkeypatch):
    monkeypatch.setattr(paths, 'STATE_ROOT', str(tmp_path))
    assert image_module.recipe_hash('bookworm') != image_module.recipe_hash('trixie')
    assert os.path.basename(image_module.image_dir('trixie')) == 'trixie-' + image_module.recipe_hash('trixie')


def test_only_older_images_of_the_same_release_are_pruned(tmp_path):
    target = tmp_path / 'bookworm-1111111111111111'
    for name in ('bookworm-1111111111111111', 'bookworm-2222222222222222', 'trixie-3333333333333333', '4444444444444444'):
        (tmp_path / name).mkdir()
    (tmp_path / 'bookworm-2222222222222222.log').write_text('')
    older = sorted(os.path.basename(path) for path in image_module._older_images(str(target), 'bookworm'))
    # An image named by its hash alone predates release names: a bookworm one.
    assert older == ['4444444444444444', 'bookworm-2222222222222222']


def test_an_image_booted_by_any_host_is_in_use(dr_instance, monkeypatch):
    instance, topology, state = dr_instance
    instance.save_state(state)
    assert image_module._image_in_use('/images/trixie-y') and image_module._image_in_use('/images/bookworm-x')
    assert not image_module._image_in_use('/images/trixie-old')


def test_hosts_take_their_own_release_else_the_instances(monkeypatch):
    built = []
    monkeypatch.setattr(image_module, 'ensure_image', lambda release, quiet_when_cached=False: built.append(release) or '/images/' + release)
    wanted = image_module.wanted_host_images(load_topology('ha'), 'bookworm')
    assert built == ['bookworm', 'trixie'], 'each image once'
    assert wanted['lb02'] == wanted['web01'] == {'release': 'trixie', 'image': '/images/trixie'}
    assert wanted['lb01'] == wanted['client'] == {'release': 'bookworm', 'image': '/images/bookworm'}
    assert image_module.wanted_host_images(load_topology('ha'), 'trixie')['lb01']['release'] == 'trixie'


def test_a_recorded_host_keeps_its_image_and_a_new_one_gets_the_wanted(dr_instance, capsys):
    instance, topology, state = dr_instance
    del state['hosts']['client']
    wanted = {name: {'release': 'trixie', 'image': '/images/trixie-z'} for name in ('client', 'rs1', 'rs2')}
    record_host_images(instance, state, wanted)
    assert state['hosts']['client'] == {'release': 'trixie', 'image': '/images/trixie-z'}
    assert state['hosts']['rs1'] == {'release': 'trixie', 'image': '/images/trixie-y'}
    assert state['hosts']['rs2'] == {'release': 'bookworm', 'image': '/images/bookworm-x'}
    notes = capsys.readouterr().out
    assert 'rs2 of instance lab-test keeps its bookworm image bookworm-x' in notes and 'client' not in notes


def test_a_state_from_before_releases_boots_its_one_image_as_bookworm(dr_instance):
    instance, topology, state = dr_instance
    old = {'ports': state['ports'], 'image': '/images/0123456789abcdef', 'accel': 'tcg', 'key': instance.key}
    assert set(host_images(old).values()) == {'/images/0123456789abcdef'}
    assert host_release(old, 'rs1') == 'bookworm'
    record_host_images(instance, old, {})
    assert old['hosts']['rs1'] == {'release': 'bookworm', 'image': '/images/0123456789abcdef'}
