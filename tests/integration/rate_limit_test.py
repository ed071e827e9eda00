"""Per-destination limits through the real daemon to a python3-aiosmtpd sink:
messages/s and new connections/s (delivery.*_per_second_per_destination),
and idle destinations being forgotten (delivery.destination_forget_ms).

Timing is asserted only in directions a slow machine cannot break: a
count seen by the sink never exceeds what the token bucket allows since
before the first message was sent (the daemon cannot have made more), and
the limited run takes at least a lower bound of time."""
import smtplib
import time
import unittest

from harness import junit
from harness.ringmta_process import RingmtaProcess
from harness.smtp_sink import SmtpSink
from harness.util import FakeDns, wait_for_log, write_config


class _TimedList(list):
    """The sink's message list, noting when each message arrived."""

    def __init__(self):
        super().__init__()
        self.times = []

    def append(self, item):
        self.times.append(time.monotonic())
        super().append(item)


def send(port, count, recipient="b@example.org"):
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        for n in range(count):
            refused = client.sendmail("a@example.com", [recipient],
                                      f"Subject: {n}\r\n\r\nx\r\n".encode())
            assert refused == {}, refused


def watch(sink, count, started, burst, rate_per_s, what, timeout_s=60):
    """Polls until `count` of `what` ("messages" or "connections") have been
    seen, checking at every look that no more than the bucket allows since
    `started` were. Returns the violations found (empty when within)."""
    violations = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with sink.lock:
            seen = len(sink.messages) if what == "messages" else sink.connections
        elapsed_s = time.monotonic() - started
        allowed = burst + int(rate_per_s * elapsed_s)
        if seen > allowed:
            violations.append(f"{seen} {what} after {elapsed_s:.3f} s (allowed {allowed})")
        if len(sink.messages) >= count:
            break
        time.sleep(0.02)
    return violations


def smarthost_config(sink, extra):
    return write_config(f'[delivery]\nsmarthost = "127.0.0.1:{sink.port}"\n' + extra)


class MessagesPerSecond(unittest.TestCase):
    def test_twenty_messages_at_five_per_second_are_spread_out(self):
        sink = SmtpSink()
        sink.messages = _TimedList()
        config = smarthost_config(sink, "messages_per_second_per_destination = 5\n")
        with sink, RingmtaProcess("--config", config) as mta:
            started = time.monotonic()
            send(mta.port, 20)
            violations = watch(sink, 20, started, burst=5, rate_per_s=5, what="messages")
            self.assertEqual(len(sink.messages), 20, mta.log())
            self.assertEqual(violations, [])
            # 5 at once, then 15 more at 5/s: 3 s between the first and the
            # last arrival at best; 2.5 leaves room for delivery jitter.
            spread_s = sink.messages.times[-1] - sink.messages.times[0]
            print(f"20 messages at 5/s: first to last arrival {spread_s:.3f} s")
            self.assertGreaterEqual(spread_s, 2.5, sink.messages.times)

    def test_unlimited_by_default(self):
        with SmtpSink() as sink, RingmtaProcess("--smarthost", f"127.0.0.1:{sink.port}") as mta:
            send(mta.port, 20)
            self.assertTrue(sink.wait_for(20), mta.log())


class ConnectionsPerSecond(unittest.TestCase):
    def test_new_connections_are_bounded_over_time(self):
        sink = SmtpSink()
        # One message per connection, so every message needs a new one.
        config = smarthost_config(sink, "connections_per_second_per_destination = 2\n"
                                        "messages_per_connection_max = 1\n")
        with sink, RingmtaProcess("--config", config) as mta:
            started = time.monotonic()
            send(mta.port, 10)
            violations = watch(sink, 10, started, burst=2, rate_per_s=2, what="connections")
            self.assertEqual(len(sink.messages), 10, mta.log())
            self.assertEqual(violations, [])
            self.assertGreaterEqual(sink.connections, 10)
            # 2 at once, then 8 more at 2/s: at least 4 s in all.
            elapsed_s = time.monotonic() - started
            print(f"10 messages, 1 per connection, 2 connections/s: {elapsed_s:.3f} s, "
                  f"{sink.connections} connections")
            self.assertGreaterEqual(elapsed_s, 3.5)


class IdleDestinations(unittest.TestCase):
    def test_idle_destinations_are_forgotten(self):
        with FakeDns() as dns, SmtpSink() as sink:
            config = write_config(
                '[server]\nlog_level = "debug"\n'
                f'[delivery]\ndns_servers = ["127.0.0.1:{dns.port}"]\nmx_port = {sink.port}\n'
                "idle_timeout_ms = 200\ndestination_forget_ms = 1000\n")
            with RingmtaProcess("--config", config) as mta:
                # Two MX sites (different MX host sets): two destinations.
                send(mta.port, 1, "u@loop.test")
                send(mta.port, 1, "u@backup.test")
                self.assertTrue(sink.wait_for(2), mta.log())
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline and forgotten(mta.log()) < 2:
                    time.sleep(0.05)
                self.assertEqual(forgotten(mta.log()), 2, mta.log())
                # A forgotten destination comes back on demand.
                send(mta.port, 1, "u@loop.test")
                self.assertTrue(sink.wait_for(3), mta.log())


def forgotten(log):
    total = 0
    for line in log.splitlines():
        if "forgot " in line and "idle destinations" in line:
            total += int(line.split("forgot ")[1].split()[0])
    return total


if __name__ == "__main__":
    junit.main()
