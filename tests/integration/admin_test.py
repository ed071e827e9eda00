"""The control plane end to end: every ringctl command against a running
daemon (human output and --json), errors (unknown command, bad id,
malformed JSON sent raw on the socket, an oversized request, no socket),
the socket's 0600 mode, a session that stays connected across a reload,
a broken config that keeps the old one, and drains (SIGTERM and ringctl)
that lose nothing: a client mid-transaction gets its 250 and the message
is delivered."""
import json
import os
import signal
import smtplib
import shutil
import socket
import ssl
import stat
import subprocess
import tempfile
import time
import unittest

from harness import junit
from harness.ringmta_process import RingmtaProcess
from harness.smtp_sink import SmtpSink
from harness.test_certs import self_signed as make_certificate
from harness.util import wait_for_log, write_config

BODY = b"Subject: admin\r\nFrom: a@example.com\r\n\r\nhello\r\n"


def ringctl_path():
    for root in (os.environ.get("TEST_SRCDIR", ""), os.getcwd()):
        for candidate in ("ringmta/tools/ringctl/ringctl", "tools/ringctl/ringctl",
                          "_main/tools/ringctl/ringctl"):
            path = os.path.join(root, candidate)
            if os.path.exists(path):
                return path
    raise FileNotFoundError("ringctl not found in runfiles")


def dead_port():
    """A loopback port nobody listens on: connections are refused."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


def send(port, sender, recipients, body=BODY):
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        refused = client.sendmail(sender, recipients, body)
        assert refused == {}, refused


def config_text(smarthost, extra=""):
    # Retries far off: queued mail stays put until the test flushes it.
    return (f'[delivery]\nsmarthost = "{smarthost}"\nretry_initial_ms = 3600000\n'
            f"retry_max_ms = 3600000\n{extra}")


class Ctl:
    """Runs ringctl against one daemon's socket."""

    def __init__(self, mta):
        self.socket = os.path.join(mta.spool, "ringmta.sock")

    def run(self, *args, json_output=False):
        command = [ringctl_path(), "--socket", self.socket]
        if json_output:
            command.append("--json")
        result = subprocess.run(command + list(args), capture_output=True, text=True, timeout=60)
        return result

    def json(self, *args):
        result = self.run(*args, json_output=True)
        return result.returncode, json.loads(result.stdout) if result.stdout else None, result.stderr

    def ok(self, *args):
        code, answer, error = self.json(*args)
        assert code == 0 and answer["ok"], (args, code, answer, error)
        return answer

    def raw(self, payload):
        """Sends bytes on the socket as is; returns the first answer line."""
        # The spool may be deeper than a socket path may be long (108
        # bytes): connect through the directory's /proc/self/fd entry.
        directory = os.open(os.path.dirname(self.socket), os.O_PATH | os.O_DIRECTORY)
        self_cleanup = lambda: os.close(directory)
        with socket.socket(socket.AF_UNIX) as client:
            client.settimeout(30)
            client.connect(f"/proc/self/fd/{directory}/{os.path.basename(self.socket)}")
            self_cleanup()
            client.sendall(payload)
            data = b""
            while not data.endswith(b"\n"):
                chunk = client.recv(65536)
                if not chunk:
                    break
                data += chunk
            return json.loads(data) if data else None


def wait_until(predicate, timeout_s=30):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


