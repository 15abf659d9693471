# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ask once "who has IP?" on an interface and print every MAC that answers, one per line.

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
ARP_REQUEST = 1
ARP_REPLY = 2


def mac_text(raw):
    return ":".join("%02x" % byte for byte in bytearray(raw))


def who_has(source_mac, source_ip, target_ip):
    """A broadcast ARP request, padded to the 60-byte Ethernet minimum."""
    arp = struct.pack("!HHBBH", 1, 0x0800, 6, 4, ARP_REQUEST) + source_mac + source_ip + b"\x00" * 6 + target_ip
    frame = b"\xff" * 6 + source_mac + struct.pack("!H", ETH_P_ARP) + arp
    return frame + b"\x00" * (60 - len(frame))


def responders(interface, source_ip, target_ip, seconds):
    """Sender MACs of the ARP replies for target_ip, in the order they arrived."""
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ARP))
    try:
        sock.bind((interface, ETH_P_ARP))
        own_mac = sock.getsockname()[4]
        target = socket.inet_aton(target_ip)
        sock.send(who_has(own_mac, socket.inet_aton(source_ip), target))
        deadline = time.time() + seconds
        seen = []
        while time.time() < deadline:
            sock.settimeout(max(deadline - time.time(), 0.01))
            try:
                frame = sock.recv(2048)
            except socket.timeout:
                break
            if len(frame) < 42:
                continue
            operation, sender_mac, sender_ip = struct.unpack("!6xH6s4s", frame[14:32])
            if operation == ARP_REPLY and sender_ip == target and mac_text(sender_mac) not in seen:
                seen.append(mac_text(sender_mac))
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
