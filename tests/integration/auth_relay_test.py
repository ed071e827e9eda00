"""The relay policy, SMTP AUTH and the submission (MSA) role of the real
ringmta binary, driven by Python's smtplib and swaks on loopback: relay
denied outside relay.networks, AUTH PLAIN and LOGIN against a credentials
file, 535 and the session's end after repeated failures, an open-relay
config refused at start, and Message-ID/Date added on the submission port."""
import base64
import os
import re
import smtplib
import socket
import subprocess
import tempfile
import time
import unittest
import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import crypt  # libxcrypt's crypt(3), like the daemon's; gone in Python 3.13

from harness import junit
from harness.ringmta_process import RingmtaProcess, binary_path

# Loopback is NOT a relay network here, so the test clients must AUTH.
RELAY_ELSEWHERE = '[relay]\nnetworks = ["10.0.0.0/8"]\n'


def temp_path(suffix):
    handle, path = tempfile.mkstemp(suffix=suffix, dir=os.environ.get("TEST_TMPDIR"))
    os.close(handle)
    return path


def write_config(text):
    path = temp_path(".toml")
    with open(path, "w") as config:
        config.write(text)
    return path


def write_credentials(accounts):
    """accounts: {user: password}; hashed now with a fixed-salt SHA-512."""
    path = temp_path(".passwd")
    with open(path, "w") as credentials:
        for user, password in accounts.items():
            credentials.write(f"{user}:{crypt.crypt(password, '$6$ringmtatest$')}\n")
    os.chmod(path, 0o600)
    return path


def spool_contains(spool, needle):
    for root, _, files in os.walk(spool):
        for name in files:
            if not os.path.isfile(os.path.join(root, name)):
                continue  # the admin socket lives in the spool too
            with open(os.path.join(root, name), "rb") as segment:
                if needle in segment.read():
                    return True
    return False


class RelayPolicy(unittest.TestCase):
    def test_relay_denied_outside_relay_networks(self):
        with RingmtaProcess("--config", write_config(RELAY_ELSEWHERE)) as daemon:
            with smtplib.SMTP("127.0.0.1", daemon.port, timeout=10) as client:
                client.ehlo("client.test")
                self.assertEqual(client.mail("a@example.com")[0], 250)
                code, message = client.rcpt("b@example.org")
                self.assertEqual(code, 554)
                self.assertIn(b"5.7.1", message)

    def test_loopback_relays_by_default(self):
        with RingmtaProcess() as daemon:
            with smtplib.SMTP("127.0.0.1", daemon.port, timeout=10) as client:
                client.ehlo("client.test")
                client.mail("a@example.com")
                self.assertEqual(client.rcpt("b@example.org")[0], 250)

    def test_open_relay_config_is_refused_at_start(self):
        spool = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        for network in ("0.0.0.0/0", "::/0"):
            config = write_config(f'[relay]\nnetworks = ["{network}"]\n')
            result = subprocess.run(
                [binary_path(), "--config", config, "--listen", "127.0.0.1:0", "--spool", spool],
                capture_output=True, text=True, timeout=30)
            self.assertEqual(result.returncode, 2, result.stderr)
            self.assertIn("open relay", result.stderr)
            self.assertIn("relay.allow_open_relay", result.stderr)
            checked = subprocess.run([binary_path(), "--check-config", config],
                                     capture_output=True, text=True, timeout=30)
            self.assertEqual(checked.returncode, 1)

    def test_open_relay_starts_when_forced(self):
        config = write_config('[relay]\nnetworks = ["0.0.0.0/0"]\nallow_open_relay = true\n')
        with RingmtaProcess("--config", config) as daemon:
            with smtplib.SMTP("127.0.0.1", daemon.port, timeout=10) as client:
                client.ehlo("client.test")
                client.mail("a@example.com")
                self.assertEqual(client.rcpt("b@example.org")[0], 250)


def auth_config(extra=""):
    credentials = write_credentials({"alice": "secret", "bob": "hunter2"})
    return write_config(RELAY_ELSEWHERE + f'[auth]\ncredentials_file = "{credentials}"\n' + extra)


def plain(user, password):
    return base64.b64encode(f"\0{user}\0{password}".encode()).decode()


