# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Verify a converged LVS topology the way the seeds insist: requests come from the client,
never from the director.

Everything expected is read from the inventory the lab generated (lvs_virtual_services,
the groups, lab_nics), so the dr, nat and routed scenarios share this file; IPv6 services are
checked like IPv4 ones, each against the addresses of its own family. Pages
name the real server that served them (the lab writes the host name into index.html).
The director is only read: its table (ipvsadm -Sn and -Ln --thresholds), the rules file the
director role saved for the next boot, counters, connections and sysctls. Verify runs these
tests once after converge and once after every VM rebooted, when the table is the one the
boot unit restored from that file: the table checks compare every rule exactly, thresholds
and fwmarks above 2147483647 included.

The director's packet counters lag: on Linux 6.1 and 6.12 the kernel's rate estimator copies
them from per-CPU counters once every 2 s, so every check that reads them waits until they reach what
the test itself sent, with a timeout generous enough for a slow, loaded TCG guest.
"""

from __future__ import absolute_import, division, print_function

import collections
import os
import re
import time

import pytest
import yaml

testinfra_hosts = ["client"]

REQUESTS = 20
SCHEDULING_TOLERANCE = 1
# Each request is at least SYN, ACK with GET, and FIN through the director.
IN_PACKETS_PER_REQUEST = 3
# How long the director's counters may take to show what was sent: the estimator's 2 s
# period many times over, for a TCG guest whose timers slip under load.
COUNTER_TIMEOUT = 120
# As ipvsadm v1.31 saves them (-Sn): a tunnel real server also names its tunnel type.
METHOD_FLAG = {"dr": "-g", "tun": "-i", "nat": "-m", "fullnat": "-m"}
METHOD_SUFFIX = {"tun": " --tun-type ipip"}
PROTOCOL_FLAG = {"tcp": "-t", "udp": "-u", "sctp": "--sctp-service"}
LISTING_PROTOCOL = {"tcp": "TCP", "udp": "UDP", "sctp": "SCTP", "fwmark": "FWM"}
# The first line of the director role's rules file: the collection's rules format, version 1.
RULES_HEADER = "# lvs.topology rules v1"
DIRECTOR_DEFAULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "roles", "director", "defaults", "main.yml")
SECTION = "@lvs-topology-test-section@"


@pytest.fixture(scope="module")
def inventory(host):
    return host.ansible.get_variables()


@pytest.fixture(scope="module")
def services(inventory):
    return inventory["lvs_virtual_services"]


@pytest.fixture(scope="module")
def web_services(services):
    """The services the client's requests reach at VIP:port; a fwmark service gets only the
    packets something marks, and nothing in the lab marks any."""
    return [service for service in services if service.get("protocol", "tcp") == "tcp"]


@pytest.fixture(scope="module")
def director_table(inventory, director):
    """(ipvsadm -Sn, ipvsadm -Ln --thresholds, the rules file the director role saved for the
    next boot) as lists of lines, read with one command: every command costs a round trip to a
    slow guest."""
    with open(DIRECTOR_DEFAULTS) as handle:
        rules_file = inventory.get("director_rules_file", yaml.safe_load(handle)["director_rules_file"])
    out = director.check_output("ipvsadm -Sn && echo %s && ipvsadm -Ln --thresholds && echo %s && cat %s", SECTION, SECTION, rules_file)
    return [part.splitlines() for part in out.split(SECTION + "\n")]


def other_host(host, name):
    return host.get_host("ansible://%s" % name, ansible_inventory=host.backend.ansible_inventory)


@pytest.fixture(scope="module")
def director(host, inventory):
    return other_host(host, inventory["groups"]["directors"][0])


def family(service):
    """The lab_nics key of the service's address family."""
    return "ipv6" if ":" in service["vip"] else "ipv4"


def nic_address(nic, key):
    return nic[key].split("/")[0]


def rip(host, name, service):
    """The address of the service's family the lab gave the real server on its (only) data NIC."""
    nics = other_host(host, name).ansible.get_variables()["lab_nics"]
    return nic_address(nics[0], family(service))


def bracketed(address):
    """As ipvsadm prints and takes addresses with a port, and as curl takes them in a URL."""
    return "[%s]" % address if ":" in address else address


def address_port(address, port):
    return "%s:%d" % (bracketed(address), port)


