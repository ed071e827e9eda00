"""Implicit TLS submission (RFC 8314, port 465) with clients no one here
wrote: Python smtplib's SMTP_SSL (AUTH and a message, which arrives with the
MSA's Message-ID/Date and the TLS details in its Received: header), openssl
s_client without -starttls, and swaks --tlsc. A plaintext client gets no
greeting in clear and is dropped; the TLS handshake has its own timeout; a
tls_listen without a certificate stops the daemon at start."""
import crypt  # libxcrypt's crypt(3), like the daemon's
import os
import re
import smtplib
import socket
import ssl
import subprocess
import tempfile
import time
import unittest

from harness import junit
from harness.ringmta_process import RingmtaProcess, binary_path
from harness.smtp_sink import SmtpSink
from harness.test_certs import self_signed as make_certificate
from harness.util import write_config

IMPLICIT_TLS = re.compile(r"listening on [0-9.]+:(\d+) \(submission, implicit TLS\)")


def write_credentials(directory):
    path = os.path.join(directory, "passwd")
    with open(path, "w") as handle:
        handle.write(f"alice:{crypt.crypt('secret', '$6$ringmtatest$')}\n")
    os.chmod(path, 0o600)
    return path


class ImplicitTlsProcess(RingmtaProcess):
    """The daemon with an implicit-TLS listener; learns its port from the log."""

    def __enter__(self):
        super().__enter__()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            for line in list(self.log_lines):
                match = IMPLICIT_TLS.search(line)
                if match:
                    self.tls_port = int(match.group(1))
                    return self
            time.sleep(0.01)
        self.kill()
        raise RuntimeError("no implicit TLS listener in the log:\n" + "".join(self.log_lines))


