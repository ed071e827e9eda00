"""AUTH to a smart host from a [[route]] (RFC 4954): ringmta logs in to a
python3-aiosmtpd sink that requires AUTH over STARTTLS. The right password
delivers and the sink saw the user; a wrong one defers (535 -> 4.7.8) and
the message stays queued; LOGIN is used when PLAIN is not offered; the
password never appears in the log."""
import os
import smtplib
import ssl
import tempfile
import unittest

from harness import junit
from harness.ringmta_process import RingmtaProcess
from harness.smtp_sink import SmtpSink
from harness.test_certs import TestCa
from harness.util import wait_for_log, write_config

PASSWORD = "s3cret-Pa55"


def password_file(secret):
    handle = tempfile.NamedTemporaryFile("w", delete=False, dir=os.environ.get("TEST_TMPDIR"))
    handle.write(secret + "\n")
    handle.close()
    os.chmod(handle.name, 0o600)
    return handle.name


def config(sink_port, secret, tls="encrypt", extra=""):
    return write_config(f"""
[delivery]
retry_initial_ms = 200
retry_max_ms = 400

[[route]]
domain = "example.org"
smarthost = "127.0.0.1:{sink_port}"
tls = "{tls}"
auth_username = "relayuser"
auth_password_file = "{password_file(secret)}"
{extra}
""")


def send(port):
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        refused = client.sendmail("a@example.com", ["b@example.org"], b"Subject: auth\r\n\r\nx\r\n")
        assert refused == {}, refused


class SmartHostAuth(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        ca = TestCa()
        cert, key = ca.leaf("IP:127.0.0.1", "smarthost")
        cls.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        cls.context.load_cert_chain(cert, key)

    def test_right_password_delivers_as_the_user(self):
        with SmtpSink(tls_context=self.context, accounts={"relayuser": PASSWORD}) as sink, \
                RingmtaProcess("--config", config(sink.port, PASSWORD)) as mta:
            send(mta.port)
            self.assertTrue(sink.wait_for(1), mta.log())
            self.assertEqual(sink.details[0]["auth_user"], "relayuser")
            self.assertIsNotNone(sink.details[0]["tls_version"])
            self.assertEqual(sink.auth_attempts[0][0], "PLAIN")
            self.assertNotIn(PASSWORD, mta.log())

    def test_login_is_used_when_plain_is_not_offered(self):
        with SmtpSink(tls_context=self.context, accounts={"relayuser": PASSWORD},
                      auth_exclude=["PLAIN"]) as sink, \
                RingmtaProcess("--config", config(sink.port, PASSWORD)) as mta:
            send(mta.port)
            self.assertTrue(sink.wait_for(1), mta.log())
            self.assertEqual(sink.auth_attempts[0][0], "LOGIN")
            self.assertEqual(sink.details[0]["auth_user"], "relayuser")

    def test_wrong_password_defers_and_keeps_the_message(self):
        with SmtpSink(tls_context=self.context, accounts={"relayuser": PASSWORD}) as sink, \
                RingmtaProcess("--config", config(sink.port, "not-the-password")) as mta:
            send(mta.port)
            self.assertTrue(wait_for_log(mta, "deferred to=<b@example.org>", count=2), mta.log())
            self.assertIn("status=4.7.8", mta.log())
            self.assertIn("AUTH as relayuser failed", mta.log())
            self.assertEqual(sink.messages, [])
            self.assertNotIn("not-the-password", mta.log())

    def test_no_usable_mechanism_defers(self):
        with SmtpSink(tls_context=self.context, accounts={"relayuser": PASSWORD},
                      auth_exclude=["PLAIN", "LOGIN"]) as sink, \
                RingmtaProcess("--config", config(sink.port, PASSWORD)) as mta:
            send(mta.port)
            self.assertTrue(wait_for_log(mta, "deferred to=<b@example.org>"), mta.log())
            self.assertIn("status=4.7.0", mta.log())
            self.assertIn("neither AUTH PLAIN nor LOGIN", mta.log())
            self.assertEqual(sink.auth_attempts, [])
            self.assertEqual(sink.messages, [])

    def test_plaintext_auth_only_when_the_route_allows_it(self):
        # No TLS at the sink: with auth_allow_plaintext the credentials go
        # in clear and the message is delivered.
        with SmtpSink(accounts={"relayuser": PASSWORD}) as sink, \
                RingmtaProcess("--config", config(sink.port, PASSWORD, tls="none",
                                                  extra="auth_allow_plaintext = true")) as mta:
            send(mta.port)
            self.assertTrue(sink.wait_for(1), mta.log())
            self.assertEqual(sink.details[0]["auth_user"], "relayuser")

    def test_credentials_without_tls_are_a_config_error(self):
        path = config(2525, PASSWORD, tls="may")
        mta = RingmtaProcess("--check-config", path)
        import subprocess
        result = subprocess.run(mta.args, capture_output=True, text=True, timeout=30)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("route.tls", result.stderr)
        self.assertIn("auth_allow_plaintext", result.stderr)


if __name__ == "__main__":
    junit.main()