def endpoint(service):
    return address_port(service["vip"], service["port"])


def fetch(host, service, count=REQUESTS):
    """The names on the pages of `count` fresh connections to the service, in order."""
    # -g: the brackets of an IPv6 URL are the address, not a curl glob.
    loop = 'for i in $(seq %d); do curl -gsS --max-time 5 http://%s/ || echo FAILED; done' % (count, endpoint(service))
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


def wait_for_director_stats(director, service, reached, timeout=COUNTER_TIMEOUT):
    """The service's (InPkts, OutPkts) once `reached(in, out)` holds; the last read if it never does."""
    deadline = time.monotonic() + timeout
    while True:
        stats = director_stats(director, service)
        if reached(*stats) or time.monotonic() > deadline:
            return stats
        time.sleep(1)


def method_of(service, real_server):
    """The real server's forwarding method: its own, else the service's (the model's default)."""
    return real_server.get("forwarding_method", service.get("forwarding_method", "dr"))


def methods_of(service, name=None):
    """The forwarding methods of the service's real servers (only those of host `name` if given)."""
    return set(method_of(service, rs) for rs in service["real_servers"] if name in (None, rs["host"]))


def nat_like(service):
    """Whether the service's replies come back through the director: some real server's do."""
    return bool(methods_of(service) & set(["nat", "fullnat"]))


def printed_fwmark(mark):
    """A mark as ipvsadm 1.31 prints it, -Sn and -Ln alike: with %d, so negative above 2147483647."""
    return mark - 2 ** 32 if mark >= 2 ** 31 else mark


def service_words(service, mark=int):
    """The service's part of its -A and -a lines, its fwmark written as mark() gives it."""
    if service.get("protocol") == "fwmark":
        return "-f %d%s" % (mark(service["fwmark"]), " -6" if ":" in service["vip"] else "")
    return "%s %s" % (PROTOCOL_FLAG[service.get("protocol", "tcp")], endpoint(service))


def real_server_port(service, real_server):
    """The model's defaults: the service's port, 0 for a fwmark service's real server."""
    return real_server.get("port", 0 if service.get("protocol") == "fwmark" else service.get("port"))


def inventory_rules(host, services, mark=int, thresholds=True):
    """The inventory's table as -A and -a lines in the collection's rules format (unsigned
    marks, thresholds as -x and -y), or as ipvsadm -Sn prints it (mark=printed_fwmark,
    thresholds=False), sorted."""
    lines = []
    for service in services:
        key = service_words(service, mark)
        line = "-A %s -s %s" % (key, service.get("scheduler", "wlc"))
        if service.get("persistence"):
            line += " -p %d" % service["persistence"]["timeout"]
        lines.append(line)
        for real_server in service["real_servers"]:
            method = method_of(service, real_server)
            address = address_port(rip(host, real_server["host"], service), real_server_port(service, real_server))
            line = "-a %s -r %s %s -w %d%s" % (key, address, METHOD_FLAG[method], real_server.get("weight", 1), METHOD_SUFFIX.get(method, ""))
            for option, name in (("-x", "upper_threshold"), ("-y", "lower_threshold")):
                if thresholds and real_server.get(name):
                    line += " %s %d" % (option, real_server[name])
            lines.append(line)
    return sorted(lines)


def test_director_table_equals_the_inventory(host, director_table, services):
    assert sorted(director_table[0]) == inventory_rules(host, services, printed_fwmark, thresholds=False)


def test_director_thresholds_equal_the_inventory(host, director_table, services):
    """ipvsadm -Sn has no thresholds: every real server's are read from -Ln --thresholds."""
    listed, service = {}, None
    for line in director_table[1]:
        words = line.split()
        if not words:
            continue
        if words[0] in LISTING_PROTOCOL.values():
            service = " ".join(words[:3] if words[2:3] == ["IPv6"] else words[:2])
        elif words[0] == "->" and words[1] != "RemoteAddress:Port":
            listed[service, words[1]] = (int(words[2]), int(words[3]))
    wanted = {}
    for service in services:
        protocol = service.get("protocol", "tcp")
        if protocol == "fwmark":
            name = "FWM %d%s" % (printed_fwmark(service["fwmark"]), " IPv6" if ":" in service["vip"] else "")
        else:
            name = "%s %s" % (LISTING_PROTOCOL[protocol], endpoint(service))
        for real_server in service["real_servers"]:
            address = address_port(rip(host, real_server["host"], service), real_server_port(service, real_server))
            wanted[name, address] = (real_server.get("upper_threshold", 0), real_server.get("lower_threshold", 0))
    assert listed == wanted