class ImplicitTls(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        directory = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        cls.cert, cls.key = make_certificate(directory)
        credentials = write_credentials(directory)
        # A short handshake bound keeps the plaintext-client test quick.
        config = write_config(f'[auth]\ncredentials_file = "{credentials}"\n'
                              '[smtp]\ntls_handshake_timeout_ms = 2000\n'
                              '[submission]\ntls_listen = ["127.0.0.1:0"]\n'
                              f'[tls]\ncert_file = "{cls.cert}"\nkey_file = "{cls.key}"\n')
        cls.sink = SmtpSink().__enter__()
        cls.mta = ImplicitTlsProcess("--config", config, "--smarthost",
                                     f"127.0.0.1:{cls.sink.port}").__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.mta.__exit__(None, None, None)
        cls.sink.__exit__(None, None, None)

    def context(self):
        context = ssl.create_default_context(cafile=self.cert)
        context.check_hostname = False
        return context

    def relayed(self, marker):
        """The relayed message holding `marker`, waiting for it (bounded)."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with self.sink.lock:
                for _, _, data in self.sink.messages:
                    if marker.encode() in data:
                        return data
            time.sleep(0.05)
        self.fail("message not relayed:\n" + self.mta.log())

    def test_smtp_ssl_auth_and_send(self):
        marker = f"implicit-{time.monotonic_ns()}"
        with smtplib.SMTP_SSL("127.0.0.1", self.mta.tls_port, context=self.context(),
                              timeout=30) as client:
            code, _ = client.ehlo("client.test")
            self.assertEqual(code, 250)
            self.assertFalse(client.has_extn("starttls"))  # TLS is already on
            self.assertTrue(client.has_extn("auth"))
            self.assertEqual(client.login("alice", "secret")[0], 235)
            client.sendmail("alice@example.com", ["b@example.org"],
                            f"Subject: over 465\r\n\r\n{marker}\r\n".encode())
        data = self.relayed(marker)
        # The MSA role, exactly as on the 587 listener.
        self.assertIn(b"\r\nMessage-ID: <", data)
        self.assertIn(b"\r\nDate: ", data)
        # RFC 3848 ESMTPSA, and the TLS details as a comment.
        self.assertIn(b"with ESMTPSA id", data)
        self.assertRegex(data, rb"\(using TLSv1\.[23] with cipher [A-Z0-9_-]+\)\r\n")

    def test_mail_before_auth_is_530(self):
        with smtplib.SMTP_SSL("127.0.0.1", self.mta.tls_port, context=self.context(),
                              timeout=30) as client:
            client.ehlo("client.test")
            code, message = client.mail("a@example.com")
            self.assertEqual(code, 530)
            self.assertIn(b"5.7.0", message)

    def test_wrong_password_is_535(self):
        with smtplib.SMTP_SSL("127.0.0.1", self.mta.tls_port, context=self.context(),
                              timeout=30) as client:
            client.ehlo("client.test")
            with self.assertRaises(smtplib.SMTPAuthenticationError) as raised:
                client.login("alice", "wrong")
            self.assertEqual(raised.exception.smtp_code, 535)

    def test_openssl_s_client_without_starttls(self):
        result = subprocess.run(
            ["openssl", "s_client", "-connect", f"127.0.0.1:{self.mta.tls_port}", "-quiet"],
            input=b"EHLO client.test\r\nQUIT\r\n", capture_output=True, timeout=60)
        output = result.stdout
        self.assertTrue(output.startswith(b"220 relay.test "), output[:200])
        self.assertIn(b"250 AUTH PLAIN LOGIN\r\n", output)
        self.assertNotIn(b"STARTTLS", output)
        self.assertIn(b"221 ", output)

    def test_swaks_tls_on_connect(self):
        result = subprocess.run(
            ["swaks", "--server", "127.0.0.1", "--port", str(self.mta.tls_port), "--tlsc",
             "--auth", "PLAIN", "--auth-user", "alice", "--auth-password", "secret",
             "--from", "alice@example.com", "--to", "b@example.org",
             "--body", "swaks over implicit tls"],
            capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("TLS started", result.stdout)
        self.assertIn("235 2.7.0", result.stdout)
        self.assertIn("250 2.0.0", result.stdout)

    def read_until_closed(self, connection):
        """Everything the server sends until it closes (the socket's timeout bounds it)."""
        received = b""
        while True:
            try:
                chunk = connection.recv(4096)
            except ConnectionResetError:
                return received
            if not chunk:
                return received
            received += chunk

    def test_silent_plaintext_client_gets_nothing_and_is_dropped(self):
        with socket.create_connection(("127.0.0.1", self.mta.tls_port), timeout=30) as raw:
            # A socket.timeout here (30 s, against a 2 s handshake bound)
            # would mean the server never dropped us.
            received = self.read_until_closed(raw)
        self.assertEqual(received, b"")  # never a greeting in clear
        self.assertIn("TLS handshake timed out", self.mta.log())

    def test_plaintext_smtp_client_gets_no_greeting_and_is_dropped(self):
        with socket.create_connection(("127.0.0.1", self.mta.tls_port), timeout=30) as raw:
            raw.sendall(b"EHLO client.test\r\n")
            received = self.read_until_closed(raw)
        # At most a TLS alert record (content type 21), never SMTP text.
        self.assertNotIn(b"220", received)
        self.assertNotIn(b"250", received)
        if received:
            self.assertEqual(received[0], 21, received)


class ImplicitTlsConnectionLimit(unittest.TestCase):
    def test_client_over_its_limit_is_closed_before_any_handshake(self):
        directory = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        cert, key = make_certificate(directory)
        credentials = write_credentials(directory)
        # Loopback outside the relay networks, so the per-client limit applies.
        config = write_config(f'[auth]\ncredentials_file = "{credentials}"\n'
                              '[relay]\nnetworks = ["10.0.0.0/8"]\n'
                              '[smtp]\nconnections_per_client_max = 1\n'
                              '[submission]\ntls_listen = ["127.0.0.1:0"]\n'
                              f'[tls]\ncert_file = "{cert}"\nkey_file = "{key}"\n')
        context = ssl.create_default_context(cafile=cert)
        context.check_hostname = False
        with ImplicitTlsProcess("--config", config, shards=1) as mta:
            with smtplib.SMTP_SSL("127.0.0.1", mta.tls_port, context=context,
                                  timeout=30) as held:
                self.assertEqual(held.noop()[0], 250)
                with socket.create_connection(("127.0.0.1", mta.tls_port), timeout=30) as raw:
                    # Not a 421 in clear, not a ServerHello: just the close.
                    self.assertEqual(raw.recv(4096), b"")
            self.assertIn("too many connections, closed before TLS", mta.log())


class StartTlsHandshakeTimeout(unittest.TestCase):
    def test_client_silent_after_starttls_is_dropped(self):
        directory = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        cert, key = make_certificate(directory)
        # A command timeout far longer than the handshake's: if the session
        # closes, it is the handshake bound that did it.
        config = write_config("[smtp]\ntls_handshake_timeout_ms = 1000\n"
                              "command_timeout_ms = 300000\n")
        with RingmtaProcess("--config", config, "--tls-cert", cert, "--tls-key", key) as mta:
            with socket.create_connection(("127.0.0.1", mta.port), timeout=30) as raw:
                reader = raw.makefile("rb")
                self.assertTrue(reader.readline().startswith(b"220 "))
                raw.sendall(b"EHLO client.test\r\n")
                while not reader.readline().startswith(b"250 "):
                    pass
                raw.sendall(b"STARTTLS\r\n")
                self.assertTrue(reader.readline().startswith(b"220 "))
                # No ClientHello: the server must give up on its own, in
                # silence (a 421 in clear would land inside the TLS stream).
                self.assertEqual(reader.read(), b"")
            self.assertIn("TLS handshake timed out", mta.log())


class RefusedAtStart(unittest.TestCase):
    def run_daemon(self, config, *extra):
        spool = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        return subprocess.run([binary_path(), "--config", config, "--listen", "127.0.0.1:0",
                               "--spool", spool, *extra],
                              capture_output=True, text=True, timeout=30)

    def test_tls_listen_without_certificate_is_refused(self):
        directory = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        credentials = write_credentials(directory)
        config = write_config(f'[auth]\ncredentials_file = "{credentials}"\n'
                              '[submission]\ntls_listen = ["127.0.0.1:0"]\n')
        result = self.run_daemon(config)
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn("submission.tls_listen needs a certificate", result.stderr)
        checked = subprocess.run([binary_path(), "--check-config", config],
                                 capture_output=True, text=True, timeout=30)
        self.assertEqual(checked.returncode, 1)

    def test_tls_listen_with_unreadable_certificate_is_refused(self):
        directory = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        credentials = write_credentials(directory)
        missing = os.path.join(directory, "missing.pem")
        config = write_config(f'[auth]\ncredentials_file = "{credentials}"\n'
                              '[submission]\ntls_listen = ["127.0.0.1:0"]\n'
                              f'[tls]\ncert_file = "{missing}"\nkey_file = "{missing}"\n')
        result = self.run_daemon(config)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("missing.pem", result.stderr)


if __name__ == "__main__":
    junit.main()
