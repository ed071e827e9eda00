"""Fault: the resolver does not answer. ringmta's MX lookups time out (c-ares
retries, then gives up), the messages are deferred, not bounced, and stay
queued; once the resolver answers again (in the same daemon, or in one
restarted on the spool) every message is delivered.

The resolver is a UDP relay in front of dns/testdata/fake_dns_server.py
that drops queries until the test lets them through, and answers A and AAAA
queries late: the retried messages' jobs then reach the destination while
its first session is still waiting for the MX host's addresses. That is the
window in which ConnectToAny once read the destination's hop list after an
arriving job had replaced (freed) it: the daemon died without a log line
(fixed in 3dc1818; these tests hung about one run in four before, because
the window was a few milliseconds wide).
"""
import socket
import threading
import time
import unittest

from harness import junit
from harness.accounting import Ledger, send_numbered
from harness.smtp_sink import SmtpSink
from harness.util import FakeDns

import fault_common

COUNT = 6
# Longer than the spread of the retried messages' due times (retry_initial_ms
# 200 with +-20% jitter), so later jobs arrive while the first session waits.
ADDRESS_ANSWER_DELAY_S = 0.15
QTYPE_A, QTYPE_AAAA = 1, 28


def query_type(query):
    """The QTYPE of a DNS query's first question (RFC 1035 §4.1.2)."""
    offset = 12
    while query[offset]:
        offset += query[offset] + 1
    return int.from_bytes(query[offset + 1:offset + 3], "big")


class SilentThenAnsweringDns:
    """UDP on a kernel-chosen loopback port; drops queries while `silent`
    is set (which it clears itself after `answer_after_drops` drops, if
    given); else relays them to `upstream_port` and the answer back, A and
    AAAA answers ADDRESS_ANSWER_DELAY_S late (each query on its own thread)."""

    def __init__(self, upstream_port, silent=True, answer_after_drops=None):
        self.upstream = ("127.0.0.1", upstream_port)
        self.silent = threading.Event()
        if silent:
            self.silent.set()
        self.answer_after_drops = answer_after_drops
        self.dropped = 0
        self.relayed = 0
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.settimeout(0.1)
        self.port = self._socket.getsockname()[1]
        self._stop = threading.Event()
        self._lock = threading.Lock()

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
                if self.dropped == self.answer_after_drops:
                    self.silent.clear()
                continue
            threading.Thread(target=self._relay, args=(query, client), daemon=True).start()

    def _relay(self, query, client):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as upstream:
            upstream.settimeout(2)
            upstream.sendto(query, self.upstream)
            try:
                answer, _ = upstream.recvfrom(4096)
            except socket.timeout:
                return
        if query_type(query) in (QTYPE_A, QTYPE_AAAA):
            time.sleep(ADDRESS_ANSWER_DELAY_S)
        try:
            self._socket.sendto(answer, client)
        except OSError:  # closed: the test is over
            return
        with self._lock:
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

    def assert_running(self, mta):
        # A daemon that died logs nothing more: say so, not "no delivery".
        self.assertIsNone(mta.process.poll(),
                          f"ringmta exited ({mta.process.returncode})\n{mta.log()[-3000:]}")

    def test_restart_delivers_once_dns_answers(self):
        """After the timeouts, a daemon restarted on the spool with an
        answering resolver delivers every message."""
        ledger = Ledger()
        with FakeDns() as fake, SilentThenAnsweringDns(fake.port) as dns, SmtpSink() as sink:
            with fault_common.daemon(self.spool,
                                     config_text=self.config(dns.port, sink)) as mta:
                self.send_and_wait_for_timeouts(mta, dns, sink, ledger)
                fault_common.close_books(self, mta, ledger, lambda: list(sink.messages),
                                         name="dns silent, stopped")
            with SilentThenAnsweringDns(fake.port, silent=False) as answering:
                with fault_common.daemon(self.spool,
                                         config_text=self.config(answering.port, sink)) as mta:
                    report = fault_common.wait_until_settled(ledger,
                                                             lambda: list(sink.messages), 60)
                    self.assert_running(mta)
                    self.assertEqual(report.missing, set(),
                                     f"{sink.connections} connections\n{mta.log()[-3000:]}")
                    fault_common.close_books(self, mta, ledger, lambda: list(sink.messages),
                                             name="dns answering, restarted")

    def test_same_daemon_delivers_once_dns_answers_again(self):
        """The six messages share one MX lookup, whose tries are all dropped:
        each is deferred (4.4.3). The relay then answers; the retries (due
        160-240 ms later) reach the destination one by one while its first
        session waits ADDRESS_ANSWER_DELAY_S for mx1.loop.test's A and AAAA:
        all six are delivered and the daemon is still running."""
        ledger = Ledger()
        # 3: every try of the one MX lookup (the resolver's default tries).
        with FakeDns() as fake, SilentThenAnsweringDns(fake.port,
                                                       answer_after_drops=3) as dns, \
                SmtpSink() as sink:
            with fault_common.daemon(self.spool,
                                     config_text=self.config(dns.port, sink)) as mta:
                refused = send_numbered(mta.port, ledger, range(COUNT),
                                        recipient=lambda n: f"rcpt{n}@loop.test")
                self.assertEqual(refused, {})
                self.assertTrue(fault_common.wait_for_log(mta, "deferred to=<rcpt0@loop.test>",
                                                          timeout_s=60), mta.log()[-3000:])
                report = fault_common.wait_until_settled(ledger, lambda: list(sink.messages), 60)
                self.assert_running(mta)
                self.assertEqual(report.missing, set(),
                                 f"relayed {dns.relayed} answers, {sink.connections} "
                                 f"connections\n{mta.log()[-3000:]}")
                log = mta.log()
                self.assertLess(log.index("status=4.4.3"), log.index(" delivered to=<"))
                fault_common.close_books(self, mta, ledger, lambda: list(sink.messages),
                                         name="dns timeout, same daemon")

if __name__ == "__main__":
    junit.main()