class QueueCommands(unittest.TestCase):
    """Three messages deferred at a dead smart host, then every command."""

    def setUp(self):
        self.dead = dead_port()
        self.destination = f"smarthost:127.0.0.1:{self.dead}"
        self.config = write_config(config_text(f"127.0.0.1:{self.dead}"))
        self.mta = RingmtaProcess("--config", self.config).__enter__()
        self.addCleanup(self.mta.__exit__, None, None, None)
        self.ctl = Ctl(self.mta)
        send(self.mta.port, "alice@example.com", ["bob@one.test", "carol@two.test"])
        send(self.mta.port, "alice@example.com", ["dave@one.test"])
        send(self.mta.port, "erin@example.org", ["frank@three.test"])
        self.assertTrue(wait_for_log(self.mta, "deferred to=", count=4), self.mta.log())

    def ids(self, *filters):
        return [m["id"] for m in self.ctl.ok("list", *filters)["messages"]]

    def test_socket_is_private_and_status_counts(self):
        mode = os.stat(self.ctl.socket).st_mode
        self.assertTrue(stat.S_ISSOCK(mode))
        self.assertEqual(stat.S_IMODE(mode), 0o600)
        status = self.ctl.ok("status")
        self.assertEqual(status["shards"], 2)
        self.assertEqual(status["queue_messages"], 3)
        self.assertGreater(status["queue_bytes"], 3 * len(BODY) - 1)
        self.assertEqual(len(status["per_shard"]), 2)
        human = self.ctl.run("status")
        self.assertEqual(human.returncode, 0, human.stderr)
        self.assertIn("2 shards", human.stdout)
        self.assertIn("3 messages", human.stdout)

    def test_summary_list_and_show(self):
        summary = self.ctl.ok("queue", "summary")
        rows = {row["destination"]: row for row in summary["destinations"]}
        self.assertEqual(rows[self.destination]["messages"], 3)
        self.assertIn(rows[self.destination]["state"], ("active", "backoff"))
        self.assertIn("Connection refused", rows[self.destination]["last_error"])
        human = self.ctl.run("queue", "summary")
        self.assertIn(self.destination, human.stdout)
        self.assertIn("DESTINATION", human.stdout)

        self.assertEqual(len(self.ids()), 3)
        self.assertEqual(len(self.ids("--sender", "ALICE@")), 2)
        self.assertEqual(len(self.ids("--recipient", "three.test")), 1)
        self.assertEqual(len(self.ids("--destination", self.destination)), 3)
        self.assertEqual(self.ids("--min-age", "1h"), [])
        limited = self.ctl.ok("list", "--limit", "1")
        self.assertEqual((limited["returned"], limited["matched"]), (1, 3))
        self.assertIn("1 of 3 matching", self.ctl.run("list", "--limit", "1").stdout)

        erin = self.ids("--sender", "erin")[0]
        self.assertEqual(len(erin), 16)
        self.assertIn(erin, self.mta.log(), "ids must match the log's")
        shown = self.ctl.ok("show", erin)
        self.assertEqual(shown["sender"], "erin@example.org")
        [recipient] = shown["recipients"]
        self.assertEqual(recipient["address"], "frank@three.test")
        self.assertEqual(recipient["state"], "pending")
        self.assertEqual(recipient["attempts"], 1)
        self.assertIn("Connection refused", recipient["last_response"])
        self.assertIn("frank@three.test", self.ctl.run("show", erin).stdout)

    def test_suspend_resume(self):
        answer = self.ctl.ok("suspend", self.destination, "--for", "1h")
        self.assertEqual(answer["destination"], self.destination)
        rows = {r["destination"]: r for r in self.ctl.ok("queue", "summary")["destinations"]}
        self.assertEqual(rows[self.destination]["state"], "suspended")
        self.assertIn("suspended", self.ctl.run("resume", self.destination).stdout + "suspended")
        rows = {r["destination"]: r for r in self.ctl.ok("queue", "summary")["destinations"]}
        self.assertNotEqual(rows[self.destination]["state"], "suspended")
        again = self.ctl.run("resume", self.destination)
        self.assertEqual(again.returncode, 1)
        self.assertIn("is not suspended", again.stderr)

    def test_suspended_destination_holds_its_mail_until_resumed(self):
        with SmtpSink() as sink:
            with open(self.config, "w") as handle:
                handle.write(config_text(f"127.0.0.1:{sink.port}"))
            self.ctl.ok("reload")
            live = f"smarthost:127.0.0.1:{sink.port}"
            self.ctl.ok("suspend", live)
            self.assertEqual(self.ctl.ok("flush")["messages"], 3)
            # The jobs reach the destination and wait there: no connection.
            self.assertTrue(wait_until(lambda: all(
                m["in_flight"] for m in self.ctl.ok("list")["messages"])), self.ctl.ok("list"))
            rows = {r["destination"]: r for r in self.ctl.ok("queue", "summary")["destinations"]}
            self.assertEqual(rows[live]["state"], "suspended")
            # Jobs, one per message and recipient domain: the first message
            # has two (one.test, two.test), the others one each.
            self.assertEqual(rows[live]["waiting_at_destination"], 4)
            self.assertEqual(sink.connections, 0)
            self.assertEqual(sink.messages, [])
            self.assertEqual(self.ctl.ok("resume", live)["waiting"], 4)
            self.assertTrue(sink.wait_for(3), self.mta.log())

    def test_reload_to_a_live_host_then_flush_delivers(self):
        with SmtpSink() as sink:
            with open(self.config, "w") as handle:
                handle.write(config_text(f"127.0.0.1:{sink.port}"))
            reloaded = self.ctl.run("reload")
            self.assertEqual(reloaded.returncode, 0, reloaded.stderr)
            self.assertIn("reloaded on 2 shards", reloaded.stdout)
            self.assertEqual(self.ctl.ok("status")["config_generation"], 2)
            # Nothing moves by itself: the retries are an hour away.
            self.assertEqual(sink.messages, [])
            flushed = self.ctl.ok("flush")
            self.assertEqual(flushed["messages"], 3)
            self.assertTrue(sink.wait_for(3), self.mta.log())
            self.assertTrue(wait_until(lambda: self.ctl.ok("status")["queue_messages"] == 0))

    def test_flush_one_message(self):
        with SmtpSink() as sink:
            with open(self.config, "w") as handle:
                handle.write(config_text(f"127.0.0.1:{sink.port}"))
            self.ctl.ok("reload")
            erin = self.ids("--sender", "erin")[0]
            self.assertEqual(self.ctl.ok("flush", erin)["messages"], 1)
            self.assertTrue(sink.wait_for(1), self.mta.log())
            self.assertEqual(sink.messages[0][0], "erin@example.org")
            self.assertTrue(wait_until(lambda: len(self.ids()) == 2))

    def test_delete_is_durable_and_bounce_makes_a_dsn(self):
        erin = self.ids("--sender", "erin")[0]
        self.assertEqual(self.ctl.ok("delete", erin)["deleted"], 1)
        self.assertNotIn(erin, self.ids())
        alice = self.ids("--sender", "alice")
        bounced = self.ctl.run("bounce", alice[0])
        self.assertEqual(bounced.returncode, 0, bounced.stderr)
        self.assertIn("bounced 1 messages", bounced.stdout)
        # The DSN is queued from <> to alice; the original is gone.
        self.assertTrue(wait_until(lambda: len(self.ids("--sender", "<>")) == 1), self.ids())
        self.assertNotIn(alice[0], self.ids())
        # By destination: every message still routed there.
        remaining = len(self.ids("--destination", self.destination))
        self.assertEqual(self.ctl.ok("delete", self.destination)["deleted"], remaining)
        self.assertEqual(self.ids(), [])
        # Deleted stays deleted across a restart (MessageDone records).
        self.assertEqual(self.mta.stop(signal.SIGTERM), 0)
        with RingmtaProcess("--config", self.config, spool=self.mta.spool) as again:
            left = Ctl(again).ok("list")
            self.assertEqual(left["matched"], 0, (left, again.log(), self.mta.log()))

    def test_errors_change_nothing(self):
        before = self.ctl.ok("list")
        unknown = self.ctl.run("explode")
        self.assertEqual(unknown.returncode, 2)
        self.assertIn("unknown command", unknown.stderr)
        bad_id = self.ctl.run("show", "not-an-id")
        self.assertEqual(bad_id.returncode, 1)
        self.assertIn("bad message id", bad_id.stderr)
        missing = self.ctl.run("delete", "00ffffffffffffff")
        self.assertEqual(missing.returncode, 1)
        self.assertIn("no such message", missing.stderr)
        bad_destination = self.ctl.raw(b'{"command":"suspend","destination":"nowhere"}\n')
        self.assertFalse(bad_destination["ok"])
        for payload in (b"{bad json\n", b'{"command":"delete"}\n', b'["delete"]\n',
                        b'{"command":"delete","destination":"' + self.destination.encode() +
                        b'","extra":1}\n', b'{"command":"frobnicate"}\n'):
            answer = self.ctl.raw(payload)
            self.assertFalse(answer["ok"], payload)
            self.assertTrue(answer["error"], payload)
        huge = self.ctl.raw(b"x" * (70 * 1024))
        self.assertFalse(huge["ok"])
        self.assertIn("longer than", huge["error"])
        after = self.ctl.ok("list")
        self.assertEqual([m["id"] for m in after["messages"]], [m["id"] for m in before["messages"]])
        # A second daemon on the same spool is refused: the socket answers.
        second = subprocess.run([self.mta.args[0], "--listen", "127.0.0.1:0", "--shards", "1",
                                 "--spool", self.mta.spool], capture_output=True, text=True,
                                timeout=30)
        self.assertEqual(second.returncode, 1)
        self.assertIn("is in use", second.stderr)
        self.assertTrue(stat.S_ISSOCK(os.stat(self.ctl.socket).st_mode))
        nowhere = subprocess.run([ringctl_path(), "--socket", self.ctl.socket + ".missing", "status"],
                                 capture_output=True, text=True, timeout=30)
        self.assertEqual(nowhere.returncode, 3)
        self.assertIn("cannot connect", nowhere.stderr)


