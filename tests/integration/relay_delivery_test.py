"""End to end delivery: smtplib -> ringmta -> a python3-aiosmtpd sink, via
a smart host route and via MX records served by a DNS server on loopback.
Asserts what arrives, connection reuse, retries after 4xx and after the
downstream was down, permanent failures, and DNS outcomes."""
import email
import email.policy
import os
import smtplib
import subprocess
import sys
import tempfile
import time
import unittest

from harness import junit
from harness.ringmta_process import RingmtaProcess
from harness.smtp_sink import SmtpSink
from harness.util import FakeDns, wait_for_log, write_config

FAST_RETRY = """
[delivery]
retry_initial_ms = 200
retry_max_ms = 400
idle_timeout_ms = 500
"""




def send(port, sender, recipients, body, count=1):
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        for _ in range(count):
            refused = client.sendmail(sender, recipients, body)
            assert refused == {}, refused


class SmartHostDelivery(unittest.TestCase):
    def test_message_arrives_intact_with_a_received_header(self):
        with SmtpSink() as sink, RingmtaProcess("--smarthost", f"127.0.0.1:{sink.port}") as mta:
            body = b"Subject: hello\r\nFrom: a@example.com\r\n\r\nline one\r\n.leading dot\r\n"
            send(mta.port, "a@example.com", ["b@example.org"], body)
            self.assertTrue(sink.wait_for(1), mta.log())
            mail_from, rcpts, data = sink.messages[0]
            self.assertEqual(mail_from, "a@example.com")
            self.assertEqual(rcpts, ["b@example.org"])
            self.assertTrue(data.startswith(b"Received: from "), data[:200])
            self.assertTrue(data.endswith(body), data)

    def test_many_messages_reuse_few_connections(self):
        with SmtpSink() as sink, RingmtaProcess("--smarthost", f"127.0.0.1:{sink.port}") as mta:
            send(mta.port, "a@example.com", ["b@example.org"], b"Subject: n\r\n\r\nx\r\n", count=40)
            self.assertTrue(sink.wait_for(40), mta.log())
            # 40 messages; the window starts at 5 connections and grows by
            # deliveries, never past 20; reuse keeps it well under 40.
            self.assertLessEqual(sink.connections, 20)
            self.assertEqual(len(sink.messages), 40)

    def test_each_recipient_gets_its_own_outcome(self):
        with SmtpSink() as sink, RingmtaProcess("--smarthost", f"127.0.0.1:{sink.port}") as mta:
            sink.rcpt_replies["nobody@example.org"] = "550 5.1.1 no such user"
            send(mta.port, "a@example.com", ["b@example.org", "nobody@example.org"],
                 b"Subject: two\r\n\r\nx\r\n")
            self.assertTrue(sink.wait_for(1), mta.log())
            self.assertEqual(sink.messages[0][1], ["b@example.org"])
            deadline = time.monotonic() + 10
            while "bounced to=<nobody@example.org>" not in mta.log() and time.monotonic() < deadline:
                time.sleep(0.05)
            self.assertIn("bounced to=<nobody@example.org>", mta.log())
            self.assertIn("5.1.1", mta.log())
            # The bounce: an RFC 3464 report from the null sender to the
            # original sender, relayed like any message.
            self.assertTrue(sink.wait_for(2), mta.log())
            mail_from, rcpts, data = sink.messages[1]
            self.assertIn(mail_from, ("", "<>"))  # aiosmtpd reports <> as is
            self.assertEqual(rcpts, ["a@example.com"])
            report = email.message_from_bytes(data, policy=email.policy.default)
            self.assertEqual(report.get_content_type(), "multipart/report")
            self.assertEqual(report.get_param("report-type"), "delivery-status")
            status = [part for part in report.iter_parts()
                      if part.get_content_type() == "message/delivery-status"][0]
            fields = status.get_payload()[1]  # per-message fields come first
            self.assertEqual(fields["Action"], "failed")
            self.assertEqual(fields["Status"], "5.1.1")
            self.assertIn("nobody@example.org", fields["Final-Recipient"])

    def test_temporary_failure_is_retried_until_delivered(self):
        config = write_config(FAST_RETRY)
        with SmtpSink() as sink, RingmtaProcess("--config", config, "--smarthost",
                                                f"127.0.0.1:{sink.port}") as mta:
            sink.data_replies = ["451 4.3.0 try again later"]
            send(mta.port, "a@example.com", ["b@example.org"], b"Subject: retry\r\n\r\nx\r\n")
            self.assertTrue(sink.wait_for(1, timeout_s=30), mta.log())
            self.assertIn("deferred to=<b@example.org>", mta.log())
            time.sleep(0.5)
            self.assertEqual(len(sink.messages), 1)  # delivered once, not twice

    def test_downstream_down_then_up(self):
        config = write_config(FAST_RETRY)
        sink = SmtpSink()  # port reserved, not listening yet
        with RingmtaProcess("--config", config, "--smarthost", f"127.0.0.1:{sink.port}") as mta:
            send(mta.port, "a@example.com", ["b@example.org"], b"Subject: later\r\n\r\nx\r\n")
            deadline = time.monotonic() + 10
            while "deferred to=<b@example.org>" not in mta.log() and time.monotonic() < deadline:
                time.sleep(0.05)
            self.assertIn("deferred to=<b@example.org>", mta.log())
            with sink:
                self.assertTrue(sink.wait_for(1, timeout_s=30), mta.log())


