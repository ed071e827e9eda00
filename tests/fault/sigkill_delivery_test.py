"""Fault: SIGKILL while deliveries are in flight. The sink holds every DATA
reply for a while, so at each kill some messages have been sent in full and
are waiting for their 250. After each kill the daemon restarts on the same
spool. At the end every acknowledged message has arrived at least once and
nothing is left queued; duplicates (the sink took a message whose outcome
the dead daemon never recorded) are allowed and reported."""
import signal
import time
import unittest

from harness import junit
from harness.accounting import Ledger, send_numbered
from harness.flaky_sink import FlakySink

import fault_common

KILLS = 3
PER_ROUND = 15


class SigkillDuringDelivery(unittest.TestCase):
    def test_everything_acknowledged_arrives_after_kills_mid_delivery(self):
        spool = fault_common.new_spool()
        self.addCleanup(fault_common.remove_spool, spool)
        ledger = Ledger()
        in_flight_at_kill = []
        with FlakySink(slow_fraction=1.0, slow_s=0.4) as sink:
            args = ("--smarthost", f"127.0.0.1:{sink.port}")
            for round_number in range(KILLS):
                with fault_common.daemon(spool, *args) as mta:
                    first = round_number * PER_ROUND
                    refused = send_numbered(mta.port, ledger, range(first, first + PER_ROUND))
                    self.assertEqual(refused, {})
                    # Wait until the sink is holding DATA replies, then kill.
                    before = sink.slowed
                    deadline = time.monotonic() + 30
                    while sink.slowed < before + 2 and time.monotonic() < deadline:
                        time.sleep(0.01)
                    in_flight_at_kill.append(sink.slowed - before)
                    mta.process.send_signal(signal.SIGKILL)
                    mta.process.wait()
            sink.slow_fraction = 0.0
            with fault_common.daemon(spool, *args) as mta:
                report = fault_common.wait_until_settled(ledger, lambda: list(sink.messages), 60)
                self.assertEqual(report.missing, set(), mta.log()[-3000:])
                report = fault_common.close_books(self, mta, ledger, lambda: list(sink.messages),
                                                  allow_duplicates=True, name="sigkill")
        print(f"sigkill: {KILLS} kills with {in_flight_at_kill} DATA replies pending at the "
              f"sink, {report.duplicates} duplicates delivered")
        self.assertTrue(all(pending >= 2 for pending in in_flight_at_kill), in_flight_at_kill)
        self.assertEqual(report.received, KILLS * PER_ROUND)


if __name__ == "__main__":
    junit.main()