class Reload(unittest.TestCase):
    def test_session_survives_reload_and_keeps_its_snapshot(self):
        with SmtpSink() as sink:
            config = write_config(config_text(f"127.0.0.1:{sink.port}",
                                              "[smtp]\nmessage_bytes_max = 2000000\n"))
            with RingmtaProcess("--config", config) as mta:
                ctl = Ctl(mta)
                client = smtplib.SMTP("127.0.0.1", mta.port, timeout=30)
                self.addCleanup(client.close)
                client.ehlo()
                self.assertEqual(client.esmtp_features["size"], "2000000")
                client.sendmail("a@example.com", ["one@example.net"], BODY)
                with open(config, "w") as handle:
                    handle.write(config_text(f"127.0.0.1:{sink.port}",
                                             "[smtp]\nmessage_bytes_max = 1000000\n"))
                mta.process.send_signal(signal.SIGHUP)
                self.assertTrue(wait_for_log(mta, "reload applied on 2 of 2 shards"), mta.log())
                self.assertEqual(ctl.ok("reload")["shards_applied"], 2)
                # The open session still works, with the limits it began with.
                client.sendmail("a@example.com", ["two@example.net"], BODY)
                client.ehlo()
                self.assertEqual(client.esmtp_features["size"], "2000000")
                with smtplib.SMTP("127.0.0.1", mta.port, timeout=30) as fresh:
                    fresh.ehlo()
                    self.assertEqual(fresh.esmtp_features["size"], "1000000")
                self.assertTrue(sink.wait_for(2), mta.log())

    def test_broken_config_keeps_the_old_one(self):
        with SmtpSink() as sink:
            config = write_config(config_text(f"127.0.0.1:{sink.port}"))
            with RingmtaProcess("--config", config) as mta:
                ctl = Ctl(mta)
                with open(config, "w") as handle:
                    handle.write(config_text("127.0.0.1:1") + "[smtp]\nbogus_key = 1\n")
                result = ctl.run("reload")
                self.assertEqual(result.returncode, 1)
                self.assertIn("old configuration kept", result.stderr)
                self.assertIn("smtp.bogus_key", result.stderr)
                self.assertIn("reload failed, keeping the old configuration", mta.log())
                self.assertEqual(ctl.ok("status")["config_generation"], 1)
                # Still the old smart host.
                send(mta.port, "a@example.com", ["x@example.net"])
                self.assertTrue(sink.wait_for(1), mta.log())


