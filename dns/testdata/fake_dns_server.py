#!/usr/bin/python3
"""A fixed-zone DNS server for the resolver's loopback tests (python3-dnslib).

Binds UDP and TCP on one 127.0.0.1 port chosen by the kernel, prints that port
on stdout, and serves until stdin closes (the test process went away) or it is
killed. Not a general server: every name below exists for one test.

Query counter: an A query for "<name>.count.invalid" answers 0.0.HI.LO, the
number of queries (any type, UDP or TCP) seen so far for <name>.
"""

import socket
import socketserver
import struct
import sys
import threading
import time

from dnslib import AAAA, CNAME, MX, QTYPE, RCODE, RR, SOA, A, DNSRecord

ZONE_SOA_NAME = "test"
COUNT_SUFFIX = ".count.invalid"
SLOW_SECONDS = 2.0

# name -> list of (type, rdata, ttl); names absent here are NXDOMAIN.
RECORDS = {
    # Three hosts at preference 10, one each at 20 and 30 (shuffle tests).
    "multi.test": [
        ("MX", MX("a.mx.test", 10), 300),
        ("MX", MX("b.mx.test", 10), 300),
        ("MX", MX("c.mx.test", 10), 300),
        ("MX", MX("d.mx.test", 20), 300),
        ("MX", MX("e.mx.test", 30), 300),
    ],
    "a.mx.test": [("A", A("192.0.2.1"), 300)],
    # No MX, but addresses: implicit MX (RFC 5321 §5.1).
    "implicit.test": [
        ("A", A("192.0.2.10"), 300),
        ("AAAA", AAAA("2001:db8::10"), 300),
    ],
    # Exists with neither MX nor addresses: no route at all.
    "noaddr.test": [("TXT", None, 300)],
    # RFC 7505 null MX.
    "nullmx.test": [("MX", MX(".", 0), 300)],
    "v6only.test": [("AAAA", AAAA("2001:db8::6"), 300)],
    # One-second TTL for cache expiry.
    "ttl1.test": [("A", A("192.0.2.11"), 1)],
    # CNAME chain ending at multi.test (a recursive resolver returns it whole).
    "alias.test": [("CNAME", CNAME("alias2.test"), 300)],
    "alias2.test": [("CNAME", CNAME("multi.test"), 60)],
    # For the relay's delivery tests: MX hosts on loopback (the test sets the
    # port), a backup MX that answers nothing, and a domain whose MX is dead.
    "loop.test": [("MX", MX("mx1.loop.test", 10), 300)],
    "mx1.loop.test": [("A", A("127.0.0.1"), 300)],
    "backup.test": [
        ("MX", MX("dead.backup.test", 5), 300),
        ("MX", MX("mx1.loop.test", 10), 300),
    ],
    "dead.backup.test": [("A", A("127.0.0.2"), 300)],
    # Answered over TCP only: UDP replies are truncated (TC=1).
    "tcp.test": [("MX", MX("a.mx.test", 5), 300)],
    # Relay fault tests: the first MX (127.0.0.3) greets with 421, the
    # second is mx1.loop.test.
    "greet421.test": [
        ("MX", MX("mx421.greet421.test", 5), 300),
        ("MX", MX("mx1.loop.test", 10), 300),
    ],
    "mx421.greet421.test": [("A", A("127.0.0.3"), 300)],
}
SERVFAIL = {"servfail.test"}
REFUSED = {"refused.test"}
SLOW = {"slow.test"}
TRUNCATE_UDP = {"tcp.test"}
# NXDOMAIN with this SOA minimum (seconds); others get 60.
NEGATIVE_MINIMUM = {"neg1.test": 1}

counts = {}
counts_lock = threading.Lock()


def count_query(name):
    with counts_lock:
        counts[name] = counts.get(name, 0) + 1


def query_count(name):
    with counts_lock:
        return counts.get(name, 0)


def soa_rr(minimum):
    times = (1, 3600, 600, 86400, minimum)
    return RR(ZONE_SOA_NAME, QTYPE.SOA, rdata=SOA("ns.test", "hostmaster.test", times), ttl=3600)


