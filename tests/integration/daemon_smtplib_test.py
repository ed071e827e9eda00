"""The real ringmta binary, driven by Python's smtplib on loopback: the
greeting, the session commands, pipelined sessions at concurrency, refusal
of mail while no queue exists, clean stops on SIGTERM and SIGINT, and flag
and config errors."""
import concurrent.futures
import os
import signal
import smtplib
import socket
import subprocess
import tempfile
import time
import unittest

from harness import junit
from harness.ringmta_process import RingmtaProcess, binary_path


class SessionCommands(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.daemon = RingmtaProcess().__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.daemon.__exit__(None, None, None)

    def connect(self):
        client = smtplib.SMTP("127.0.0.1", self.daemon.port, timeout=10)
        self.addCleanup(client.close)
        return client

    def test_greets_with_220_and_hostname(self):
        client = smtplib.SMTP(timeout=10)
        code, message = client.connect("127.0.0.1", self.daemon.port)
        self.addCleanup(client.close)
        self.assertEqual(code, 220)
        self.assertTrue(message.startswith(b"relay.test"), message)

    def test_ehlo_advertises_extensions(self):
        client = self.connect()
        code, _ = client.ehlo("client.test")
        self.assertEqual(code, 250)
        for extension in ("pipelining", "8bitmime", "enhancedstatuscodes", "smtputf8",
                          "chunking", "dsn", "size"):
            self.assertTrue(client.has_extn(extension), extension)

    def test_helo_noop_rset_quit(self):
        client = self.connect()
        self.assertEqual(client.helo("client.test")[0], 250)
        self.assertEqual(client.noop()[0], 250)
        self.assertEqual(client.rset()[0], 250)
        self.assertEqual(client.quit()[0], 221)

    def test_unknown_command_is_500(self):
        client = self.connect()
        client.ehlo("client.test")
        self.assertEqual(client.docmd("FROB")[0], 500)

    def test_accepted_message_is_in_the_spool_when_250_arrives(self):
        # 250 means durable: by the time sendmail returns, the body must be
        # in a segment file (written and fdatasync'd by the group commit).
        client = self.connect()
        client.ehlo("client.test")
        marker = f"marker-{os.getpid()}-{id(self)}"
        refused = client.sendmail("a@example.com", ["b@example.org"],
                                  f"Subject: x\r\n\r\n{marker}\r\n".encode())
        self.assertEqual(refused, {})
        found = False
        for root, _, files in os.walk(self.daemon.spool):
            for name in files:
                if not os.path.isfile(os.path.join(root, name)):
                    continue  # the admin socket lives in the spool too
                with open(os.path.join(root, name), "rb") as segment:
                    found |= marker.encode() in segment.read()
        self.assertTrue(found, "accepted body not found in any segment")

    def test_large_messages_stream_through(self):
        # Bodies far larger than one connection's share of receive buffers
        # (16 x 4 KiB) pause and resume the socket's receive many times; a
        # resume that was lost hung every message over ~135 KB.
        client = self.connect()
        client.ehlo("client.test")
        for size in (140_000, 5_000_000):
            body = b"Subject: big\r\n\r\n" + (b"x" * 78 + b"\r\n") * (size // 80)
            self.assertEqual(client.sendmail("a@example.com", ["b@example.org"], body), {})

    def test_8bit_and_smtputf8_messages_are_accepted(self):
        client = self.connect()
        client.ehlo("client.test")
        body = "Subject: caf\u00e9\r\n\r\nna\u00efve \u00fcber\r\n".encode("utf-8")
        self.assertEqual(client.sendmail("a@example.com", ["b@example.org"], body,
                                         mail_options=["BODY=8BITMIME"]), {})
        self.assertEqual(client.sendmail("\u00e9l\u00e8ve@exemple.fr", ["b@\u00e9xample.org"],
                                         body, mail_options=["SMTPUTF8", "BODY=8BITMIME"]), {})

    def test_fifty_concurrent_sessions(self):
        def session(index):
            with smtplib.SMTP("127.0.0.1", self.daemon.port, timeout=30) as client:
                client.ehlo(f"client{index}.test")
                return client.noop()[0]

        with concurrent.futures.ThreadPoolExecutor(max_workers=50) as pool:
            codes = list(pool.map(session, range(50)))
        self.assertEqual(codes, [250] * 50)

    def test_pipelined_commands_get_replies_in_order(self):
        with socket.create_connection(("127.0.0.1", self.daemon.port), timeout=10) as raw:
            reader = raw.makefile("rb")
            self.assertTrue(reader.readline().startswith(b"220 "))
            raw.sendall(b"EHLO a\r\nNOOP\r\nRSET\r\nFROB\r\nQUIT\r\n")
            lines = reader.read().split(b"\r\n")
        codes = [line[:4] for line in lines if line]
        finals = [code for code in codes if code[3:4] == b" "]
        self.assertEqual(finals, [b"250 ", b"250 ", b"250 ", b"500 ", b"221 "])


class ConnectionLimits(unittest.TestCase):
    def test_one_client_cannot_take_every_slot(self):
        # Loopback outside the relay networks, so the per-client limit applies.
        with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False,
                                         dir=os.environ.get("TEST_TMPDIR")) as config:
            config.write('[relay]\nnetworks = ["10.0.0.0/8"]\n'
                         "[smtp]\nconnections_per_client_max = 2\n")
        with RingmtaProcess("--config", config.name, shards=1) as daemon:
            held = []
            for _ in range(2):
                raw = socket.create_connection(("127.0.0.1", daemon.port), timeout=10)
                held.append(raw)
                self.assertTrue(raw.makefile("rb").readline().startswith(b"220 "))
            with socket.create_connection(("127.0.0.1", daemon.port), timeout=10) as third:
                self.assertTrue(third.makefile("rb").readline().startswith(b"421 4.7.0"))
            held.pop().close()
            time.sleep(0.2)  # let the daemon see the close
            with socket.create_connection(("127.0.0.1", daemon.port), timeout=10) as again:
                self.assertTrue(again.makefile("rb").readline().startswith(b"220 "))
            for raw in held:
                raw.close()


def greeted_connection(port):
    """A raw connection past the greeting and EHLO: (socket, reader)."""
    raw = socket.create_connection(("127.0.0.1", port), timeout=30)
    reader = raw.makefile("rb")
    assert reader.readline().startswith(b"220 ")
    raw.sendall(b"EHLO client.test\r\n")
    while not reader.readline().startswith(b"250 "):
        pass
    return raw, reader


def config_file(text):
    with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False,
                                     dir=os.environ.get("TEST_TMPDIR")) as config:
        config.write(text)
    return config.name


