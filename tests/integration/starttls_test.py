"""STARTTLS on the inbound side (RFC 3207) with clients no one here wrote:
Python's smtplib, swaks and openssl s_client, a certificate made at test
time, and the injection defence (bytes pipelined after STARTTLS are
discarded, never answered)."""
import os
import socket
import ssl
import subprocess
import tempfile
import time
import unittest

from harness import junit
from harness.ringmta_process import RingmtaProcess
from harness.smtp_sink import SmtpSink
from harness.test_certs import self_signed as make_certificate


def read_reply(reader):
    """Lines of one SMTP reply, up to and including its final line."""
    lines = []
    while True:
        line = reader.readline()
        if not line:
            return lines
        lines.append(line)
        if line[3:4] == b" ":
            return lines


class StartTls(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        directory = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        cls.cert, cls.key = make_certificate(directory)
        cls.sink = SmtpSink().__enter__()
        cls.mta = RingmtaProcess("--tls-cert", cls.cert, "--tls-key", cls.key, "--smarthost",
                                 f"127.0.0.1:{cls.sink.port}").__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.mta.__exit__(None, None, None)
        cls.sink.__exit__(None, None, None)

    def test_smtplib_starttls_then_mail_is_relayed(self):
        import smtplib
        context = ssl.create_default_context(cafile=self.cert)
        context.check_hostname = False
        with smtplib.SMTP("127.0.0.1", self.mta.port, timeout=30) as client:
            client.ehlo("client.test")
            self.assertTrue(client.has_extn("starttls"))
            code, _ = client.starttls(context=context)
            self.assertEqual(code, 220)
            client.ehlo("client.test")
            self.assertFalse(client.has_extn("starttls"))  # not offered twice
            marker = f"tls-{time.monotonic_ns()}"
            client.sendmail("a@example.com", ["b@example.org"],
                            f"Subject: tls\r\n\r\n{marker}\r\n".encode())
        deadline = time.monotonic() + 30
        found = None
        while time.monotonic() < deadline and found is None:
            with self.sink.lock:
                for _, _, data in self.sink.messages:
                    if marker.encode() in data:
                        found = data
            time.sleep(0.05)
        self.assertIsNotNone(found, self.mta.log())
        self.assertIn(b"with ESMTPS", found)
        # The negotiated protocol and cipher, as a comment (RFC 5321 §4.4).
        self.assertRegex(found, rb"\r\n\t\(using TLSv1\.[23] with cipher [A-Z0-9_-]+\)\r\n\tby ")

    def test_bytes_pipelined_after_starttls_are_discarded(self):
        with socket.create_connection(("127.0.0.1", self.mta.port), timeout=10) as raw:
            reader = raw.makefile("rb")
            read_reply(reader)
            raw.sendall(b"EHLO client.test\r\n")
            read_reply(reader)
            raw.sendall(b"STARTTLS\r\nRSET\r\n")  # RSET must never be answered
            self.assertTrue(reader.readline().startswith(b"220 "))
            context = ssl.create_default_context(cafile=self.cert)
            context.check_hostname = False
            with context.wrap_socket(raw, server_hostname="relay.test") as tls:
                secure = tls.makefile("rb")
                tls.sendall(b"NOOP\r\n")
                reply = read_reply(secure)
                # A fresh session: NOOP's 250 is the first thing said under TLS.
                self.assertEqual(len(reply), 1)
                self.assertTrue(reply[0].startswith(b"250 "), reply)
                tls.sendall(b"MAIL FROM:<a@example.com>\r\n")
                # EHLO is required again after STARTTLS (RFC 3207 §4.2).
                self.assertTrue(read_reply(secure)[0].startswith(b"503"))

    def test_swaks_tls(self):
        result = subprocess.run(
            ["swaks", "--server", f"127.0.0.1:{self.mta.port}", "--tls", "--from",
             "a@example.com", "--to", "b@example.org", "--body", "swaks over tls"],
            capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("TLS started", result.stdout)
        self.assertIn("250 2.0.0", result.stdout)

    def test_openssl_s_client(self):
        result = subprocess.run(
            ["openssl", "s_client", "-starttls", "smtp", "-connect", f"127.0.0.1:{self.mta.port}",
             "-quiet"],  # -quiet implies -ign_eof: it waits for our QUIT's 221
            input=b"EHLO client.test\r\nQUIT\r\n", capture_output=True, timeout=60)
        output = result.stdout
        self.assertIn(b"250-", output, result.stderr[-500:])
        self.assertIn(b"221 ", output)


class AuthOnlyUnderTls(unittest.TestCase):
    def test_auth_is_offered_only_after_starttls(self):
        import crypt  # libxcrypt's crypt(3), like the daemon's
        import smtplib
        directory = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        cert, key = make_certificate(directory)
        credentials = os.path.join(directory, "passwd")
        with open(credentials, "w") as handle:
            handle.write(f"alice:{crypt.crypt('secret', '$6$ringmtatest$')}\n")
        os.chmod(credentials, 0o600)
        config = os.path.join(directory, "ringmta.toml")
        with open(config, "w") as handle:
            handle.write(f'[auth]\ncredentials_file = "{credentials}"\n')
        context = ssl.create_default_context(cafile=cert)
        context.check_hostname = False
        with RingmtaProcess("--config", config, "--tls-cert", cert, "--tls-key", key) as mta:
            with smtplib.SMTP("127.0.0.1", mta.port, timeout=30) as client:
                client.ehlo("client.test")
                self.assertFalse(client.has_extn("auth"))  # never in clear by default
                client.starttls(context=context)
                client.ehlo("client.test")
                self.assertTrue(client.has_extn("auth"))
                code, _ = client.login("alice", "secret")
                self.assertEqual(code, 235)


if __name__ == "__main__":
    junit.main()
