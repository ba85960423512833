#!/usr/bin/env python3
"""Sends one forged ICMP "port unreachable" (type 3, code 3) to 127.0.0.1, as a RADIUS server's host would
send it for a UDP datagram from CLIENT_PORT to SERVER_PORT: the message quotes an IPv4 header and the first
8 bytes (the UDP header) of that datagram (RFC 792). Linux matches it to a connected UDP socket by the quoted
addresses and ports alone (issue 16, item 1). Needs a raw socket (root or CAP_NET_RAW).

Usage: forge-icmp.py CLIENT_PORT SERVER_PORT   (loopback only)
       forge-icmp.py --check                    (exit 0 when a raw ICMP socket can be opened)
"""
import socket
import struct
import sys

LOOPBACK = "127.0.0.1"


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def forged_port_unreachable(client_port: int, server_port: int) -> bytes:
    addr = socket.inet_aton(LOOPBACK)
    udp_length = 8 + 40  # a plausible Access-Request; only the header is quoted
    # The quoted datagram: 127.0.0.1:client_port -> 127.0.0.1:server_port, UDP.
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + udp_length, 0x1234, 0x4000, 64, socket.IPPROTO_UDP, 0, addr, addr)
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    udp = struct.pack("!HHHH", client_port, server_port, udp_length, 0)
    body = ip + udp
    header = struct.pack("!BBHI", 3, 3, 0, 0)  # type 3 destination unreachable, code 3 port unreachable
    return struct.pack("!BBHI", 3, 3, checksum(header + body), 0) + body


def main() -> int:
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    if sys.argv[1:] == ["--check"]:
        return 0
    client_port, server_port = int(sys.argv[1]), int(sys.argv[2])
    raw.sendto(forged_port_unreachable(client_port, server_port), (LOOPBACK, 0))
    raw.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