def test_saved_rules_file_is_the_inventory_table(host, director_table, services):
    """The file the boot unit restores: the rules format, exactly the inventory's table."""
    assert director_table[2] == [RULES_HEADER] + inventory_rules(host, services)


def test_requests_are_shared_in_the_scheduler_proportion(host, director, web_services):
    balanced = [service for service in web_services if not service.get("persistence")]
    assert balanced, "the topology has no service without persistence to test"
    for service in balanced:
        in_before, out_before = director_stats(director, service)
        answers = collections.Counter(fetch(host, service))
        in_floor = in_before + IN_PACKETS_PER_REQUEST * REQUESTS
        out_floor = out_before + (REQUESTS if nat_like(service) else 0)
        in_after, out_after = wait_for_director_stats(director, service, lambda in_now, out_now: in_now >= in_floor and out_now >= out_floor)
        shares = expected_shares(service)
        assert set(answers) == set(shares), "%s: answers %s, expected only %s" % (service["name"], dict(answers), sorted(shares))
        for name, share in shares.items():
            assert abs(answers[name] - share) <= SCHEDULING_TOLERANCE, "%s: %s answered %d of %d, expected %.0f (%s)" % (
                service["name"], name, answers[name], REQUESTS, share, dict(answers))
        assert in_after >= in_floor, "%s: InPkts %d -> %d within %d s, expected at least %d" % (
            service["name"], in_before, in_after, COUNTER_TIMEOUT, in_floor)
        if nat_like(service):
            assert out_after >= out_floor, "%s: OutPkts %d -> %d within %d s, expected at least %d" % (
                service["name"], out_before, out_after, COUNTER_TIMEOUT, out_floor)
        else:
            # Replies go from the real servers straight to the client, never through the director;
            # read once the InPkts show every request, so the counters are no older than the traffic.
            assert (out_before, out_after) == (0, 0), service["name"]


def test_director_counters_lag_the_traffic(host, director, web_services):
    """Show why every counter check waits: the director records its service's InPkts every
    0.2 s while the client sends a burst; the kernel copies the counters to userspace in steps,
    once per estimator period (2 s on Linux 6.1, and on 6.12, where the estimator runs in kernel
    threads), and the trace prints those steps."""
    service = [s for s in web_services if not s.get("persistence")][0]
    trace = "/run/lvs-counter-trace"
    in_before = director_stats(director, service)[0]
    in_floor = in_before + IN_PACKETS_PER_REQUEST * REQUESTS
    # A transient unit, so the trace runs on the director while the client sends; it stops
    # once the counter shows the burst, or after COUNTER_TIMEOUT. truncate:, as file: would
    # leave the tail of a longer trace of an earlier run after this one's lines.
    loop = ("end=$(( $(date +%%s) + %d )); while [ $(date +%%s) -lt $end ]; do "
            "n=$(ipvsadm -Ln --stats --exact %s %s | awk '$2 == \"%s\" {print $4}'); "
            "echo \"$(date +%%s.%%N) $n\"; [ \"$n\" -ge %d ] && break; sleep 0.2; done"
            % (COUNTER_TIMEOUT, PROTOCOL_FLAG[service.get("protocol", "tcp")], endpoint(service), endpoint(service), in_floor))
    director.run("systemctl reset-failed lvs-counter-trace.service")
    director.check_output("systemd-run --unit lvs-counter-trace --property StandardOutput=truncate:%s sh -c %s", trace, loop)
    fetch(host, service)
    deadline = time.monotonic() + COUNTER_TIMEOUT + 60
    while director.run("systemctl is-active --quiet lvs-counter-trace.service").rc == 0 and time.monotonic() < deadline:
        time.sleep(1)
    samples = [(float(when), int(count)) for when, count in (row.split() for row in director.file(trace).content_string.splitlines())]
    steps = [(when, count) for index, (when, count) in enumerate(samples) if index == 0 or count != samples[index - 1][1]]
    print("\n[counters] %s: InPkts %d before a burst of %d requests; the director's reads every 0.2 s changed at:" % (
        service["name"], in_before, REQUESTS))
    for when, count in steps:
        print("[counters]   +%.1f s  InPkts %d" % (when - samples[0][0], count))
    assert samples and samples[-1][1] >= in_floor, "%s: InPkts never reached %d within %d s: %s" % (
        service["name"], in_floor, COUNTER_TIMEOUT, steps)


