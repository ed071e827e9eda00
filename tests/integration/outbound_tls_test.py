"""Outbound STARTTLS (RFC 3207) per TLS policy: ringmta relays to a
python3-aiosmtpd sink that offers STARTTLS with a certificate made at test
time, and the sink reports whether each message came over TLS.
  may:     TLS when offered; a failed handshake is retried in cleartext once
           and the host remembered (the next connection makes no handshake).
  encrypt: no STARTTLS offered -> deferred and kept queued.
  verify:  the right CA delivers; a wrong name or an unknown CA defers; the
           name checked is the smart host's or the MX host's (from DNS on
           loopback).
Also: session resumption between connections, and the injection defence
(bytes pipelined behind the server's 220 to STARTTLS are discarded)."""
import os
import smtplib
import socket
import ssl
import threading
import time
import unittest

from harness import junit
from harness.ringmta_process import RingmtaProcess
from harness.smtp_sink import SmtpSink
from harness.test_certs import TestCa
from harness.util import FakeDns, wait_for_log, write_config

# One connection per message (idle 0) so each message shows a handshake;
# fast retries so a deferral shows up again within the test.
DELIVERY = """
[delivery]
idle_timeout_ms = 0
retry_initial_ms = 200
retry_max_ms = 400
"""


def server_context(cert, key, max_version=None):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    if max_version is not None:
        context.maximum_version = max_version
    return context


def send(port, recipient="b@example.org", body=b"Subject: tls\r\n\r\nhello\r\n"):
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        refused = client.sendmail("a@example.com", [recipient], body)
        assert refused == {}, refused


def route(sink_port, policy, ca_file=None):
    text = DELIVERY + f"""
[[route]]
domain = "*"
smarthost = "127.0.0.1:{sink_port}"
tls = "{policy}"
"""
    if ca_file:
        text += f'tls_ca_file = "{ca_file}"\n'
    return write_config(text)


