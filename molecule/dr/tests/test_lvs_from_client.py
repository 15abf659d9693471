# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Verify a converged LVS topology the way the seeds insist: requests come from the client,
never from the director.

Everything expected is read from the inventory the lab generated (lvs_virtual_services,
the groups, lab_nics), so the dr, nat, tun and fullnat scenarios share this file. Pages
name the real server that served them (the lab writes the host name into index.html).
The director is only read: its table (ipvsadm -Sn), counters, connections and sysctls.
"""

from __future__ import absolute_import, division, print_function

import collections
import re

import pytest

testinfra_hosts = ["client"]

REQUESTS = 20
SCHEDULING_TOLERANCE = 1
# As ipvsadm v1.31 saves them (-Sn): a tunnel real server also names its tunnel type.
METHOD_FLAG = {"dr": "-g", "tun": "-i", "nat": "-m", "fullnat": "-m"}
METHOD_SUFFIX = {"tun": " --tun-type ipip"}
PROTOCOL_FLAG = {"tcp": "-t", "udp": "-u", "sctp": "--sctp-service"}


@pytest.fixture(scope="module")
def inventory(host):
    return host.ansible.get_variables()


@pytest.fixture(scope="module")
def services(inventory):
    return inventory["lvs_virtual_services"]


def other_host(host, name):
    return host.get_host("ansible://%s" % name, ansible_inventory=host.backend.ansible_inventory)


@pytest.fixture(scope="module")
def director(host, inventory):
    return other_host(host, inventory["groups"]["directors"][0])


def rip(host, name):
    """The address the lab gave the real server on its (only) data NIC."""
    nics = other_host(host, name).ansible.get_variables()["lab_nics"]
    return nics[0]["ipv4"].split("/")[0]


def ids(service):
    return service["name"]


def endpoint(service):
    return "%s:%d" % (service["vip"], service["port"])


def fetch(host, service, count=REQUESTS):
    """The names on the pages of `count` fresh connections to the service, in order."""
    loop = 'for i in $(seq %d); do curl -sS --max-time 5 http://%s/ || echo FAILED; done' % (count, endpoint(service))
    return host.check_output(loop).split()


def expected_shares(service):
    weights = {rs["host"]: rs.get("weight", 1) for rs in service["real_servers"]}
    if service.get("scheduler", "wlc") == "rr":
        weights = dict.fromkeys(weights, 1)
    total = float(sum(weights.values()))
    return {name: REQUESTS * weight / total for name, weight in weights.items()}


def director_stats(director, service):
    """(InPkts, OutPkts) of the service, from the director's counters (read only)."""
    out = director.check_output("ipvsadm -Ln --stats --exact %s %s", PROTOCOL_FLAG[service.get("protocol", "tcp")], endpoint(service))
    line = [fields for fields in (row.split() for row in out.splitlines()) if fields and fields[1] == endpoint(service)]
    assert line, "the director has no service %s:\n%s" % (endpoint(service), out)
    conns, in_packets, out_packets = (int(value) for value in line[0][2:5])
    return in_packets, out_packets


def test_director_table_equals_the_inventory(host, director, services):
    saved = set(director.check_output("ipvsadm -Sn").splitlines())
    wanted = set()
    for service in services:
        key = "%s %s" % (PROTOCOL_FLAG[service.get("protocol", "tcp")], endpoint(service))
        line = "-A %s -s %s" % (key, service.get("scheduler", "wlc"))
        if service.get("persistence"):
            line += " -p %d" % service["persistence"]["timeout"]
        wanted.add(line)
        for real_server in service["real_servers"]:
            method = service.get("forwarding_method", "dr")
            wanted.add("-a %s -r %s:%d %s -w %d%s" % (key, rip(host, real_server["host"]), real_server.get("port", service["port"]),
                                                      METHOD_FLAG[method], real_server.get("weight", 1), METHOD_SUFFIX.get(method, "")))
    assert saved == wanted


def test_requests_are_shared_in_the_scheduler_proportion(host, director, services):
    balanced = [service for service in services if not service.get("persistence")]
    assert balanced, "the topology has no service without persistence to test"
    for service in balanced:
        in_before, out_before = director_stats(director, service)
        answers = collections.Counter(fetch(host, service))
        in_after, out_after = director_stats(director, service)
        shares = expected_shares(service)
        assert set(answers) == set(shares), "%s: answers %s, expected only %s" % (service["name"], dict(answers), sorted(shares))
        for name, share in shares.items():
            assert abs(answers[name] - share) <= SCHEDULING_TOLERANCE, "%s: %s answered %d of %d, expected %.0f (%s)" % (
                service["name"], name, answers[name], REQUESTS, share, dict(answers))
        # Each request is at least SYN, ACK with GET, and FIN through the director.
        assert in_after - in_before >= 3 * REQUESTS, (service["name"], in_before, in_after)
        if service.get("forwarding_method", "dr") in ("dr", "tun"):
            # Replies go from the real servers straight to the client, never through the director.
            assert (out_before, out_after) == (0, 0), service["name"]
        else:
            assert out_after - out_before >= REQUESTS, (service["name"], out_before, out_after)