def test_persistence_keeps_the_client_on_one_real_server(host, web_services):
    sticky = [service for service in web_services if service.get("persistence")]
    assert sticky, "the topology has no persistent service to test"
    for service in sticky:
        answers = collections.Counter(fetch(host, service))
        assert len(answers) == 1 and sum(answers.values()) == REQUESTS, "%s: %s" % (service["name"], dict(answers))
        assert set(answers) <= set(rs["host"] for rs in service["real_servers"])


def test_remapped_ports_reach_the_real_server_port(host, director, web_services):
    remapped = [s for s in web_services if any(rs.get("port", s["port"]) != s["port"] for rs in s["real_servers"])]
    if not remapped:
        pytest.skip("no service of this topology remaps ports (DR and TUN cannot)")
    for service in remapped:
        fetch(host, service, count=2)
        client = bracketed(nic_address(host.ansible.get_variables()["lab_nics"][0], family(service)))
        connections = director.check_output("ipvsadm -Lnc")
        # source (the client), virtual (the service), destination (a real server): its port.
        ports = set(re.findall(r"%s:\d+\s+%s\s+\S+:(\d+)\s" % (re.escape(client), re.escape(endpoint(service))), connections))
        assert ports == set(str(rs.get("port", service["port"])) for rs in service["real_servers"]), connections


def test_director_kernel_settings(director, services):
    methods = set().union(*(methods_of(service) for service in services))
    assert director.sysctl("net.ipv4.vs.expire_nodest_conn") == 1
    assert director.sysctl("net.ipv4.vs.expire_quiescent_template") == 1
    if methods & set(["nat", "fullnat"]):
        assert director.sysctl("net.ipv4.ip_forward") == 1
    if any(nat_like(service) and family(service) == "ipv6" for service in services):
        assert director.sysctl("net.ipv6.conf.all.forwarding") == 1
    if "fullnat" in methods:
        assert director.sysctl("net.ipv4.vs.conntrack") == 1


def test_director_ipvs_timeouts_are_the_inventory(director, inventory):
    """The connection timeouts the director role set (and its boot unit sets again after the
    reboot), as ipvsadm prints them: "Timeout (tcp tcpfin udp): 7200 120 60"."""
    wanted = inventory.get("lvs_ipvs_timeouts")
    if not wanted:
        pytest.skip("this topology leaves the IPVS timeouts alone (the dr scenario sets them)")
    printed = director.check_output("ipvsadm -L --timeout")
    assert re.search(r"\):\s+%d\s+%d\s+%d\s*$" % (wanted["tcp"], wanted["tcpfin"], wanted["udp"]), printed), printed


def test_director_carries_the_vips_with_labels(director, services):
    """IPv4 VIPs as /32 with an eth0:N label; IPv6 VIPs, which have no labels, as /128 that passed
    duplicate address detection: no real server claimed one (neither tentative nor dadfailed)."""
    lines = director.check_output("ip -o addr show").splitlines()
    for vip in sorted(set(service["vip"] for service in services)):
        if ":" in vip:
            line = [row for row in lines if " inet6 %s/128 " % vip in row]
            assert line and not re.search(r"\s(tentative|dadfailed)\s", line[0]), "no usable %s in:\n%s" % (vip, "\n".join(lines))
        else:
            line = [row for row in lines if " inet %s/32 " % vip in row]
            assert line and re.search(r"\s\S+:\d+\\", line[0]), "no labelled %s in:\n%s" % (vip, "\n".join(lines))


# Where a DR or TUN real server holds a VIP of each family: IPVS tunnels IPv6 services IPv6-in-IPv6.
VIP_DEVICES = {("dr", "ipv4"): "lo", ("dr", "ipv6"): "lo", ("tun", "ipv4"): "tunl0", ("tun", "ipv6"): "ip6tnl0"}