def many_host_address(name):
    """hostN.many.test -> 10.0.N/256.N%256, for the concurrency test."""
    label = name.split(".")[0]
    if not name.endswith(".many.test") or not label.startswith("host"):
        return None
    try:
        n = int(label[4:])
    except ValueError:
        return None
    return A("10.0.%d.%d" % (n // 256 % 256, n % 256))


def follow(reply, name, qtype, depth=0):
    """Adds the records of `name` (following CNAMEs) and returns True if the name exists."""
    host = many_host_address(name)
    if host is not None:
        if qtype == "A":
            reply.add_answer(RR(name, QTYPE.A, rdata=host, ttl=300))
        return True
    records = RECORDS.get(name)
    if records is None:
        return False
    for rtype, rdata, ttl in records:
        if rtype == "CNAME" and qtype != "CNAME" and depth < 8:
            reply.add_answer(RR(name, QTYPE.CNAME, rdata=rdata, ttl=ttl))
            return follow(reply, str(rdata.label).rstrip("."), qtype, depth + 1)
    for rtype, rdata, ttl in records:
        if rtype == qtype and rdata is not None:
            reply.add_answer(RR(name, getattr(QTYPE, rtype), rdata=rdata, ttl=ttl))
    return True


def answer(data, over_udp):
    request = DNSRecord.parse(data)
    reply = request.reply()
    qname = str(request.q.qname).rstrip(".").lower()
    qtype = QTYPE[request.q.qtype]
    if qname.endswith(COUNT_SUFFIX):
        n = query_count(qname[: -len(COUNT_SUFFIX)])
        reply.add_answer(RR(qname, QTYPE.A, rdata=A("0.0.%d.%d" % (n // 256, n % 256)), ttl=0))
        return reply.pack()
    count_query(qname)
    if qname in SLOW:
        time.sleep(SLOW_SECONDS)
    if qname in SERVFAIL:
        reply.header.rcode = RCODE.SERVFAIL
    elif qname in REFUSED:
        reply.header.rcode = RCODE.REFUSED
    elif over_udp and qname in TRUNCATE_UDP:
        reply.header.tc = 1
    elif not follow(reply, qname, qtype):
        reply.header.rcode = RCODE.NXDOMAIN
        reply.add_auth(soa_rr(NEGATIVE_MINIMUM.get(qname, 60)))
    elif not reply.rr:
        reply.add_auth(soa_rr(300))  # NOERROR, no data (RFC 2308 §2.2)
    return reply.pack()


class UdpHandler(socketserver.BaseRequestHandler):
    def handle(self):
        data, sock = self.request
        try:
            sock.sendto(answer(data, True), self.client_address)
        except Exception as error:  # a test must see a timeout, not a dead server
            print("fake_dns_server: %r" % error, file=sys.stderr)


class TcpHandler(socketserver.BaseRequestHandler):
    def handle(self):
        while True:
            header = self.request.recv(2)
            if len(header) < 2:
                return
            (length,) = struct.unpack("!H", header)
            data = b""
            while len(data) < length:
                chunk = self.request.recv(length - len(data))
                if not chunk:
                    return
                data += chunk
            reply = answer(data, False)
            self.request.sendall(struct.pack("!H", len(reply)) + reply)


class ThreadingUdp(socketserver.ThreadingUDPServer):
    daemon_threads = True


class ThreadingTcp(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def bind_pair():
    """UDP on port 0, then TCP on the same port; retries if TCP's is taken."""
    for _ in range(50):
        udp = ThreadingUdp(("127.0.0.1", 0), UdpHandler)
        port = udp.server_address[1]
        try:
            tcp = ThreadingTcp(("127.0.0.1", port), TcpHandler)
            return udp, tcp, port
        except OSError:
            udp.server_close()
    raise SystemExit("fake_dns_server: no free UDP+TCP port pair")


def main():
    udp, tcp, port = bind_pair()
    for server in (udp, tcp):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    print(port, flush=True)
    sys.stdin.read()  # returns at EOF: the parent closed our stdin or died


if __name__ == "__main__":
    main()
