# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ask once "who has IP?" on an interface and print every MAC that answers, one per line.

An IPv4 target is asked with a broadcast ARP request; an IPv6 one with a Neighbour Solicitation
sent to all nodes (ff02::1) rather than to the target's solicited-node group, so every host on
the link receives it and each decides itself whether the target is its own.
Used on the router by the dr scenario (prepare and tests): a neighbour cache keeps only the first answer,
this shows all of them. Standard library only (AF_PACKET), needs root.
Usage: python3 arp_responders.py INTERFACE SOURCE_IP TARGET_IP [SECONDS]
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import socket
import struct
import sys
import time

ETH_P_ARP = 0x0806
ETH_P_IPV6 = 0x86DD
ARP_REQUEST = 1
ARP_REPLY = 2
ICMPV6 = 58
NEIGHBOUR_SOLICITATION = 135
NEIGHBOUR_ADVERTISEMENT = 136
ALL_NODES = socket.inet_pton(socket.AF_INET6, "ff02::1")
ALL_NODES_MAC = b"\x33\x33\x00\x00\x00\x01"


def mac_text(raw):
    return ":".join("%02x" % byte for byte in bytearray(raw))


def arp_who_has(source_mac, source_ip, target_ip):
    """A broadcast ARP request, padded to the 60-byte Ethernet minimum."""
    arp = struct.pack("!HHBBH", 1, 0x0800, 6, 4, ARP_REQUEST) + source_mac + source_ip + b"\x00" * 6 + target_ip
    frame = b"\xff" * 6 + source_mac + struct.pack("!H", ETH_P_ARP) + arp
    return frame + b"\x00" * (60 - len(frame))


def arp_answer(frame, target_ip):
    """The sender MAC of an ARP reply for target_ip, else None."""
    if len(frame) < 42:
        return None
    operation, sender_mac, sender_ip = struct.unpack("!6xH6s4s", frame[14:32])
    return sender_mac if operation == ARP_REPLY and sender_ip == target_ip else None


def icmpv6_checksum(source, destination, message):
    """RFC 4443: the one's complement sum over the IPv6 pseudo-header and the message."""
    data = source + destination + struct.pack("!I3xB", len(message), ICMPV6) + message
    if len(data) % 2:
        data += b"\x00"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def nd_who_has(source_mac, source_ip, target_ip):
    """A Neighbour Solicitation for target_ip to all nodes, with our link-layer address (RFC 4861)."""
    message = struct.pack("!BBHI", NEIGHBOUR_SOLICITATION, 0, 0, 0) + target_ip + struct.pack("!BB", 1, 1) + source_mac
    message = message[:2] + struct.pack("!H", icmpv6_checksum(source_ip, ALL_NODES, message)) + message[4:]
    # Hop limit 255: a receiver drops neighbour discovery that crossed a router.
    ipv6 = struct.pack("!IHBB", 6 << 28, len(message), ICMPV6, 255) + source_ip + ALL_NODES
    return ALL_NODES_MAC + source_mac + struct.pack("!H", ETH_P_IPV6) + ipv6 + message


def nd_answer(frame, target_ip):
    """The Ethernet source of a Neighbour Advertisement for target_ip, else None."""
    if len(frame) < 14 + 40 + 24 or struct.unpack("!H", frame[12:14])[0] != ETH_P_IPV6 or bytearray(frame)[20] != ICMPV6:
        return None
    icmp = frame[54:]
    return frame[6:12] if bytearray(icmp)[0] == NEIGHBOUR_ADVERTISEMENT and icmp[8:24] == target_ip else None


def responders(interface, source_ip, target_ip, seconds):
    """Sender MACs of the answers for target_ip, in the order they arrived."""
    ipv6 = ":" in target_ip
    ethertype, family = (ETH_P_IPV6, socket.AF_INET6) if ipv6 else (ETH_P_ARP, socket.AF_INET)
    who_has, answer = (nd_who_has, nd_answer) if ipv6 else (arp_who_has, arp_answer)
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ethertype))
    try:
        sock.bind((interface, ethertype))
        own_mac = sock.getsockname()[4]
        target = socket.inet_pton(family, target_ip)
        sock.send(who_has(own_mac, socket.inet_pton(family, source_ip), target))
        deadline = time.time() + seconds
        seen = []
        while time.time() < deadline:
            sock.settimeout(max(deadline - time.time(), 0.01))
            try:
                frame = sock.recv(2048)
            except socket.timeout:
                break
            sender = answer(frame, target)
            if sender is not None and mac_text(sender) != mac_text(own_mac) and mac_text(sender) not in seen:
                seen.append(mac_text(sender))
        return seen
    finally:
        sock.close()


def main(argv):
    if len(argv) not in (4, 5):
        sys.stderr.write(__doc__.rsplit("\n", 2)[-2] + "\n")
        return 2
    seconds = float(argv[4]) if len(argv) == 5 else 2.0
    for mac in responders(argv[1], argv[2], argv[3], seconds):
        print(mac)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
