"""A bounce issued after a restart carries the failure it reports: the remote
host, status and diagnostic of a 5xx received before the daemon stopped come
back from the queue's RecipientFailed record, not from memory."""
import email
import email.policy
import shutil
import smtplib
import tempfile
import os
import unittest

from harness import junit
from harness.ringmta_process import RingmtaProcess
from harness.smtp_sink import SmtpSink
from harness.util import wait_for_log, write_config

# Long enough that the deferred recipient is still queued when the daemon
# stops right after its first attempt.
RETRY = """
[delivery]
retry_initial_ms = 3000
retry_max_ms = 3000
idle_timeout_ms = 500
"""
BODY = b"Subject: restart\r\nFrom: a@example.com\r\n\r\nbody\r\n"
REJECTION = "550 5.1.1 <bad@example.org>: no such mailbox (before the restart)"


class BounceAfterRestart(unittest.TestCase):
    def test_bounce_after_restart_has_the_real_diagnostic(self):
        spool = tempfile.mkdtemp(prefix="ringmta-spool-", dir=os.environ.get("TEST_TMPDIR"))
        self.addCleanup(shutil.rmtree, spool, True)
        config = write_config(RETRY)
        with SmtpSink() as sink:
            sink.rcpt_replies["bad@example.org"] = REJECTION
            sink.rcpt_replies["later@example.org"] = "451 4.3.0 try again later"
            args = ("--config", config, "--smarthost", f"127.0.0.1:{sink.port}")
            with RingmtaProcess(*args, spool=spool) as mta:
                with smtplib.SMTP("127.0.0.1", mta.port, timeout=60) as client:
                    refused = client.sendmail("a@example.com",
                                              ["bad@example.org", "later@example.org"], BODY)
                    self.assertEqual(refused, {})
                self.assertTrue(wait_for_log(mta, "bounced to=<bad@example.org>"), mta.log())
                self.assertTrue(wait_for_log(mta, "deferred to=<later@example.org>"), mta.log())
                self.assertEqual(mta.stop(), 0, mta.log())
            self.assertEqual(sink.messages, [], "nothing is delivered before the restart")

            del sink.rcpt_replies["later@example.org"]
            with RingmtaProcess(*args, spool=spool) as mta:
                self.assertTrue(sink.wait_for(2), mta.log())
                bounces = [m for m in sink.messages if m[0] in ("", "<>")]
                self.assertEqual(len(bounces), 1, sink.messages)
                mail_from, rcpts, data = bounces[0]
                self.assertEqual(rcpts, ["a@example.com"])
                report = email.message_from_bytes(data, policy=email.policy.default)
                self.assertEqual(report.get_content_type(), "multipart/report")
                status = report.get_payload()[1].get_payload()
                recipient = status[1]
                self.assertEqual(recipient["Final-Recipient"], "rfc822;bad@example.org")
                self.assertEqual(recipient["Status"], "5.1.1")
                self.assertIn("no such mailbox (before the restart)",
                              recipient["Diagnostic-Code"])
                self.assertIn("127.0.0.1", recipient["Remote-MTA"])


if __name__ == "__main__":
    junit.main()