class StageTimeouts(unittest.TestCase):
    """Each wait has its own bound (RFC 5321 §4.5.3.2): a short one fires at
    its stage with 421 4.4.2, while a long one elsewhere does not. The
    socket timeout (30 s) bounds every wait for the expected 421."""

    def test_command_timeout_fires_while_waiting_for_a_command(self):
        config = config_file("[smtp]\ncommand_timeout_ms = 1000\ndata_timeout_ms = 180000\n")
        with RingmtaProcess("--config", config) as daemon:
            raw, reader = greeted_connection(daemon.port)
            with raw:
                line = reader.readline()
                self.assertTrue(line.startswith(b"421 4.4.2 "), line)
                self.assertEqual(reader.read(), b"")  # and the connection closes
            self.assertIn("timeout waiting for a command", daemon.log())

    def test_data_stage_is_not_bound_by_the_command_timeout(self):
        config = config_file("[smtp]\ncommand_timeout_ms = 1000\ndata_timeout_ms = 180000\n")
        with RingmtaProcess("--config", config) as daemon:
            raw, reader = greeted_connection(daemon.port)
            with raw:
                raw.sendall(b"MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.org>\r\n"
                            b"DATA\r\n")
                for expected in (b"250 ", b"250 ", b"354 "):
                    self.assertTrue(reader.readline().startswith(expected))
                raw.sendall(b"Subject: slow\r\n\r\nfirst line\r\n")
                time.sleep(3)  # three command timeouts, well inside the data one
                raw.sendall(b"last line\r\n.\r\n")
                line = reader.readline()
                self.assertTrue(line.startswith(b"250 "), line)

    def test_data_timeout_fires_inside_data(self):
        config = config_file("[smtp]\ncommand_timeout_ms = 300000\ndata_timeout_ms = 1000\n")
        with RingmtaProcess("--config", config) as daemon:
            raw, reader = greeted_connection(daemon.port)
            with raw:
                time.sleep(3)  # idle at the command stage: its bound is long
                raw.sendall(b"NOOP\r\n")
                self.assertTrue(reader.readline().startswith(b"250 "))
                raw.sendall(b"MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.org>\r\n"
                            b"DATA\r\nSubject: stalled\r\n\r\nhalf a mess")
                for expected in (b"250 ", b"250 ", b"354 "):
                    self.assertTrue(reader.readline().startswith(expected))
                line = reader.readline()
                self.assertTrue(line.startswith(b"421 4.4.2 "), line)
                self.assertEqual(reader.read(), b"")
            self.assertIn("timeout waiting for message data", daemon.log())

    def test_data_timeout_fires_inside_a_bdat_chunk(self):
        config = config_file("[smtp]\ncommand_timeout_ms = 300000\ndata_timeout_ms = 1000\n")
        with RingmtaProcess("--config", config) as daemon:
            raw, reader = greeted_connection(daemon.port)
            with raw:
                raw.sendall(b"MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.org>\r\n"
                            b"BDAT 100 LAST\r\nonly twenty octets..")
                for expected in (b"250 ", b"250 "):
                    self.assertTrue(reader.readline().startswith(expected))
                line = reader.readline()
                self.assertTrue(line.startswith(b"421 4.4.2 "), line)


