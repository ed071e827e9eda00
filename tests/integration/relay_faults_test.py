"""Delivery against downstream servers that misbehave or differ: a 421
greeting, a connection dropped mid-DATA, slow replies, with and without
PIPELINING and CHUNKING. The downstream is tests/harness/scripted_server.py
(raw sockets), so the test sees each read the daemon's client caused."""
import os
import smtplib
import subprocess
import sys
import tempfile
import time
import unittest

from harness import junit
from harness.ringmta_process import RingmtaProcess
from harness.scripted_server import ScriptedServer
from harness.smtp_sink import SmtpSink
from harness.util import FakeDns, wait_for_log, write_config

FAST_RETRY = """
[delivery]
retry_initial_ms = 200
retry_max_ms = 400
idle_timeout_ms = 500
"""
BODY = b"Subject: fault\r\nFrom: a@example.com\r\n\r\nline one\r\n.leading dot\r\n"




def send(port, recipients, body=BODY):
    with smtplib.SMTP("127.0.0.1", port, timeout=60) as client:
        refused = client.sendmail("a@example.com", recipients, body)
        assert refused == {}, refused




def smarthost(server, *extra):
    return RingmtaProcess(*extra, "--smarthost", f"127.0.0.1:{server.port}")


class GreetingRefusal(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dns = FakeDns().__enter__()
        cls.dns_port = cls.dns.port

    @classmethod
    def tearDownClass(cls):
        cls.dns.__exit__(None, None, None)

    def test_421_greeting_moves_on_to_the_next_mx(self):
        """A 421 at the greeting of the preferred MX (127.0.0.3) is not the
        end: the message goes out through the next MX (127.0.0.1)."""
        with SmtpSink() as sink, ScriptedServer("127.0.0.3", sink.port,
                                                greeting="421 4.3.2 busy") as busy:
            config = write_config(FAST_RETRY + f'dns_servers = ["127.0.0.1:{self.dns_port}"]\n'
                                  f"mx_port = {sink.port}\n")
            with RingmtaProcess("--config", config) as mta:
                send(mta.port, ["user@greet421.test"])
                self.assertTrue(sink.wait_for(1), mta.log())
                self.assertEqual(sink.messages[0][1], ["user@greet421.test"])
                self.assertGreaterEqual(busy.connections, 1, "the 421 host was never tried")
                self.assertEqual(busy.messages, [])
                self.assertTrue(wait_for_log(mta, "delivered to=<user@greet421.test>"), mta.log())
                self.assertIn("relay=mx1.loop.test[127.0.0.1]", mta.log())


class DroppedConnection(unittest.TestCase):
    def test_drop_mid_data_defers_then_delivers_once(self):
        """A connection lost in the middle of the body defers the message
        (not "uncertain": the end of the body was never sent), and the retry
        delivers it exactly once."""
        # 120 KB: well over what the client's socket buffers can hold
        # against this server (about 75 KB, see ScriptedServer), so the
        # client is still sending the body when the server hangs up on the
        # first read of it.
        line = b"x" * 78 + b"\r\n"
        body = b"Subject: big\r\n\r\n" + line * (120 * 1024 // len(line))
        config = write_config(FAST_RETRY)
        with ScriptedServer(drop_after_body_bytes=1000) as server, \
                smarthost(server, "--config", config) as mta:
            send(mta.port, ["b@example.org"], body)
            self.assertTrue(server.wait_for(1, timeout_s=60), mta.log()[-3000:])
            self.assertEqual(server.drops, 1)
            log = mta.log()
            self.assertIn("deferred to=<b@example.org>", log)
            self.assertNotIn("uncertain", log)
            self.assertTrue(wait_for_log(mta, "delivered to=<b@example.org>"), log[-3000:])
            self.assertTrue(server.messages[0][2].endswith(body), "body altered")
            time.sleep(1.0)  # room for a wrong second delivery to show up
            self.assertEqual(len(server.messages), 1)
            self.assertEqual(mta.log().count("delivered to=<b@example.org>"), 1)


class SlowServer(unittest.TestCase):
    def test_slow_replies_still_deliver(self):
        """300 ms before every reply (greeting included) is slow, not a
        failure: nothing times out and the message is delivered at first try."""
        with ScriptedServer(reply_delay_s=0.3) as server, smarthost(server) as mta:
            send(mta.port, ["b@example.org", "c@example.org"])
            self.assertTrue(server.wait_for(1), mta.log())
            self.assertEqual(server.messages[0][1], ["b@example.org", "c@example.org"])
            self.assertTrue(server.messages[0][2].endswith(BODY))
            self.assertTrue(wait_for_log(mta, "delivered to=<c@example.org>"), mta.log())
            self.assertNotIn("deferred", mta.log())


class Extensions(unittest.TestCase):
    def transaction_reads(self, server):
        """The command groups from MAIL up to and including DATA or BDAT."""
        groups = server.commands_by_read()
        verbs = [[command.split(" ", 1)[0].split(":", 1)[0].upper() for command in group]
                 for group in groups]
        start = next(i for i, group in enumerate(verbs) if "MAIL" in group)
        end = next(i for i, group in enumerate(verbs)
                   if i >= start and ("DATA" in group or "BDAT" in group))
        return verbs[start:end + 1]

    def test_without_pipelining_one_command_per_read(self):
        """A server that does not offer PIPELINING gets each command alone
        and answered before the next; DATA (not BDAT) without CHUNKING."""
        with ScriptedServer(pipelining=False, chunking=False) as server, \
                smarthost(server) as mta:
            send(mta.port, ["b@example.org", "c@example.org"])
            self.assertTrue(server.wait_for(1), mta.log())
            self.assertTrue(server.messages[0][2].endswith(BODY), server.messages[0][2])
            reads = self.transaction_reads(server)
            self.assertEqual(reads, [["MAIL"], ["RCPT"], ["RCPT"], ["DATA"]])
            for group in server.commands_by_read():
                self.assertEqual(len(group), 1, server.commands_by_read())

    def test_with_pipelining_mail_rcpt_data_in_one_read(self):
        """With PIPELINING, MAIL, every RCPT and DATA reach the server in one
        read (one write from the client)."""
        with ScriptedServer(pipelining=True, chunking=False) as server, \
                smarthost(server) as mta:
            send(mta.port, ["b@example.org", "c@example.org"])
            self.assertTrue(server.wait_for(1), mta.log())
            self.assertEqual(self.transaction_reads(server), [["MAIL", "RCPT", "RCPT", "DATA"]])
            self.assertTrue(server.messages[0][2].endswith(BODY))

    def test_chunking_uses_bdat(self):
        """With CHUNKING the body goes out in BDAT chunks, never DATA, and
        arrives unchanged (no dot-stuffing in BDAT)."""
        with ScriptedServer(pipelining=True, chunking=True) as server, \
                smarthost(server) as mta:
            send(mta.port, ["b@example.org"])
            self.assertTrue(server.wait_for(1), mta.log())
            commands = [line for _, _, line in server.commands]
            self.assertTrue(any(line.upper().startswith("BDAT ") for line in commands), commands)
            self.assertFalse(any(line.upper() == "DATA" for line in commands), commands)
            self.assertTrue(server.messages[0][2].endswith(BODY), server.messages[0][2])
            self.assertTrue(wait_for_log(mta, "delivered to=<b@example.org>"), mta.log())


if __name__ == "__main__":
    junit.main()
