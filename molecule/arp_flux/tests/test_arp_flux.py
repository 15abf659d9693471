# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Who answers ARP for the VIP on the DR LAN, seen from the router (the client's way in).

verify runs twice: after converge (VIP on the real servers' lo, no suppression) and after
side_effect (arp_suppress on the real servers). The phase is read from the real servers.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

VIP = "192.0.2.100"
ROUTER_LAN_ADDRESS = "192.0.2.1"
REAL_SERVERS = ("rs1", "rs2")
TRIES = 5
# Long enough for TCG guests on a loaded machine to answer.
ANSWER_SECONDS = 5

testinfra_hosts = ["router"]


def lab_host(host, name):
    return host.get_host("ansible://%s" % name, ansible_inventory=host.backend.ansible_inventory)


def lan_mac(lab):
    return json.loads(lab.check_output("ip -j link show dev eth0"))[0]["address"]


def neighbour_mac_after_flush(router):
    """Forget the VIP's neighbour entry, make the router resolve it again, return the MAC it cached."""
    router.run("ip neigh flush to %s dev eth0", VIP)
    router.run("ping -c 1 -W 2 %s", VIP)
    entries = json.loads(router.check_output("ip -j neigh show to %s dev eth0", VIP))
    return entries[0].get("lladdr") if entries else None


def test_who_answers_arp_for_the_vip(host):
    director_mac = lan_mac(lab_host(host, "lvs"))
    real_server_macs = dict((name, lan_mac(lab_host(host, name))) for name in REAL_SERVERS)
    suppressed = [lab_host(host, name).file("/proc/sys/net/ipv4/conf/all/arp_ignore").content_string.strip() == "1"
                  for name in REAL_SERVERS]
    assert len(set(suppressed)) == 1, "the real servers disagree on arp_ignore: %s" % suppressed
    phase = "with arp_suppress" if suppressed[0] else "without arp_suppress"

    answers = host.check_output("python3 /usr/local/lib/arp_responders.py eth0 %s %s %s", ROUTER_LAN_ADDRESS, VIP, str(ANSWER_SECONDS)).split()
    cached = [neighbour_mac_after_flush(host) for dummy in range(TRIES)]
    names = dict((mac, name) for name, mac in real_server_macs.items())
    names[director_mac] = "lvs"
    print("\n[arp_flux] %s: director lvs=%s, %s" % (phase, director_mac,
                                                    ", ".join("%s=%s" % item for item in sorted(real_server_macs.items()))))
    print("[arp_flux] %s: ARP answers for %s: %s" % (phase, VIP, ", ".join("%s (%s)" % (mac, names.get(mac, "?")) for mac in answers)))
    print("[arp_flux] %s: router's neighbour entry over %d flushes: %s"
          % (phase, TRIES, ", ".join("%s (%s)" % (mac, names.get(mac, "?")) for mac in cached)))

    if suppressed[0]:
        assert answers == [director_mac]
        assert cached == [director_mac] * TRIES
    else:
        # Every holder of the VIP answers, so whichever answer comes first ends up in the cache.
        assert director_mac in answers
        assert set(real_server_macs.values()) <= set(answers)
        assert set(cached) <= set(answers)
