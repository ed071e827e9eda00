"""Fault: a slow, flaky downstream. The sink waits before some DATA replies,
answers 451 to a share of messages and refuses some recipients (550). Every
acknowledged message must end up delivered once or bounced to its sender
(the DSN reaches the same sink), with nothing left queued."""
import unittest

from harness import junit
from harness.accounting import Ledger, send_numbered
from harness.flaky_sink import FlakySink

import fault_common

COUNT = 60


def recipient(number):
    # Every tenth recipient is refused by the sink: a bounce to the sender.
    return f"bounce{number}@example.org" if number % 10 == 3 else f"rcpt{number}@example.org"


class SlowDownstream(unittest.TestCase):
    def setUp(self):
        self.spool = fault_common.new_spool()
        self.addCleanup(fault_common.remove_spool, self.spool)

    def test_slow_replies_and_deferrals_lose_nothing(self):
        ledger = Ledger()
        with FlakySink(defer_fraction=0.25, slow_fraction=0.3, slow_s=1.5) as sink, \
                fault_common.daemon(self.spool, "--smarthost", f"127.0.0.1:{sink.port}") as mta:
            refused = send_numbered(mta.port, ledger, range(COUNT), recipient=recipient,
                                    body_bytes=4096)
            self.assertEqual(refused, {})
            report = fault_common.wait_until_settled(ledger, lambda: list(sink.messages), 90)
            self.assertEqual(report.missing, set(), mta.log()[-3000:])
            self.assertGreater(sink.deferred, 0)
            self.assertGreater(sink.slowed, 0)
            self.assertEqual(sink.refused, COUNT // 10)
            report = fault_common.close_books(self, mta, ledger, lambda: list(sink.messages),
                                              name="slow and flaky downstream")
        self.assertEqual(report.bounced, {n for n in range(COUNT) if n % 10 == 3})
        self.assertEqual(len(report.delivered), COUNT - COUNT // 10)
        print(f"sink: {sink.deferred} deferred, {sink.slowed} slowed, {sink.refused} refused, "
              f"{sink.connections} connections")


class BounceContent(unittest.TestCase):
    def test_bounce_returns_the_original_headers(self):
        """RFC 6522: a DSN returns at least the original's header section.
        (bounce.cc once asked how much to read before it knew the size, and
        the returned header section came back empty.)"""
        spool = fault_common.new_spool()
        self.addCleanup(fault_common.remove_spool, spool)
        ledger = Ledger()
        with FlakySink() as sink, \
                fault_common.daemon(spool, "--smarthost", f"127.0.0.1:{sink.port}") as mta:
            refused = send_numbered(mta.port, ledger, [3], recipient=recipient)
            self.assertEqual(refused, {})
            self.assertTrue(sink.wait_for(1), mta.log()[-3000:])
            mail_from, rcpts, dsn = sink.messages[0]
            self.assertEqual((mail_from, rcpts), ("<>", [ledger.sender]))
            returned = dsn.split(b"Content-Type: text/rfc822-headers", 1)[1]
            self.assertIn(f"Subject: {ledger.marker(3)}".encode(), returned, dsn.decode())


if __name__ == "__main__":
    junit.main()