class OutboundTls(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ca = TestCa()
        cls.cert, cls.key = cls.ca.leaf("IP:127.0.0.1", "loopback")
        cls.other_cert, cls.other_key = cls.ca.leaf("DNS:other.test", "other")
        cls.stranger_ca = TestCa("someone else's CA")
        cls.stranger_cert, cls.stranger_key = cls.stranger_ca.leaf("IP:127.0.0.1", "stranger")

    def test_may_uses_starttls_when_offered_and_logs_the_cipher(self):
        with SmtpSink(tls_context=server_context(self.cert, self.key)) as sink, \
                RingmtaProcess("--smarthost", f"127.0.0.1:{sink.port}") as mta:
            send(mta.port)
            self.assertTrue(sink.wait_for(1), mta.log())
            details = sink.details[0]
            self.assertIsNotNone(details["tls_version"], details)
            self.assertTrue(wait_for_log(mta, "delivered to=<b@example.org>"), mta.log())
            line = [l for l in mta.log().splitlines() if "delivered to=<b@example.org>" in l][0]
            self.assertIn(f'tls="{details["tls_version"]} {details["tls_cipher"]}"', line)

    def test_later_connections_resume_the_tls_session(self):
        with SmtpSink(tls_context=server_context(self.cert, self.key)) as sink, \
                RingmtaProcess("--config", write_config(DELIVERY), "--smarthost",
                               f"127.0.0.1:{sink.port}", shards=1) as mta:
            send(mta.port)
            self.assertTrue(sink.wait_for(1), mta.log())
            # The first connection has ended (idle 0) before the second starts.
            self.assertTrue(wait_for_log(mta, "delivered to="), mta.log())
            send(mta.port)
            self.assertTrue(sink.wait_for(2), mta.log())
            self.assertGreaterEqual(sink.connections, 2)
            self.assertFalse(sink.details[0]["tls_resumed"])
            self.assertTrue(sink.details[1]["tls_resumed"], sink.details)

    def test_may_falls_back_to_cleartext_and_remembers_the_host(self):
        # The server offers STARTTLS but can only speak TLS 1.1, which the
        # client refuses: every handshake fails.
        broken = server_context(self.cert, self.key, max_version=ssl.TLSVersion.TLSv1_1)
        with SmtpSink(tls_context=broken) as sink, \
                RingmtaProcess("--config", write_config(DELIVERY), "--smarthost",
                               f"127.0.0.1:{sink.port}", shards=1) as mta:
            send(mta.port)
            self.assertTrue(sink.wait_for(1), mta.log())
            self.assertIsNone(sink.details[0]["tls_version"])
            self.assertIn("retrying in cleartext", mta.log())
            self.assertEqual(sink.starttls_commands, 1)
            self.assertTrue(wait_for_log(mta, "delivered to="), mta.log())
            send(mta.port)
            self.assertTrue(sink.wait_for(2), mta.log())
            # Remembered: the second message went in cleartext at once.
            self.assertEqual(sink.starttls_commands, 1)
            self.assertEqual(mta.log().count("retrying in cleartext"), 1)

    def test_jobs_arriving_during_a_slow_failing_handshake(self):
        # The server takes a second to fail the handshake; meanwhile more
        # messages reach the destination and refresh its hops under the
        # connecting session (a use-after-free there once aborted the daemon
        # under ASan, so the exit code is checked too).
        with SlowTlsFailure() as server, \
                RingmtaProcess("--config", write_config(DELIVERY), "--smarthost",
                               f"127.0.0.1:{server.port}", shards=1) as mta:
            with smtplib.SMTP("127.0.0.1", mta.port, timeout=30) as client:
                for _ in range(4):
                    self.assertEqual(
                        client.sendmail("a@example.com", ["b@example.org"], b"Subject: s\r\n\r\nx\r\n"),
                        {})
            self.assertTrue(wait_for_log(mta, "delivered to=<b@example.org>", count=4), mta.log())
            self.assertEqual(server.messages, 4)
            self.assertEqual(mta.stop(), 0, mta.log())

    def test_encrypt_defers_when_starttls_is_not_offered(self):
        with SmtpSink() as sink, \
                RingmtaProcess("--config", route(sink.port, "encrypt")) as mta:
            send(mta.port)
            # Deferred, retried, deferred again: it stays queued.
            self.assertTrue(wait_for_log(mta, "deferred to=<b@example.org>", count=2), mta.log())
            self.assertIn("status=4.7.10", mta.log())
            self.assertIn("TLS required (policy encrypt) but unavailable", mta.log())
            self.assertEqual(sink.messages, [])
            self.assertNotIn("delivered to=", mta.log())

    def test_encrypt_defers_when_the_handshake_fails(self):
        broken = server_context(self.cert, self.key, max_version=ssl.TLSVersion.TLSv1_1)
        with SmtpSink(tls_context=broken) as sink, \
                RingmtaProcess("--config", route(sink.port, "encrypt")) as mta:
            send(mta.port)
            self.assertTrue(wait_for_log(mta, "deferred to=<b@example.org>"), mta.log())
            self.assertIn("status=4.7.5", mta.log())
            self.assertNotIn("retrying in cleartext", mta.log())
            self.assertEqual(sink.messages, [])

    def test_encrypt_accepts_any_certificate(self):
        context = server_context(self.stranger_cert, self.stranger_key)
        with SmtpSink(tls_context=context) as sink, \
                RingmtaProcess("--config", route(sink.port, "encrypt")) as mta:
            send(mta.port)
            self.assertTrue(sink.wait_for(1), mta.log())
            self.assertIsNotNone(sink.details[0]["tls_version"])

    def test_verify_with_the_right_ca_delivers(self):
        with SmtpSink(tls_context=server_context(self.cert, self.key)) as sink, \
                RingmtaProcess("--config", route(sink.port, "verify", self.ca.ca_file)) as mta:
            send(mta.port)
            self.assertTrue(sink.wait_for(1), mta.log())
            self.assertIsNotNone(sink.details[0]["tls_version"])

    def test_verify_defers_a_certificate_for_another_name(self):
        with SmtpSink(tls_context=server_context(self.other_cert, self.other_key)) as sink, \
                RingmtaProcess("--config", route(sink.port, "verify", self.ca.ca_file)) as mta:
            send(mta.port)
            self.assertTrue(wait_for_log(mta, "deferred to=<b@example.org>"), mta.log())
            self.assertIn("status=4.7.5", mta.log())
            self.assertIn("certificate verification failed", mta.log())
            self.assertEqual(sink.messages, [])

    def test_verify_defers_a_certificate_from_an_unknown_ca(self):
        context = server_context(self.stranger_cert, self.stranger_key)
        with SmtpSink(tls_context=context) as sink, \
                RingmtaProcess("--config", route(sink.port, "verify", self.ca.ca_file)) as mta:
            send(mta.port)
            self.assertTrue(wait_for_log(mta, "deferred to=<b@example.org>"), mta.log())
            self.assertIn("certificate verification failed", mta.log())
            self.assertEqual(sink.messages, [])

    def test_verify_defers_when_the_ca_bundle_is_gone(self):
        # Loaded at start (a bad file is a config error), then removed: the
        # first connection cannot make its TLS context and must not go on
        # without TLS.
        ca = TestCa("short-lived CA")
        with SmtpSink(tls_context=server_context(self.cert, self.key)) as sink, \
                RingmtaProcess("--config", route(sink.port, "verify", ca.ca_file)) as mta:
            os.remove(ca.ca_file)
            send(mta.port)
            self.assertTrue(wait_for_log(mta, "deferred to=<b@example.org>"), mta.log())
            self.assertIn("status=4.7.5", mta.log())
            self.assertIn("TLS required but unavailable", mta.log())
            self.assertEqual(sink.starttls_commands, 0)
            self.assertEqual(sink.messages, [])

    def test_replies_pipelined_behind_the_starttls_220_are_discarded(self):
        with InjectingServer(server_context(self.cert, self.key)) as server, \
                RingmtaProcess("--smarthost", f"127.0.0.1:{server.port}") as mta:
            send(mta.port)
            self.assertTrue(server.done.wait(30), mta.log())
            self.assertTrue(wait_for_log(mta, "delivered to=<b@example.org>"), mta.log())
            # After the handshake the client started over with EHLO, and the
            # injected "250 junk" was never taken as an answer.
            self.assertEqual(server.commands_after_tls[0].split()[0], "EHLO")
            self.assertIn("DATA", server.commands_after_tls)
            self.assertNotIn("rotocol error", mta.log())


class VerifyMxHostName(unittest.TestCase):
    """delivery.tls = "verify": the certificate must name the MX host that
    DNS gave (loop.test -> MX mx1.loop.test -> 127.0.0.1)."""

    @classmethod
    def setUpClass(cls):
        cls.dns = FakeDns().__enter__()
        cls.ca = TestCa()

    @classmethod
    def tearDownClass(cls):
        cls.dns.__exit__(None, None, None)

    def mta(self, sink):
        return RingmtaProcess("--config", write_config(
            DELIVERY + f'dns_servers = ["127.0.0.1:{self.dns.port}"]\n'
            f"mx_port = {sink.port}\n"
            'tls = "verify"\n'
            f'tls_ca_file = "{self.ca.ca_file}"\n'))

    def test_a_certificate_for_the_mx_name_delivers(self):
        cert, key = self.ca.leaf("DNS:mx1.loop.test", "mx1")
        with SmtpSink(tls_context=server_context(cert, key)) as sink, self.mta(sink) as mta:
            send(mta.port, "user@loop.test")
            self.assertTrue(sink.wait_for(1), mta.log())
            self.assertIsNotNone(sink.details[0]["tls_version"])

    def test_a_certificate_for_the_address_only_defers(self):
        cert, key = self.ca.leaf("IP:127.0.0.1", "address-only")
        with SmtpSink(tls_context=server_context(cert, key)) as sink, self.mta(sink) as mta:
            send(mta.port, "user@loop.test")
            self.assertTrue(wait_for_log(mta, "deferred to=<user@loop.test>"), mta.log())
            self.assertIn("certificate verification failed", mta.log())
            self.assertEqual(sink.messages, [])


class SlowTlsFailure:
    """Offers STARTTLS, answers it with 220, then waits a second and hangs
    up (a handshake that fails slowly). Connections that do not ask for TLS
    are served normally; `messages` counts what they delivered."""

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.messages = 0
        self.lock = threading.Lock()
        self.stopping = threading.Event()

    def __enter__(self):
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        self.listener.close()

    def _accept(self):
        while not self.stopping.is_set():
            try:
                conn, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        conn.settimeout(30)
        with conn:
            conn.sendall(b"220 slow.test ESMTP\r\n")
            reader = conn.makefile("rb")
            in_data = False
            for line in reader:
                text = line.decode(errors="replace").rstrip("\r\n")
                if in_data:
                    if text == ".":
                        in_data = False
                        with self.lock:
                            self.messages += 1
                        conn.sendall(b"250 2.0.0 queued\r\n")
                    continue
                verb = text.split(" ")[0].upper()
                if verb == "EHLO":
                    conn.sendall(b"250-slow.test\r\n250 STARTTLS\r\n")
                elif verb == "STARTTLS":
                    conn.sendall(b"220 go ahead\r\n")
                    time.sleep(1)
                    return
                elif verb == "DATA":
                    in_data = True
                    conn.sendall(b"354 go on\r\n")
                elif verb == "QUIT":
                    conn.sendall(b"221 bye\r\n")
                    return
                else:
                    conn.sendall(b"250 ok\r\n")


class InjectingServer:
    """A one-connection SMTP server that answers STARTTLS with "220 go
    ahead\\r\\n250 junk\\r\\n" in one send, then serves a message over TLS."""

    def __init__(self, context):
        self.context = context
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.commands_after_tls = []
        self.done = threading.Event()

    def __enter__(self):
        threading.Thread(target=self._serve, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.listener.close()

    def _serve(self):
        conn, _ = self.listener.accept()
        conn.settimeout(30)
        conn.sendall(b"220 inject.test ESMTP\r\n")
        reader = conn.makefile("rb")
        reader.readline()  # EHLO
        conn.sendall(b"250-inject.test\r\n250 STARTTLS\r\n")
        reader.readline()  # STARTTLS
        conn.sendall(b"220 go ahead\r\n250 junk\r\n")
        tls = self.context.wrap_socket(conn, server_side=True)
        reader = tls.makefile("rb")
        in_data = False
        while True:
            line = reader.readline()
            if not line:
                break
            text = line.decode(errors="replace").rstrip("\r\n")
            if in_data:
                if text == ".":
                    in_data = False
                    tls.sendall(b"250 2.0.0 queued\r\n")
                continue
            self.commands_after_tls.append(text)
            verb = text.split(" ")[0].upper()
            if verb == "EHLO":
                tls.sendall(b"250-inject.test\r\n250 8BITMIME\r\n")
            elif verb == "DATA":
                in_data = True
                tls.sendall(b"354 go on\r\n")
            elif verb == "QUIT":
                tls.sendall(b"221 bye\r\n")
                break
            else:
                tls.sendall(b"250 ok\r\n")
        self.done.set()
        tls.close()


if __name__ == "__main__":
    junit.main()