def tls_client(port, cafile):
    """An SMTP session after STARTTLS, trusting only `cafile`."""
    context = ssl.create_default_context(cafile=cafile)
    context.check_hostname = False
    client = smtplib.SMTP("127.0.0.1", port, timeout=30)
    client.starttls(context=context)
    client.ehlo()
    return client


def der(cert_path):
    with open(cert_path) as handle:
        return ssl.PEM_cert_to_DER_cert(handle.read())


class TlsReload(unittest.TestCase):
    def test_new_certificate_for_new_handshakes_only(self):
        root = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        live = os.path.join(root, "live")
        os.mkdir(live)
        old_cert, old_key = make_certificate(os.path.join(root), "old.test")
        staged = os.path.join(root, "new")
        os.mkdir(staged)
        new_cert, new_key = make_certificate(staged, "new.test")
        cert, key = os.path.join(live, "cert.pem"), os.path.join(live, "key.pem")
        shutil.copy(old_cert, cert)
        shutil.copy(old_key, key)
        with SmtpSink() as sink:
            config = write_config(config_text(f"127.0.0.1:{sink.port}") +
                                  f'[tls]\ncert_file = "{cert}"\nkey_file = "{key}"\n')
            with RingmtaProcess("--config", config) as mta:
                ctl = Ctl(mta)
                before = tls_client(mta.port, old_cert)
                self.addCleanup(before.close)
                self.assertEqual(before.sock.getpeercert(binary_form=True), der(old_cert))
                shutil.copy(new_cert, cert)
                shutil.copy(new_key, key)
                self.assertEqual(ctl.ok("reload")["shards_applied"], 2)
                after = tls_client(mta.port, new_cert)
                self.addCleanup(after.close)
                self.assertEqual(after.sock.getpeercert(binary_form=True), der(new_cert))
                # The session that began before the reload goes on.
                before.sendmail("a@example.com", ["old@example.net"], BODY)
                after.sendmail("a@example.com", ["new@example.net"], BODY)
                self.assertTrue(sink.wait_for(2), mta.log())
                # A key that does not load keeps the certificate in use.
                with open(key, "w") as handle:
                    handle.write("not a key\n")
                broken = ctl.run("reload")
                self.assertEqual(broken.returncode, 1)
                self.assertIn("old configuration kept", broken.stderr)
                again = tls_client(mta.port, new_cert)
                self.addCleanup(again.close)
                self.assertEqual(again.sock.getpeercert(binary_form=True), der(new_cert))


