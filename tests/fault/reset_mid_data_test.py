"""Fault: the downstream resets the connection in the middle of DATA.

Inside the body (the end never sent): the message is deferred, retried and
delivered exactly once. After the final dot but before the reply: ringmta
cannot know whether the server took it, so it is "deferred (delivery
uncertain)" and held back (an hour) rather than sent again at once; it is
still queued when the daemon stops, and the books say so.
"""
import socket
import struct
import threading
import time
import unittest

from harness import junit, scripted_server
from harness.accounting import Ledger, send_numbered
from harness.scripted_server import ScriptedServer

import fault_common


class _DropAfterDotSession(scripted_server._Session):
    def read_data(self):
        body = super().read_data()
        server = self.server
        with server.lock:
            drop = body is not None and server.drops_after_dot_left > 0
            if drop:
                server.drops_after_dot_left -= 1
                server.drops += 1
        if drop:
            self.conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            raise scripted_server._Dropped()
        return body


class _FreshConnectionSession(scripted_server._Session):
    """Resets mid-body only in a connection's first message: on a reused
    connection the send window has grown and the client may have written
    the whole body (and its final dot) before the reset reaches it, which
    is the other case below, not this one."""

    messages_read = 0

    def read_data(self):
        body = super().read_data()
        self.messages_read += 1
        return body

    def maybe_drop(self, body_bytes):
        if self.messages_read == 0:
            super().maybe_drop(body_bytes)


class FreshConnectionDropServer(ScriptedServer):
    def _serve(self, conn, number):
        try:
            _FreshConnectionSession(self, conn, number).run()
        except OSError:
            pass
        finally:
            conn.close()


class DropAfterDotServer(ScriptedServer):
    """Takes the whole body, then resets instead of replying (`drops` times)."""

    def __init__(self, drops, **kwargs):
        super().__init__(**kwargs)
        self.drops_after_dot_left = drops

    def _serve(self, conn, number):
        try:
            _DropAfterDotSession(self, conn, number).run()
        except OSError:
            pass
        finally:
            conn.close()


class ResetMidData(unittest.TestCase):
    def setUp(self):
        self.spool = fault_common.new_spool()
        self.addCleanup(fault_common.remove_spool, self.spool)

    def test_reset_inside_the_body_defers_then_delivers_each_once(self):
        drops_wanted = 3
        size = 600 * 1024
        ledger = Ledger()
        # Large bodies against a server with tiny socket buffers (see
        # ScriptedServer): the reset lands while the client is still writing
        # the body. If the kernel took the whole body (final dot included)
        # before the reset, the client cannot tell and rightly calls it
        # uncertain; then the message stays queued, and the books must say so.
        with FreshConnectionDropServer(drop_after_body_bytes=1000) as server, \
                fault_common.daemon(self.spool, "--smarthost",
                                    f"127.0.0.1:{server.port}") as mta:
            rearm = threading.Event()

            def rearm_drops():
                while not rearm.wait(0.02):
                    with server.lock:
                        if server.drops < drops_wanted and server.drop_after_body_bytes is None:
                            server.drop_after_body_bytes = 1000
            thread = threading.Thread(target=rearm_drops, daemon=True)
            thread.start()
            refused = send_numbered(mta.port, ledger, range(8), body_bytes=size)
            self.assertEqual(refused, {})
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                uncertain = mta.log().count("deferred (delivery uncertain)")
                if len(ledger.account(list(server.messages)).missing) <= uncertain:
                    break
                time.sleep(0.1)
            rearm.set()
            thread.join()
            self.assertEqual(server.drops, drops_wanted)
            log = mta.log()
            uncertain = log.count("deferred (delivery uncertain)")
            self.assertEqual(log.count("deferred to=<") + uncertain, drops_wanted, log[-3000:])
            self.assertGreater(log.count("deferred to=<"), 0,
                               "no reset landed inside a body: the test proved nothing")
            report = fault_common.close_books(self, mta, ledger, lambda: list(server.messages),
                                              name="reset inside the body")
            self.assertEqual(report.queued, uncertain)
        for _, _, body in server.messages:
            number = ledger.numbers_in(body)[0]
            self.assertTrue(body.endswith(ledger.message(number, size)), "body altered")

    def test_reset_inside_a_single_chunk_body_is_deferred_not_uncertain(self):
        """A body under 64 KiB is one chunk: the data and the final dot go
        out in one write. When that write fails part way (the server reset
        after 1000 bytes), the dot never left, so the server cannot have the
        message: a plain deferral, redelivered at the next retry, never
        "delivery uncertain" (which holds the retry for an hour)."""
        size = 50 * 1024
        ledger = Ledger()
        with FreshConnectionDropServer(drop_after_body_bytes=1000) as server, \
                fault_common.daemon(self.spool, "--smarthost",
                                    f"127.0.0.1:{server.port}") as mta:
            self.assertEqual(send_numbered(mta.port, ledger, [0], body_bytes=size), {})
            self.assertTrue(server.wait_for(1, timeout_s=20), mta.log()[-3000:])
            self.assertEqual(server.drops, 1)
            self.assertNotIn("uncertain", mta.log())
            fault_common.close_books(self, mta, ledger, lambda: list(server.messages),
                                     name="reset inside a one-chunk body")

    def test_reset_after_the_final_dot_stays_queued_as_uncertain(self):
        ledger = Ledger()
        with DropAfterDotServer(drops=1) as server, \
                fault_common.daemon(self.spool, "--smarthost",
                                    f"127.0.0.1:{server.port}") as mta:
            refused = send_numbered(mta.port, ledger, range(5))
            self.assertEqual(refused, {})
            self.assertTrue(server.wait_for(4), mta.log()[-3000:])
            self.assertTrue(fault_common.wait_for_log(mta, "deferred (delivery uncertain)"),
                            mta.log()[-3000:])
            report = fault_common.close_books(self, mta, ledger, lambda: list(server.messages),
                                              name="reset after the final dot")
        self.assertEqual(server.drops, 1)
        self.assertEqual(len(report.delivered), 4)
        self.assertEqual(report.queued, 1)


if __name__ == "__main__":
    junit.main()
