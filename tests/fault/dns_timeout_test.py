"""Fault: the resolver does not answer. ringmta's MX lookups time out (c-ares
retries, then gives up), the messages are deferred, not bounced, and stay
queued. Delivery once the resolver answers again is written too, but skipped:
it hangs intermittently (a ringmta bug, described in those tests).

The resolver is a UDP relay in front of dns/testdata/fake_dns_server.py
that drops every query until the test lets them through.
"""
import os
import socket
import threading
import unittest

from harness import junit
from harness.accounting import Ledger, send_numbered
from harness.smtp_sink import SmtpSink
from harness.util import FakeDns

import fault_common

COUNT = 6


class SilentThenAnsweringDns:
    """UDP on a kernel-chosen loopback port; drops queries while `silent`
    is set, else relays them to `upstream_port` and the answer back."""

    def __init__(self, upstream_port):
        self.upstream = ("127.0.0.1", upstream_port)
        self.silent = threading.Event()
        self.silent.set()
        self.dropped = 0
        self.relayed = 0
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.settimeout(0.1)
        self.port = self._socket.getsockname()[1]
        self._stop = threading.Event()

    def __enter__(self):
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(5)
        self._socket.close()

    def _serve(self):
        while not self._stop.is_set():
            try:
                query, client = self._socket.recvfrom(4096)
            except socket.timeout:
                continue
            if self.silent.is_set():
                self.dropped += 1
                continue
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as upstream:
                upstream.settimeout(2)
                upstream.sendto(query, self.upstream)
                try:
                    answer, _ = upstream.recvfrom(4096)
                except socket.timeout:
                    continue
            self._socket.sendto(answer, client)
            self.relayed += 1


class DnsTimeout(unittest.TestCase):
    def setUp(self):
        self.spool = fault_common.new_spool()
        self.addCleanup(fault_common.remove_spool, self.spool)

    def config(self, dns_port, sink):
        return (fault_common.FAST_RETRY + f'dns_servers = ["127.0.0.1:{dns_port}"]\n'
                f"mx_port = {sink.port}\n")

    def send_and_wait_for_timeouts(self, mta, dns, sink, ledger):
        # loop.test: MX mx1.loop.test -> 127.0.0.1 (the sink's port).
        refused = send_numbered(mta.port, ledger, range(COUNT),
                                recipient=lambda n: f"rcpt{n}@loop.test")
        self.assertEqual(refused, {})
        # c-ares gives up after its tries (about 21 s by default).
        self.assertTrue(fault_common.wait_for_log(mta, "deferred to=<rcpt0@loop.test>",
                                                  timeout_s=60), mta.log()[-3000:])
        self.assertGreater(dns.dropped, 0)
        self.assertIn("status=4.4.3", mta.log())
        self.assertEqual(sink.messages, [])
        self.assertNotIn("bounced", mta.log())

    def test_unanswered_lookups_defer_and_stay_queued(self):
        """Timeouts defer (4.4.3), never bounce, deliver nothing; at a stop
        every message is still queued (queue_dump) and the books balance."""
        ledger = Ledger()
        with FakeDns() as fake, SilentThenAnsweringDns(fake.port) as dns, SmtpSink() as sink:
            with fault_common.daemon(self.spool,
                                     config_text=self.config(dns.port, sink)) as mta:
                self.send_and_wait_for_timeouts(mta, dns, sink, ledger)
                report = fault_common.close_books(self, mta, ledger, lambda: list(sink.messages),
                                                  name="dns silent, stopped")
                self.assertEqual(report.queued, COUNT)
        print(f"dns: {dns.dropped} queries dropped")

    @unittest.skipIf(os.environ.get("RINGMTA_RUN_KNOWN_BUGS") is None,
                     "ringmta bug (intermittent): after DNS timeouts, a daemon restarted on "
                     "the spool with a working resolver sometimes never delivers")
    def test_restart_delivers_once_dns_answers(self):
        """Hung in both `bazel test` runs of this sequence (once with the
        restarted daemon asking the fake server directly, as here, once
        through the relay); passed when run by hand. The restarted daemon
        logs "6 queued messages scheduled for delivery" and then nothing at
        all for 60 s: no delivery, no deferral, no DNS timeout."""
        ledger = Ledger()
        with FakeDns() as fake, SilentThenAnsweringDns(fake.port) as dns, SmtpSink() as sink:
            with fault_common.daemon(self.spool,
                                     config_text=self.config(dns.port, sink)) as mta:
                self.send_and_wait_for_timeouts(mta, dns, sink, ledger)
                fault_common.close_books(self, mta, ledger, lambda: list(sink.messages),
                                         name="dns silent, stopped")
            with fault_common.daemon(self.spool,
                                     config_text=self.config(fake.port, sink)) as mta:
                report = fault_common.wait_until_settled(ledger, lambda: list(sink.messages), 60)
                self.assertEqual(report.missing, set(),
                                 f"{sink.connections} connections\n{mta.log()[-3000:]}")
                fault_common.close_books(self, mta, ledger, lambda: list(sink.messages),
                                         name="dns answering, restarted")

    @unittest.skipIf(os.environ.get("RINGMTA_RUN_KNOWN_BUGS") is None,
                     "ringmta bug (intermittent, about 1 run in 4): the MX, A and AAAA "
                     "queries are answered but the lookup never completes nor times out")
    def test_same_daemon_delivers_once_dns_answers_again(self):
        """Seen 3 times in about 15 runs by hand (2 shards): the six messages share
        one MX lookup, which times out (3 queries dropped; all six logged
        "deferred ... 4.4.3" in the same millisecond). The relay then lets
        queries through and answers the retry's three queries (MX loop.test,
        A and AAAA mx1.loop.test), but nothing follows: no connection to the
        sink, no delivery, no new deferral, for 50 s and more, though the
        retry delay is 200-400 ms and a lookup times out in ~21 s. Other runs
        deliver all six within a second of DNS answering. A daemon freshly
        started on that spool hangs the same way (once through this relay,
        once asking the fake server directly: the test above), so neither
        the relay nor an in-process timeout is needed. No query is outstanding (c-ares
        would retransmit; the relay saw none): an answered A/AAAA pair whose
        completion never reaches the waiting lookup (dns/resolver.cc) would
        look like this. The relay answers one query at a time, so the A and
        AAAA answers reach the daemon back to back."""
        ledger = Ledger()
        with FakeDns() as fake, SilentThenAnsweringDns(fake.port) as dns, SmtpSink() as sink:
            with fault_common.daemon(self.spool,
                                     config_text=self.config(dns.port, sink)) as mta:
                self.send_and_wait_for_timeouts(mta, dns, sink, ledger)
                dns.silent.clear()
                report = fault_common.wait_until_settled(ledger, lambda: list(sink.messages), 60)
                self.assertEqual(report.missing, set(),
                                 f"relayed {dns.relayed} answers, {sink.connections} "
                                 f"connections\n{mta.log()[-3000:]}")
                fault_common.close_books(self, mta, ledger, lambda: list(sink.messages),
                                         name="dns timeout, same daemon")


if __name__ == "__main__":
    junit.main()