def test_real_servers_hold_the_vips_they_need(host, inventory, services):
    for name in inventory["groups"]["real_servers"]:
        real_server = other_host(host, name)
        addresses = real_server.check_output("ip -o addr show")
        for service in services:
            for method in methods_of(service, name):
                device = VIP_DEVICES.get((method, family(service)))
                if device and family(service) == "ipv6":
                    # No ARP settings: neighbour discovery never answers for an address on lo, and
                    # ip6tnl0 does none.
                    line = re.search(r"\d+: %s\s+inet6 %s/128 .*" % (device, re.escape(service["vip"])), addresses)
                    assert line and not re.search(r"\s(tentative|dadfailed)\s", line.group(0)), addresses
                elif device:
                    assert re.search(r"\d+: %s\s+inet %s/32 " % (device, re.escape(service["vip"])), addresses), addresses
                    assert real_server.sysctl("net.ipv4.conf.all.arp_ignore") == 1
                    assert real_server.sysctl("net.ipv4.conf.all.arp_announce") == 2
                else:
                    # NAT and FULLNAT real servers never see the VIP.
                    assert " %s/" % service["vip"] not in addresses


def test_fullnat_real_servers_see_the_director_not_the_client(host, inventory, director, services, web_services):
    """One FULLNAT service of each family: the source the real servers log is an address the
    director holds (its own, or for IPv6 possibly one of its VIPs, which source address
    selection may pick on the NIC), never the client's."""
    first_of_family = {}
    for service in web_services:
        if service.get("forwarding_method") == "fullnat":
            first_of_family.setdefault(family(service), service)
    if not first_of_family:
        pytest.skip("no FULLNAT service in this topology")
    director_addresses = set(nic_address(nic, key) for nic in director.ansible.get_variables()["lab_nics"]
                             for key in ("ipv4", "ipv6") if nic.get(key))
    director_addresses.update(service["vip"] for service in services)
    for key, service in sorted(first_of_family.items()):
        # The last line of each answering real server's log is one of these requests.
        sources = set()
        for name in set(fetch(host, service, count=4)):
            sources.add(other_host(host, name).check_output("tail -n 1 /var/log/nginx/access.log").split()[0])
        print("\n[fullnat] %s: the real servers saw the requests come from %s" % (service["name"], sorted(sources)))
        assert sources and sources <= director_addresses, "%s: %s" % (service["name"], sources)


def test_real_server_routes(host, inventory, director, services):
    director_nics = director.ansible.get_variables()["lab_nics"]
    for name in inventory["groups"]["real_servers"]:
        real_server = other_host(host, name)
        variables = real_server.ansible.get_variables()
        served = [s for s in services if name in [rs["host"] for rs in s["real_servers"]]]
        nat_families = set(family(s) for s in served if "nat" in methods_of(s, name))
        for key, lab_gateway in (("ipv4", "lab_default_gateway"), ("ipv6", "lab_default_gateway6")):
            default = re.search(r"default via (\S+)", real_server.check_output("ip -%s route show default" % key[-1]))
            if key in nat_families:
                # The director's address of the family, set by real_server_nat (the lab sets none for IPv6).
                assert default and default.group(1) in [nic_address(nic, key) for nic in director_nics if nic.get(key)], (name, key)
            elif variables.get(lab_gateway):
                # DR, TUN and FULLNAT leave the real server's own gateway alone.
                assert default and default.group(1) == variables[lab_gateway], (name, key)
        if any("tun" in methods_of(s, name) and family(s) == "ipv4" for s in served):
            assert real_server.sysctl("net.ipv4.conf.tunl0.rp_filter") in (0, 2)
            assert real_server.sysctl("net.ipv4.conf.all.rp_filter") in (0, 2)


def test_boot_units_of_the_collection_did_not_fail(host, inventory):
    """systemd-modules-load, which reads the roles' modules-load.d files (one module name a
    line), and the collection's own units: none failed on any director or real server - after
    the reboot, that is the boot that ran them."""
    for name in inventory["groups"]["directors"] + inventory["groups"]["real_servers"]:
        failed = other_host(host, name).check_output(
            "systemctl list-units --failed --no-legend --plain systemd-modules-load.service 'lvs-topology-*'")
        assert failed.strip() == "", "%s: %s" % (name, failed)