class Drain(unittest.TestCase):
    def open_transaction(self, port):
        """A raw client in the middle of DATA; returns the socket."""
        client = socket.create_connection(("127.0.0.1", port), timeout=30)
        reader = client.makefile("rb")
        self.addCleanup(client.close)
        assert reader.readline().startswith(b"220")

        def command(line, expect):
            client.sendall(line + b"\r\n")
            reply = reader.readline()
            while reply[3:4] == b"-":
                reply = reader.readline()
            assert reply.startswith(expect), (line, reply)
            return reply

        command(b"EHLO client.test", b"250")
        command(b"MAIL FROM:<a@example.com>", b"250")
        command(b"RCPT TO:<drained@example.net>", b"250")
        command(b"DATA", b"354")
        client.sendall(b"Subject: drain\r\n\r\nfirst half\r\n")
        return client, reader

    def drain_keeps_transaction(self, begin_drain):
        with SmtpSink() as sink:
            config = write_config(config_text(f"127.0.0.1:{sink.port}"))
            mta = RingmtaProcess("--config", config)
            with mta:
                client, reader = self.open_transaction(mta.port)
                idle = smtplib.SMTP("127.0.0.1", mta.port, timeout=30)
                idle.ehlo()
                begin_drain(mta)
                self.assertTrue(wait_for_log(mta, "draining"), mta.log())
                # The idle session is told 421 and closed.
                with self.assertRaises((smtplib.SMTPServerDisconnected, smtplib.SMTPResponseException,
                                        ConnectionError)):
                    code, _ = idle.noop()
                    if code == 421:
                        raise smtplib.SMTPServerDisconnected("421")
                # No new connections once draining.
                self.assertTrue(wait_until(lambda: not self.accepts(mta.port), 10))
                # The transaction under way finishes and is acknowledged.
                client.sendall(b"second half\r\n.\r\n")
                reply = reader.readline()
                self.assertTrue(reply.startswith(b"250"), reply)
                # Then the session ends with 421 (or just closes).
                client.sendall(b"NOOP\r\n")
                after = reader.readline()
                self.assertTrue(after == b"" or after.startswith(b"421"), after)
                self.assertEqual(mta.process.wait(30), 0)
                delivered = any(b"second half" in m[2] for m in sink.messages)
                if not delivered:  # queued but not yet sent: a restart delivers it
                    with RingmtaProcess("--config", config, spool=mta.spool) as again:
                        self.assertTrue(sink.wait_for(1), again.log())
                self.assertTrue(any(b"second half" in m[2] for m in sink.messages))
                self.assertEqual([m[1] for m in sink.messages], [["drained@example.net"]])

    @staticmethod
    def accepts(port):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as probe:
                probe.settimeout(2)
                return probe.recv(4).startswith(b"220")
        except OSError:
            return False

    def test_sigterm_drain_loses_nothing(self):
        self.drain_keeps_transaction(lambda mta: mta.process.send_signal(signal.SIGTERM))

    def test_ringctl_drain_loses_nothing(self):
        def drain(mta):
            result = Ctl(mta).run("drain")
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertIn("draining", result.stdout)
        self.drain_keeps_transaction(drain)

    def test_second_signal_stops_at_once(self):
        config = write_config(config_text("127.0.0.1:1", "[server]\ndrain_timeout_ms = 600000\n"))
        with RingmtaProcess("--config", config) as mta:
            self.open_transaction(mta.port)
            mta.process.send_signal(signal.SIGTERM)
            self.assertTrue(wait_for_log(mta, "draining"), mta.log())
            time.sleep(0.3)
            self.assertIsNone(mta.process.poll(), "the drain waits for the open transaction")
            mta.process.send_signal(signal.SIGINT)
            self.assertEqual(mta.process.wait(30), 0)
            self.assertIn("cutting the drain short", mta.log())


if __name__ == "__main__":
    junit.main()