class SmtpSourceInterop(unittest.TestCase):
    def test_postfix_smtp_source_at_concurrency(self):
        # Postfix's load generator, 20 parallel sessions, through ringmta to
        # the sink: every message it sent must arrive once.
        with SmtpSink() as sink, RingmtaProcess("--smarthost", f"127.0.0.1:{sink.port}") as mta:
            result = subprocess.run(
                ["smtp-source", "-s", "20", "-m", "400", "-l", "2048", "-f", "a@example.com",
                 "-t", "b@example.org", f"127.0.0.1:{mta.port}"],
                capture_output=True, text=True, timeout=120)
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertTrue(sink.wait_for(400, timeout_s=60), mta.log()[-2000:])
            time.sleep(0.3)
            self.assertEqual(len(sink.messages), 400)


class Backpressure(unittest.TestCase):
    def test_full_queue_answers_452_and_keeps_what_it_has(self):
        config = write_config("[queue]\nmessages_max = 2\n" + FAST_RETRY)
        sink = SmtpSink()  # reserved port, nobody listening: mail stays queued
        with RingmtaProcess("--config", config, "--smarthost", f"127.0.0.1:{sink.port}",
                            shards=1) as mta:
            send(mta.port, "a@example.com", ["b@example.org"], b"Subject: 1\r\n\r\nx\r\n", count=2)
            with smtplib.SMTP("127.0.0.1", mta.port, timeout=30) as client:
                with self.assertRaises(smtplib.SMTPDataError) as caught:
                    client.sendmail("a@example.com", ["b@example.org"], b"Subject: 3\r\n\r\nx\r\n")
            self.assertEqual(caught.exception.smtp_code, 452)
            with sink:  # the downstream returns: the two queued ones go out
                self.assertTrue(sink.wait_for(2, timeout_s=30), mta.log())


class MxDelivery(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dns = FakeDns().__enter__()
        cls.dns_port = cls.dns.port

    @classmethod
    def tearDownClass(cls):
        cls.dns.__exit__(None, None, None)

    def mta(self, sink):
        config = write_config(FAST_RETRY + f'dns_servers = ["127.0.0.1:{self.dns_port}"]\n'
                              f"mx_port = {sink.port}\n")
        return RingmtaProcess("--config", config)

    def test_delivers_to_the_mx_host(self):
        with SmtpSink() as sink, self.mta(sink) as mta:
            send(mta.port, "a@example.com", ["user@loop.test"], b"Subject: mx\r\n\r\nx\r\n")
            self.assertTrue(sink.wait_for(1), mta.log())
            self.assertEqual(sink.messages[0][1], ["user@loop.test"])

    def test_unreachable_first_mx_falls_through_to_the_next(self):
        with SmtpSink() as sink, self.mta(sink) as mta:
            send(mta.port, "a@example.com", ["user@backup.test"], b"Subject: mx2\r\n\r\nx\r\n")
            self.assertTrue(sink.wait_for(1), mta.log())

    def test_null_mx_and_nxdomain_bounce_at_once(self):
        with SmtpSink() as sink, self.mta(sink) as mta:
            send(mta.port, "a@example.com", ["u@nullmx.test", "u@nonexistent.test"],
                 b"Subject: nope\r\n\r\nx\r\n")
            deadline = time.monotonic() + 10
            while mta.log().count("bounced to=") < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
            log = mta.log()
            self.assertIn("bounced to=<u@nullmx.test>", log)
            self.assertIn("status=5.1.10", log)
            self.assertIn("bounced to=<u@nonexistent.test>", log)
            self.assertIn("status=5.1.2", log)

    def test_servfail_defers(self):
        with SmtpSink() as sink, self.mta(sink) as mta:
            send(mta.port, "a@example.com", ["u@servfail.test"], b"Subject: later\r\n\r\nx\r\n")
            deadline = time.monotonic() + 10
            while "deferred to=<u@servfail.test>" not in mta.log() and time.monotonic() < deadline:
                time.sleep(0.05)
            self.assertIn("status=4.4.3", mta.log())


if __name__ == "__main__":
    junit.main()
