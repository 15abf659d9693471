# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """Options and notes shared by the IPVS modules; the specs live in module_utils/ipvs/values.py."""

    # Attributes and notes of the modules that change the table.
    DOCUMENTATION = r"""
attributes:
  check_mode:
    support: full
    description: Computes the operations from the live table and reports them in RV(commands); runs none and loads no kernel module.
  diff_mode:
    support: full
    description: Before and after as C(ipvsadm -Sn) save-format lines.
notes:
  - Needs C(ipvsadm) on the managed host and a kernel with IPVS. The module loads C(ip_vs) when the
    table is absent and C(ip_vs_<scheduler>) before a service uses that scheduler.
  - The live table is read once with C(ipvsadm -Sn) (plus C(ipvsadm -Ln --thresholds), because the
    save format omits the thresholds), compared with the request, and only the missing operations
    run. A few run as separate C(ipvsadm) calls, more as one batch on the standard input of
    C(ipvsadm -R) (which, unlike C(ipvsadm-restore), does not flush the table first).
  - Settings change in place (C(-E), C(-e)), so existing connections survive a change of scheduler,
    weight or forwarding method. Only a change of a service's identity is a delete and an add.
  - Every value is checked before anything runs; bad input fails with one sentence and leaves the
    table untouched.
  - If the kernel rejects an operation part way, the module reads the table back and undoes exactly
    what took effect, in the services the task touched and nothing else - edits are edited back in
    place (C(-E), C(-e)), what the task added is deleted, what it deleted is added again with its
    weights and thresholds. The table is never flushed, so other services keep their connections and
    counters. The task then fails with
    one sentence naming the rejected operations and ipvsadm's reason, and returns C(rejected) (their
    save-format lines), C(undo_commands) (the lines run to undo, in order; what the first attempt left
    is retried one operation at a time) and, when the table still differs from before the task,
    C(left_differences) - C(before) and C(now), the save-format lines of each service that differs.
  - An ipvsadm that stops part way (killed, or its input cut) is undone the same way; the sentence then
    says ipvsadm stopped, and C(rejected) is empty, since the lines that took no effect never ran.
"""

    # The options after protocol that name one service, with SERVICE_IDENTITY (ipvs_service) or
    # SERVICE_SELECTOR (ipvs_counters, whose protocol has no default: no selector is every service).
    SERVICE_ADDRESS = r"""
options:
  address:
    description:
      - The virtual IP (VIP) of a tcp, udp or sctp service, IPv4 or IPv6. Compared as an address,
        so C(2001:db8::1) and C(2001:0db8::0001) are the same service.
      - Required unless O(protocol=fwmark), where it must not be set.
    type: str
  port:
    description:
      - The service port, 0 to 65535. Required unless O(protocol=fwmark).
      - V(0) means all ports; ipvsadm allows it only for a persistent service.
    type: int
  fwmark:
    description:
      - The firewall mark, 1 to 4294967295, of a O(protocol=fwmark) service (C(ipvsadm -f)).
    type: int
  family:
    description:
      - Address family of a fwmark service (C(ipvsadm -f MARK -6) for V(ipv6)); when unset a fwmark
        service is V(ipv4).
      - For other services the family follows O(address); a different value is an error.
    type: str
    choices: [ipv4, ipv6]
"""

    SERVICE_IDENTITY = r"""
options:
  protocol:
    description:
      - The kind of virtual service, as ipvsadm selects it with C(-t) (tcp), C(-u) (udp),
        C(--sctp-service) (sctp) or C(-f) (fwmark, a firewall mark set by netfilter).
    type: str
    choices: [tcp, udp, sctp, fwmark]
    default: tcp
"""

    SERVICE_SELECTOR = r"""
options:
  protocol:
    description:
      - The kind of virtual service to select, as ipvsadm selects it with C(-t) (tcp), C(-u) (udp),
        C(--sctp-service) (sctp) or C(-f) (fwmark, a firewall mark set by netfilter).
      - Unset with O(address) and O(port) given, V(tcp); unset with none of O(address), O(port) and
        O(fwmark), the task selects every service.
    type: str
    choices: [tcp, udp, sctp, fwmark]
"""

    SERVICE_SETTINGS = r"""
options:
  scheduler:
    description:
      - The scheduling algorithm (C(ipvsadm -s)). When unset the service uses V(wlc), as ipvsadm does.
    type: str
    choices: [rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq, fo, ovf, mh, twos]
  scheduler_flags:
    description:
      - Scheduler flags (C(ipvsadm -b)); V(sh-fallback) and V(sh-port) belong to O(scheduler=sh),
        V(mh-fallback) and V(mh-port) to O(scheduler=mh). Any other combination is refused.
      - When unset the service has no flags.
    type: list
    elements: str
    choices: [sh-fallback, sh-port, mh-fallback, mh-port]
  persistence_timeout:
    description:
      - Persistence in seconds (C(ipvsadm -p)), up to 2678400 (31 days); unset or V(0) means no persistence.
    type: int
  persistence_netmask:
    description:
      - Persistence granularity (C(ipvsadm -M)) - clients in one network go to the same real server.
        An IPv4 netmask such as C(255.255.255.0) (or its prefix length) for an IPv4 service, a
        prefix length 1 to 128 for an IPv6 one. Needs O(persistence_timeout).
    type: str
  persistence_engine:
    description:
      - Persistence engine (C(ipvsadm --pe)); V(sip) keys persistence on the SIP Call-ID. Needs
        O(persistence_timeout). The kernel loads C(ip_vs_pe_sip) itself.
    type: str
    choices: [sip]
  one_packet:
    description:
      - One-packet scheduling (C(ipvsadm -o)) - schedule every UDP datagram on its own. Only for
        udp and fwmark services. When unset it is off.
    type: bool
"""

    REAL_SERVER = r"""
options:
  address:
    description:
      - Address of the real server (C(ipvsadm -r)), IPv4 or IPv6. It must be of the service's family,
        unless O(forwarding_method=tun) (the kernel tunnels between families).
    type: str
    required: true
  port:
    description:
      - Port of the real server. Default is the service's port (V(0) for a fwmark service).
      - Only O(forwarding_method=nat) can use another port than the service; with V(dr) and V(tun)
        the kernel cannot remap ports, so a different port is refused.
    type: int
  forwarding_method:
    description:
      - How packets reach the real server - V(dr) direct routing (C(ipvsadm -g)), V(nat)
        masquerading (C(-m)), V(tun) IP tunnelling (C(-i)). When unset it is V(dr), as in ipvsadm.
      - A change of method is applied in place (C(ipvsadm -e)).
    type: str
    choices: [dr, nat, tun]
  weight:
    description:
      - Weight, 0 to 65535 (C(ipvsadm -w)); V(0) takes no new connections. When unset it is V(1).
    type: int
  upper_threshold:
    description:
      - Upper connection threshold (C(ipvsadm -x)); the server gets no new connections above it.
        V(0) or unset means none.
    type: int
  lower_threshold:
    description:
      - Lower connection threshold (C(ipvsadm -y)); the server takes connections again below it.
        V(0) or unset means none. It must not be above O(upper_threshold).
    type: int
  tunnel_type:
    description:
      - Encapsulation of a O(forwarding_method=tun) real server (C(ipvsadm --tun-type)); unset means V(ipip).
    type: str
    choices: [ipip, gue, gre]
  tunnel_port:
    description:
      - Destination UDP port of the V(gue) encapsulation (C(ipvsadm --tun-port)); required for V(gue)
        and refused otherwise.
    type: int
  tunnel_checksum:
    description:
      - Checksum of V(gue) and V(gre) tunnels - C(--tun-nocsum), C(--tun-csum) or C(--tun-remcsum)
        (V(remcsum) is for V(gue) only). Unset means V(nocsum).
    type: str
    choices: [nocsum, csum, remcsum]
"""