class HostileClients(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.daemon = RingmtaProcess(
            "--config", config_file("[smtp]\njunk_commands_max = 10\n")).__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.daemon.__exit__(None, None, None)

    def test_http_request_is_answered_421_and_dropped(self):
        with socket.create_connection(("127.0.0.1", self.daemon.port), timeout=30) as raw:
            reader = raw.makefile("rb")
            self.assertTrue(reader.readline().startswith(b"220 "))
            raw.sendall(b"GET / HTTP/1.1\r\nHost: relay.test\r\n\r\n")
            self.assertTrue(reader.readline().startswith(b"421 4.7.0 "))
            self.assertEqual(reader.read(), b"")  # nothing for the headers: closed

    def test_noop_flood_is_cut_off(self):
        raw, reader = greeted_connection(self.daemon.port)
        with raw:
            raw.sendall(b"NOOP\r\nRSET\r\nVRFY postmaster\r\n" * 4)
            replies = reader.read().split(b"\r\n")
        codes = [line[:3] for line in replies if line]
        self.assertEqual(codes, [b"250", b"250", b"252"] * 3 + [b"250", b"421"])

    def test_sending_mail_renews_the_junk_allowance(self):
        client = smtplib.SMTP("127.0.0.1", self.daemon.port, timeout=30)
        self.addCleanup(client.close)
        client.ehlo("client.test")
        for _ in range(3):
            for _ in range(8):
                self.assertEqual(client.noop()[0], 250)
            client.sendmail("a@example.com", ["b@example.org"], b"Subject: x\r\n\r\nx\r\n")
        self.assertEqual(client.quit()[0], 221)


class Swaks(unittest.TestCase):
    def test_swaks_quit_after_ehlo(self):
        with RingmtaProcess() as daemon:
            result = subprocess.run(
                ["swaks", "--server", f"127.0.0.1:{daemon.port}", "--quit-after", "EHLO"],
                capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("<-  220 relay.test", result.stdout)
        self.assertIn("<-  250 ", result.stdout)
        self.assertIn("<-  221 ", result.stdout)


class ProcessLife(unittest.TestCase):
    def test_sigterm_says_421_to_open_sessions_and_exits_0(self):
        daemon = RingmtaProcess().__enter__()
        try:
            with socket.create_connection(("127.0.0.1", daemon.port), timeout=10) as raw:
                reader = raw.makefile("rb")
                reader.readline()
                raw.sendall(b"EHLO a\r\n")
                while not reader.readline().startswith(b"250 "):
                    pass
                self.assertEqual(daemon.stop(signal.SIGTERM), 0)
                self.assertTrue(reader.readline().startswith(b"421 "))
        finally:
            daemon.kill()
        self.assertIn("stopped", daemon.log())

    def test_sigint_exits_0(self):
        daemon = RingmtaProcess().__enter__()
        try:
            self.assertEqual(daemon.stop(signal.SIGINT), 0)
        finally:
            daemon.kill()

    def test_unknown_flag_exits_2_with_message(self):
        result = subprocess.run([binary_path(), "--bogus"], capture_output=True, text=True,
                                timeout=30)
        self.assertEqual(result.returncode, 2)
        self.assertIn("unknown argument '--bogus'", result.stderr)

    def test_check_config_accepts_good_and_names_bad_key(self):
        with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False,
                                         dir=os.environ.get("TEST_TMPDIR")) as good:
            good.write('[server]\nshards = 1\nlisten = ["127.0.0.1:2525"]\n')
        with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False,
                                         dir=os.environ.get("TEST_TMPDIR")) as bad:
            bad.write('[server]\nshards = 1\nlisen = ["127.0.0.1:2525"]\n')
        ok = subprocess.run([binary_path(), "--check-config", good.name], capture_output=True,
                            text=True, timeout=30)
        self.assertEqual(ok.returncode, 0, ok.stderr)
        failed = subprocess.run([binary_path(), "--check-config", bad.name],
                                capture_output=True, text=True, timeout=30)
        self.assertEqual(failed.returncode, 1)
        self.assertIn(":3: server.lisen: unknown key", failed.stderr)

    def test_address_in_use_fails_at_start_with_a_clear_error(self):
        holder = socket.socket()
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        self.addCleanup(holder.close)
        port = holder.getsockname()[1]
        spool = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        result = subprocess.run([binary_path(), "--listen", f"127.0.0.1:{port}", "--spool",
                                 spool], capture_output=True, text=True, timeout=30)
        self.assertEqual(result.returncode, 1)
        self.assertIn("bind", result.stderr)

    def test_spool_directory_is_private(self):
        daemon = RingmtaProcess().__enter__()
        try:
            self.assertEqual(os.stat(daemon.spool).st_mode & 0o777, 0o700)
        finally:
            daemon.stop()


if __name__ == "__main__":
    junit.main()
