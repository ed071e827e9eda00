"""A downstream SMTP server for delivery tests, built on Debian's
python3-aiosmtpd: it records what it receives, counts connections, and
answers per recipient as a test scripts it (e.g. "550 5.1.1 no such user").
Optionally it offers STARTTLS (tls_context, require_starttls) and AUTH
PLAIN/LOGIN against a dict of accounts, and records for each message
whether it came over TLS and as which AUTH user.
"""
import socket
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult


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
            self.sink.details.append(_details_of(session))
            self.sink.received.set()
        return "250 2.0.0 queued"


def _details_of(session):
    """What a test may ask about the session that carried a message."""
    ssl_object = session.ssl.get("ssl_object") if session.ssl else None
    auth = session.auth_data if session.authenticated else None
    return {
        "tls_version": ssl_object.version() if ssl_object else None,
        "tls_cipher": ssl_object.cipher()[0] if ssl_object else None,
        "tls_resumed": bool(ssl_object.session_reused) if ssl_object else False,
        "auth_user": auth.login.decode() if auth is not None else None,
    }


class _Authenticator:
    def __init__(self, sink):
        self.sink = sink

    def __call__(self, server, session, envelope, mechanism, auth_data):
        with self.sink.lock:
            self.sink.auth_attempts.append((mechanism, auth_data.login.decode()))
        expected = self.sink.accounts.get(auth_data.login.decode())
        if expected is not None and expected.encode() == auth_data.password:
            return AuthResult(success=True, auth_data=auth_data)
        return AuthResult(success=False, handled=False)


class _Smtp(SMTP):
    """Counts STARTTLS commands (handshakes attempted)."""

    def __init__(self, sink, *args, **kwargs):
        self._sink = sink
        super().__init__(*args, **kwargs)

    async def smtp_STARTTLS(self, arg):
        with self._sink.lock:
            self._sink.starttls_commands += 1
        return await super().smtp_STARTTLS(arg)


class _CountingController(Controller):
    def __init__(self, sink, **kwargs):
        self.sink = sink
        super().__init__(_Handler(sink), **kwargs)

    def factory(self):
        with self.sink.lock:
            self.sink.connections += 1
        options = {}
        if self.sink.tls_context is not None:
            options.update(tls_context=self.sink.tls_context,
                           require_starttls=self.sink.require_starttls)
        if self.sink.accounts is not None:
            options.update(authenticator=_Authenticator(self.sink),
                           auth_require_tls=self.sink.tls_context is not None,
                           auth_required=True,
                           auth_exclude_mechanism=self.sink.auth_exclude)
        return _Smtp(self.sink, self.handler, enable_SMTPUTF8=True, decode_data=False,
                     hostname="sink.test", ident="sink", **options)


class SmtpSink:
    """Use as a context manager; `port` is where it listens on 127.0.0.1.

    tls_context: an ssl.SSLContext (server side) to offer STARTTLS with.
    accounts: {user: password} to offer AUTH PLAIN/LOGIN and require it.
    auth_exclude: mechanisms not to offer.
    """

    def __init__(self, tls_context=None, require_starttls=False, accounts=None,
                 auth_exclude=()):
        self.lock = threading.Lock()
        self.messages = []      # (mail_from, [rcpt], data bytes)
        self.details = []       # per message: tls_version, tls_cipher, tls_resumed, auth_user
        self.connections = 0
        self.starttls_commands = 0
        self.auth_attempts = []  # (mechanism, user)
        self.rcpt_replies = {}  # address or "*" -> reply text
        self.data_replies = []  # replies to the next DATAs, then 250
        self.received = threading.Event()
        self.tls_context = tls_context
        self.require_starttls = require_starttls
        self.accounts = accounts
        self.auth_exclude = list(auth_exclude)  # e.g. ["PLAIN"]: offer LOGIN only
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