def test_persistence_keeps_the_client_on_one_real_server(host, services):
    sticky = [service for service in services if service.get("persistence")]
    assert sticky, "the topology has no persistent service to test"
    for service in sticky:
        answers = collections.Counter(fetch(host, service))
        assert len(answers) == 1 and sum(answers.values()) == REQUESTS, "%s: %s" % (service["name"], dict(answers))
        assert set(answers) <= set(rs["host"] for rs in service["real_servers"])


def test_remapped_ports_reach_the_real_server_port(host, director, services):
    remapped = [s for s in services if any(rs.get("port", s["port"]) != s["port"] for rs in s["real_servers"])]
    if not remapped:
        pytest.skip("no service of this topology remaps ports (DR and TUN cannot)")
    for service in remapped:
        fetch(host, service, count=2)
        client_address = host.ansible.get_variables()["lab_nics"][0]["ipv4"].split("/")[0]
        connections = director.check_output("ipvsadm -Lnc")
        ports = set(re.findall(r"%s:\d+\s+%s\s+[\d.]+:(\d+)" % (re.escape(client_address), re.escape(endpoint(service))), connections))
        assert ports == set(str(rs.get("port", service["port"])) for rs in service["real_servers"]), connections


def test_director_kernel_settings(director, services):
    methods = set(service.get("forwarding_method", "dr") for service in services)
    assert director.sysctl("net.ipv4.vs.expire_nodest_conn") == 1
    assert director.sysctl("net.ipv4.vs.expire_quiescent_template") == 1
    if methods & set(["nat", "fullnat"]):
        assert director.sysctl("net.ipv4.ip_forward") == 1
    if "fullnat" in methods:
        assert director.sysctl("net.ipv4.vs.conntrack") == 1


def test_director_carries_the_vips_with_labels(director, services):
    lines = director.check_output("ip -4 -o addr show").splitlines()
    for vip in sorted(set(service["vip"] for service in services)):
        line = [row for row in lines if " inet %s/32 " % vip in row]
        assert line and re.search(r"\s\S+:\d+\\", line[0]), "no labelled %s in:\n%s" % (vip, "\n".join(lines))


def test_real_servers_hold_the_vips_they_need(host, inventory, services):
    for name in inventory["groups"]["real_servers"]:
        real_server = other_host(host, name)
        addresses = real_server.check_output("ip -4 -o addr show")
        for service in services:
            if name not in [rs["host"] for rs in service["real_servers"]]:
                continue
            device = {"dr": "lo", "tun": "tunl0"}.get(service.get("forwarding_method", "dr"))
            if device:
                assert re.search(r"\d+: %s\s+inet %s/32 " % (device, re.escape(service["vip"])), addresses), addresses
                assert real_server.sysctl("net.ipv4.conf.all.arp_ignore") == 1
                assert real_server.sysctl("net.ipv4.conf.all.arp_announce") == 2
            else:
                # NAT and FULLNAT real servers never see the VIP.
                assert " %s/" % service["vip"] not in addresses


def test_fullnat_real_servers_see_the_director_not_the_client(host, inventory, director, services):
    fullnat = [service for service in services if service.get("forwarding_method") == "fullnat"]
    if not fullnat:
        pytest.skip("no FULLNAT service in this topology")
    director_addresses = set(nic["ipv4"].split("/")[0] for nic in director.ansible.get_variables()["lab_nics"])
    fetch(host, fullnat[0], count=4)
    sources = set()
    for name in set(rs["host"] for rs in fullnat[0]["real_servers"]):
        log = other_host(host, name).check_output("tail -n 2 /var/log/nginx/access.log")
        sources.update(line.split()[0] for line in log.splitlines())
    assert sources and sources <= director_addresses, sources


def test_real_server_routes(host, inventory, director, services):
    methods = set(service.get("forwarding_method", "dr") for service in services)
    director_addresses = [nic["ipv4"].split("/")[0] for nic in director.ansible.get_variables()["lab_nics"]]
    for name in inventory["groups"]["real_servers"]:
        real_server = other_host(host, name)
        variables = real_server.ansible.get_variables()
        gateway = re.search(r"default via (\S+)", real_server.check_output("ip -4 route show default")).group(1)
        if "nat" in methods:
            assert gateway in director_addresses
        else:
            # DR, TUN and FULLNAT leave the real server's own gateway alone.
            assert gateway == variables["lab_default_gateway"]
        if "tun" in methods:
            assert real_server.sysctl("net.ipv4.conf.tunl0.rp_filter") in (0, 2)
            assert real_server.sysctl("net.ipv4.conf.all.rp_filter") in (0, 2)
