"""Queue lifetime end to end: a recipient the downstream keeps deferring
expires at queue.lifetime_ms and bounces with 4.4.7 (RFC 3463 §3.5), while
the other recipient of the same message is delivered; the delivery log
says "expired", and the bounce reaches the sender."""
import email
import email.policy
import json
import os
import smtplib
import tempfile
import unittest

from harness import junit
from harness.ringmta_process import RingmtaProcess
from harness.smtp_sink import SmtpSink
from harness.util import wait_for_log, write_config

CONFIG = """
[queue]
lifetime_ms = 3000

[delivery]
retry_initial_ms = 200
retry_max_ms = 400
idle_timeout_ms = 300
"""


class Expiry(unittest.TestCase):
    def test_a_recipient_deferred_past_the_lifetime_expires_and_bounces(self):
        log_path = os.path.join(tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR")),
                                "delivery.jsonl")
        with SmtpSink() as sink, RingmtaProcess(
                "--config", write_config(CONFIG), "--smarthost", f"127.0.0.1:{sink.port}",
                "--delivery-log", log_path) as mta:
            sink.rcpt_replies["later@example.org"] = "451 4.3.0 try again later"
            with smtplib.SMTP("127.0.0.1", mta.port, timeout=30) as client:
                refused = client.sendmail("sender@example.com",
                                          ["now@example.org", "later@example.org"],
                                          b"Subject: expiring\r\n\r\nbody\r\n")
            self.assertEqual(refused, {})
            # The delivered copy, then the bounce (to the sender, from <>).
            self.assertTrue(sink.wait_for(2, timeout_s=30), mta.log())
            self.assertTrue(wait_for_log(mta, "expired"), mta.log())

        delivered = [m for m in sink.messages if m[1] == ["now@example.org"]]
        self.assertEqual(len(delivered), 1)
        bounces = [m for m in sink.messages if m[1] == ["sender@example.com"]]
        self.assertEqual(len(bounces), 1, sink.messages)
        mail_from, _, data = bounces[0]
        self.assertIn(mail_from, ("", "<>"))  # the null reverse-path
        report = email.message_from_bytes(data, policy=email.policy.default)
        self.assertEqual(report.get_content_type(), "multipart/report")
        status = next(part for part in report.walk()
                      if part.get_content_type() == "message/delivery-status")
        text = status.as_string()
        self.assertIn("Final-Recipient: rfc822;later@example.org", text)
        self.assertIn("Status: 4.4.7", text)
        self.assertIn("Action: failed", text)
        self.assertNotIn("now@example.org", text)

        with open(log_path, encoding="utf-8") as log:
            events = [json.loads(line) for line in log]
        expired = [e for e in events if e["event"] == "expired"]
        self.assertEqual([e["recipient"] for e in expired], ["later@example.org"])
        self.assertEqual(expired[0]["status"], "4.4.7")
        self.assertGreaterEqual(expired[0]["queue_time_ms"], 3000)
        self.assertEqual(
            [e["recipient"] for e in events if e["event"] == "delivered"
             and e["recipient"] != "sender@example.com"], ["now@example.org"])
        # It was retried meanwhile, never bounced before its time.
        self.assertGreater(len([e for e in events if e["event"] == "deferred"]), 1)
        self.assertEqual([e for e in events if e["event"] == "bounced"], [])


if __name__ == "__main__":
    junit.main()