class Auth(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.daemon = RingmtaProcess(
            "--config", auth_config("allow_plaintext = true\nfailures_max = 2\n")).__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.daemon.__exit__(None, None, None)

    def connect(self):
        client = smtplib.SMTP("127.0.0.1", self.daemon.port, timeout=10)
        self.addCleanup(client.close)
        client.ehlo("client.test")
        return client

    def test_auth_plain_then_relay_is_allowed(self):
        client = self.connect()
        self.assertIn("PLAIN", client.esmtp_features["auth"].upper())
        code, _ = client.login("alice", "secret")  # smtplib picks PLAIN
        self.assertEqual(code, 235)
        marker = f"auth-marker-{os.getpid()}"
        self.assertEqual(client.sendmail("a@example.com", ["b@example.org"],
                                         f"Subject: x\r\n\r\n{marker}\r\n".encode()), {})
        self.assertTrue(spool_contains(self.daemon.spool, marker.encode()))
        self.assertTrue(spool_contains(self.daemon.spool, b"with ESMTPA id"))

    def test_auth_login(self):
        client = self.connect()
        client.user, client.password = "bob", "hunter2"
        code, _ = client.auth("LOGIN", client.auth_login, initial_response_ok=False)
        self.assertEqual(code, 235)

    def test_wrong_password_is_535(self):
        client = self.connect()
        with self.assertRaises(smtplib.SMTPAuthenticationError) as raised:
            client.login("alice", "wrong")
        self.assertEqual(raised.exception.smtp_code, 535)
        self.assertIn(b"5.7.8", raised.exception.smtp_error)

    def test_relay_still_denied_without_auth(self):
        client = self.connect()
        client.mail("a@example.com")
        self.assertEqual(client.rcpt("b@example.org")[0], 554)

    def test_repeated_failures_end_the_session(self):
        with socket.create_connection(("127.0.0.1", self.daemon.port), timeout=10) as raw:
            reader = raw.makefile("rb")
            reader.readline()
            bad = f"AUTH PLAIN {plain('alice', 'guess')}\r\n".encode()
            raw.sendall(b"EHLO c\r\n" + bad + bad + b"NOOP\r\n")
            lines = reader.read().split(b"\r\n")  # read() returns once the server closes
        finals = [line[:3] for line in lines if line[3:4] == b" "]
        self.assertEqual(finals, [b"250", b"535", b"535", b"421"])

    def test_cancel_and_bad_base64_are_501(self):
        client = self.connect()
        self.assertEqual(client.docmd("AUTH", "PLAIN not!base64")[0], 501)
        self.assertEqual(client.docmd("AUTH", "LOGIN")[0], 334)
        self.assertEqual(client.docmd("*")[0], 501)

    def test_swaks_auth(self):
        for mechanism in ("PLAIN", "LOGIN"):
            result = subprocess.run(
                ["swaks", "--server", f"127.0.0.1:{self.daemon.port}", "--auth", mechanism,
                 "--auth-user", "alice", "--auth-password", "secret",
                 "--from", "a@example.com", "--to", "b@example.org"],
                capture_output=True, text=True, timeout=60)
            self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
            self.assertIn("<-  235 2.7.0", result.stdout)
            self.assertIn("<-  250 2.0.0 Message accepted", result.stdout)


class AuthConfiguration(unittest.TestCase):
    def test_auth_needs_tls_unless_plaintext_is_allowed(self):
        with RingmtaProcess("--config", auth_config()) as daemon:
            with smtplib.SMTP("127.0.0.1", daemon.port, timeout=10) as client:
                client.ehlo("client.test")
                self.assertFalse(client.has_extn("auth"))
                self.assertEqual(client.docmd("AUTH", "PLAIN " + plain("alice", "secret"))[0],
                                 538)

    def test_missing_credentials_file_stops_the_daemon(self):
        config = write_config('[auth]\ncredentials_file = "/nonexistent/ringmta-creds"\n')
        spool = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        result = subprocess.run([binary_path(), "--config", config, "--listen", "127.0.0.1:0",
                                 "--spool", spool], capture_output=True, text=True, timeout=30)
        self.assertEqual(result.returncode, 1)
        self.assertIn("/nonexistent/ringmta-creds", result.stderr)

    def test_bad_credentials_line_is_named(self):
        credentials = temp_path(".passwd")
        with open(credentials, "w") as f:
            f.write("# users\nalice:$1$weak$hash\n")
        os.chmod(credentials, 0o600)
        config = write_config(f'[auth]\ncredentials_file = "{credentials}"\n')
        spool = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        result = subprocess.run([binary_path(), "--config", config, "--listen", "127.0.0.1:0",
                                 "--spool", spool], capture_output=True, text=True, timeout=30)
        self.assertEqual(result.returncode, 1)
        self.assertIn(f"{credentials}:2: unsupported hash", result.stderr)

    def test_group_readable_credentials_warn(self):
        config = auth_config()
        with open(config) as f:
            credentials = re.search(r'credentials_file = "([^"]+)"', f.read()).group(1)
        os.chmod(credentials, 0o644)
        with RingmtaProcess("--config", config) as daemon:
            self.assertIn("readable by group or others", daemon.log())


class SubmissionProcess(RingmtaProcess):
    """The daemon with a submission listener; learns its port from the log."""

    def __enter__(self):
        super().__enter__()
        pattern = re.compile(r"listening on [0-9.]+:(\d+) \(submission\)")
        for _ in range(200):
            for line in list(self.log_lines):
                match = pattern.search(line)
                if match:
                    self.submission_port = int(match.group(1))
                    return self
            time.sleep(0.01)
        self.kill()
        raise RuntimeError("no submission listener in the log:\n" + "".join(self.log_lines))


class Submission(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        config = auth_config('allow_plaintext = true\n[submission]\nlisten = ["127.0.0.1:0"]\n')
        cls.daemon = SubmissionProcess("--config", config).__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.daemon.__exit__(None, None, None)

    def connect(self):
        client = smtplib.SMTP("127.0.0.1", self.daemon.submission_port, timeout=10)
        self.addCleanup(client.close)
        client.ehlo("client.test")
        return client

    def test_mail_before_auth_is_530(self):
        client = self.connect()
        code, message = client.mail("a@example.com")
        self.assertEqual(code, 530)
        self.assertIn(b"5.7.0", message)

    def test_message_id_and_date_are_added_when_missing(self):
        client = self.connect()
        client.login("alice", "secret")
        marker = f"msa-marker-{os.getpid()}"
        self.assertEqual(client.sendmail("alice@example.com", ["b@example.org"],
                                         f"Subject: {marker}\r\n\r\nbody\r\n".encode()), {})
        stored = self.stored_message(marker.encode())
        received = stored.index(b"Received: ")
        message_id = stored.index(b"Message-ID: <")
        date = stored.index(b"Date: ")
        subject = stored.index(b"Subject: " + marker.encode())
        self.assertLess(received, message_id)
        self.assertLess(message_id, date)
        self.assertLess(date, subject)
        self.assertIn(b"@relay.test>", stored[message_id:date])

    def test_present_headers_are_kept_as_they_are(self):
        client = self.connect()
        client.login("alice", "secret")
        marker = f"msa-kept-{os.getpid()}"
        body = (f"Message-ID: <{marker}@client.test>\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n"
                f"Subject: x\r\n\r\nbody\r\n").encode()
        self.assertEqual(client.sendmail("alice@example.com", ["b@example.org"], body), {})
        stored = self.stored_message(marker.encode())
        self.assertEqual(stored.count(b"Message-ID: "), 1)
        self.assertEqual(stored.count(b"Date: "), 1)

    def test_relay_port_adds_nothing(self):
        with smtplib.SMTP("127.0.0.1", self.daemon.port, timeout=10) as client:
            client.ehlo("client.test")
            client.login("alice", "secret")
            marker = f"relay-port-{os.getpid()}"
            client.sendmail("alice@example.com", ["b@example.org"],
                            f"Subject: {marker}\r\n\r\nbody\r\n".encode())
        stored = self.stored_message(marker.encode())
        self.assertNotIn(b"Message-ID: ", stored)

    def stored_message(self, marker):
        """The record bytes around `marker` in the spool's segment files."""
        for root, _, files in os.walk(self.daemon.spool):
            for name in files:
                if not os.path.isfile(os.path.join(root, name)):
                    continue  # the admin socket lives in the spool too
                with open(os.path.join(root, name), "rb") as segment:
                    data = segment.read()
                at = data.find(marker)
                if at >= 0:
                    start = data.rfind(b"Received: ", 0, at)
                    self.assertGreaterEqual(start, 0)
                    return data[start:at + 200]
        self.fail(f"{marker!r} not found in the spool")


if __name__ == "__main__":
    junit.main()
