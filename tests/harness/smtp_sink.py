"""A downstream SMTP server for delivery tests, built on Debian's
python3-aiosmtpd: it records what it receives, counts connections, and
answers per recipient as a test scripts it (e.g. "550 5.1.1 no such user").
"""
import socket
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP


class _Handler:
    def __init__(self, sink):
        self.sink = sink

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.sink.rcpt_replies.get(address)
        if reply is None:
            reply = self.sink.rcpt_replies.get("*")
        if reply is not None and not reply.startswith("2"):
            return reply
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.sink.lock:
            if self.sink.data_replies:
                reply = self.sink.data_replies.pop(0)
                if not reply.startswith("2"):
                    return reply
            self.sink.messages.append(
                (envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content)))
            self.sink.received.set()
        return "250 2.0.0 queued"


class _CountingController(Controller):
    def __init__(self, sink, **kwargs):
        self.sink = sink
        super().__init__(_Handler(sink), **kwargs)

    def factory(self):
        with self.sink.lock:
            self.sink.connections += 1
        return SMTP(self.handler, enable_SMTPUTF8=True, decode_data=False,
                    hostname="sink.test", ident="sink")


class SmtpSink:
    """Use as a context manager; `port` is where it listens on 127.0.0.1."""

    def __init__(self):
        self.lock = threading.Lock()
        self.messages = []      # (mail_from, [rcpt], data bytes)
        self.connections = 0
        self.rcpt_replies = {}  # address or "*" -> reply text
        self.data_replies = []  # replies to the next DATAs, then 250
        self.received = threading.Event()
        # aiosmtpd's Controller cannot listen on port 0 (it connects to its
        # own port to check it is up), so take a free port from the kernel.
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self._controller = _CountingController(self, hostname="127.0.0.1", port=self.port)

    def __enter__(self):
        self._controller.start()
        with self.lock:
            self.connections = 0  # start() made one of its own to check
        return self

    def __exit__(self, *exc):
        self._controller.stop()

    def wait_for(self, count, timeout_s=30):
        """Waits until `count` messages have arrived; returns whether they did."""
        import time
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.messages) >= count:
                    return True
            time.sleep(0.01)
        return False
