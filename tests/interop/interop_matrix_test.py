"""Interop matrix (issue 8): clients no one here wrote -> ringmta -> servers
no one here wrote, TLS off and on.

Clients: a private Postfix (its sendmail, relayed to ringmta through a
transport map), swaks, Python's smtplib. Servers (ringmta's smart host): a
private Postfix that relays on to an aiosmtpd sink (so its copy can be read
back), aiosmtpd itself (tests/harness/smtp_sink.py), Postfix's smtp-sink
dumping each transaction to a file. Inbound TLS is STARTTLS from the client
to ringmta; outbound TLS (ringmta to the server) is a separate column that
is skipped until the daemon has it.

Every cell sends one message with its own marker and asserts that exactly
one copy arrived, that the original header and body are intact (a suffix of
what arrived, after the Received: lines hops prepend), that ringmta's
Received: line is there with ESMTP or ESMTPS as the hop was, and that the
other Received: lines are in hop order.
"""
import glob
import os
import pwd
import re
import smtplib
import ssl
import subprocess
import tempfile
import time
import unittest

from harness import junit
from harness.postfix_instance import PostfixInstance, free_port, unavailable
from harness.ringmta_process import RingmtaProcess
from harness.smtp_sink import SmtpSink
from harness.test_certs import self_signed

SENDER = "sender@client.test"
SERVERS = ("postfix", "aiosmtpd", "smtpsink")
# The outbound-TLS cells make ringmta require STARTTLS towards its smart
# host (policy "encrypt": the Postfix server's certificate is self-signed)
# and assert the Postfix server logged a TLS session from ringmta and wrote
# "with ESMTPS" in its Received: line.
OUTBOUND_TLS_CONFIG = '[delivery]\ntls = "encrypt"\n'

_state = {}


def make_certificate(directory):
    cert, key = self_signed(directory)
    # Postfix's smtpd reads the pair as the postfix user.
    os.chmod(directory, 0o755)
    os.chmod(cert, 0o644)
    os.chmod(key, 0o644)
    return cert, key


class SmtpSinkDumps:
    """Postfix's smtp-sink on a loopback port, dumping every transaction to
    a file (-d); `messages()` reads them back like SmtpSink.messages."""

    def __init__(self):
        self.port = free_port()
        self.directory = tempfile.mkdtemp(prefix="ringmta-smtpsink-", dir="/tmp")
        user = pwd.getpwnam("postfix")
        os.chown(self.directory, user.pw_uid, user.pw_gid)

    def __enter__(self):
        self.process = subprocess.Popen(
            ["smtp-sink", "-u", "postfix", "-d", os.path.join(self.directory, "%H%M%S."),
             f"127.0.0.1:{self.port}", "64"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with smtplib.SMTP("127.0.0.1", self.port, timeout=5):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("smtp-sink did not start")

    def __exit__(self, *exc):
        self.process.kill()
        self.process.wait()
        subprocess.run(["rm", "-rf", self.directory], check=False)

    def messages(self):
        """(mail_from, [rcpt], data with CRLF) per dump file. smtp-sink
        writes the message dot-unstuffed with LF line ends, envelope lines
        on top, its own Received: line, and an empty line at the end."""
        result = []
        for path in sorted(glob.glob(os.path.join(self.directory, "*"))):
            with open(path, "rb") as handle:
                text = handle.read()
            lines = text.split(b"\n")
            mail_from, rcpts = None, []
            while lines and lines[0].startswith(b"X-"):
                name, _, value = lines.pop(0).partition(b": ")
                if name == b"X-Mail-Args":
                    mail_from = value.split(b" ")[0].strip(b"<>").decode()
                elif name == b"X-Rcpt-Args":
                    rcpts.append(value.split(b" ")[0].strip(b"<>").decode())
            if lines and lines[-1] == b"":
                lines.pop()  # the split after the last LF
            if lines and lines[-1] == b"":
                lines.pop()  # smtp-sink ends each dump with an empty line
            result.append((mail_from, rcpts, b"".join(line + b"\r\n" for line in lines)))
        return result


def setUpModule():
    reason = unavailable()
    if reason:
        raise unittest.SkipTest(reason)
    stack = []
    try:
        directory = tempfile.mkdtemp(prefix="ringmta-interop-", dir="/tmp")
        cert, key = make_certificate(directory)
        _state["directory"] = directory
        # Postfix as the server relays on to this sink, where the copy is read.
        final_sink = SmtpSink().__enter__()
        stack.append(final_sink)
        postfix_server = PostfixInstance("server", f"127.0.0.1:{final_sink.port}",
                                         tls_cert=cert, tls_key=key).__enter__()
        stack.append(postfix_server)
        aiosmtpd = SmtpSink().__enter__()
        stack.append(aiosmtpd)
        smtpsink = SmtpSinkDumps().__enter__()
        stack.append(smtpsink)
        arrivals = {
            "postfix": lambda: list(final_sink.messages),
            "aiosmtpd": lambda: list(aiosmtpd.messages),
            "smtpsink": smtpsink.messages,
        }
        ports = {"postfix": postfix_server.port, "aiosmtpd": aiosmtpd.port,
                 "smtpsink": smtpsink.port}
        mtas = {}
        for server in SERVERS:
            mtas[server] = RingmtaProcess("--smarthost", f"127.0.0.1:{ports[server]}",
                                          "--tls-cert", cert, "--tls-key", key).__enter__()
            stack.append(mtas[server])
        # One Postfix client for every cell: the recipient's domain picks the
        # ringmta (one per server) and whether the hop uses STARTTLS.
        transport = {}
        for server in SERVERS:
            transport[f"{server}-plain.test"] = f"smtp:[127.0.0.1]:{mtas[server].port}"
            transport[f"{server}-tls.test"] = f"smtptls:[127.0.0.1]:{mtas[server].port}"
        postfix_client = PostfixInstance(
            "client", "127.0.0.1:9", transport=transport,
            services=[("smtptls", "unix", "-", "-", "n", "-", "-", "smtp",
                       "-o smtp_tls_security_level=encrypt")]).__enter__()
        stack.append(postfix_client)
    except BaseException:
        for item in reversed(stack):
            item.__exit__(None, None, None)
        raise
    _state.update(stack=stack, mtas=mtas, arrivals=arrivals, cert=cert,
                  postfix_client=postfix_client, postfix_server=postfix_server)


def tearDownModule():
    for item in reversed(_state.get("stack", [])):
        item.__exit__(None, None, None)
    if "directory" in _state:
        subprocess.run(["rm", "-rf", _state["directory"]], check=False)


_serial = [0]


def message_for(cell):
    """A message unique to the cell, with a dot-stuffed line and 8-bit text."""
    _serial[0] += 1
    marker = f"interop-{cell}-{_serial[0]}-{os.getpid()}"
    return marker, (f"From: <{SENDER}>\r\nTo: <rcpt@example.org>\r\nSubject: {marker}\r\n"
                    f"Message-ID: <{marker}@client.test>\r\n"
                    f"Date: Sat, 28 Nov 2026 12:00:00 +0000\r\nMIME-Version: 1.0\r\n"
                    f"Content-Type: text/plain; charset=utf-8\r\n"
                    f"Content-Transfer-Encoding: 8bit\r\n\r\n"
                    f"first line\r\n.a line that starts with a dot\r\n..two dots\r\n"
                    f"caf\u00e9 na\u00efve\r\n{marker}\r\n").encode()


def send_smtplib(port, recipient, data, tls):
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        client.ehlo("smtplib.client.test")
        if tls:
            context = ssl.create_default_context(cafile=_state["cert"])
            context.check_hostname = False
            client.starttls(context=context)
            client.ehlo("smtplib.client.test")
        refused = client.sendmail(SENDER, [recipient], data)
        assert refused == {}, refused


def send_swaks(port, recipient, data, tls):
    # swaks reads --data from a file, dot-stuffs it and ends it with its
    # own CRLF before the ".": the file holds the message without its last
    # line end.
    assert data.endswith(b"\r\n")
    with tempfile.NamedTemporaryFile(suffix=".eml", dir=_state["directory"]) as handle:
        handle.write(data[:-2])
        handle.flush()
        command = ["swaks", "--server", f"127.0.0.1:{port}", "--helo", "swaks.client.test",
                   "--from", SENDER, "--to", recipient, "--data", handle.name,
                   "--timeout", "30"]
        if tls:
            command.append("--tls")
        result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    return result.stdout


def send_postfix(server, recipient, data, tls):
    # sendmail takes LF line ends, as a local program writes them.
    _state["postfix_client"].sendmail(SENDER, [recipient], data.replace(b"\r\n", b"\n"))


class Matrix(unittest.TestCase):
    def cell(self, client, server, tls):
        mta = _state["mtas"][server]
        domain = f"{server}-{'tls' if tls else 'plain'}.test"
        marker, data = message_for(f"{client}-{server}-{'tls' if tls else 'plain'}")
        recipient = f"rcpt.{client}@{domain}"
        if client == "smtplib":
            send_smtplib(mta.port, recipient, data, tls)
        elif client == "swaks":
            send_swaks(mta.port, recipient, data, tls)
        else:
            send_postfix(server, recipient, data, tls)
        copies = self.wait_for_copies(server, marker)
        context = (f"ringmta log:\n{mta.log()[-3000:]}\npostfix client log:\n"
                   f"{_state['postfix_client'].log()[-2000:]}")
        if server == "postfix":
            context += f"\npostfix server log:\n{_state['postfix_server'].log()[-2000:]}"
        self.assertEqual(len(copies), 1, f"{len(copies)} copies of {marker}\n{context}")
        mail_from, rcpts, arrived = copies[0]
        self.assertEqual(mail_from, SENDER)
        self.assertEqual(rcpts, [recipient])
        self.assertTrue(arrived.endswith(data), f"not intact:\n{arrived!r}\n{context}")
        hops = received_hops(arrived[:len(arrived) - len(data)])
        self.check_hops(hops, client, server, tls, arrived)
        if client == "postfix" and tls:
            self.assertIn(f"TLS connection established to 127.0.0.1[127.0.0.1]:{mta.port}",
                          _state["postfix_client"].log())
        # Exactly once: nothing more shows up a little later either.
        time.sleep(0.3)
        self.assertEqual(len(self.copies(server, marker)), 1)

    def outbound_tls_cell(self, client):
        server = _state["postfix_server"]
        config = os.path.join(_state["directory"], "outbound_tls.toml")
        with open(config, "w") as handle:
            handle.write(OUTBOUND_TLS_CONFIG)
        marker, data = message_for(f"{client}-postfix-outbound-tls")
        recipient = f"rcpt.{client}@postfix-outbound.test"
        established = server.log().count("TLS connection established from")
        with RingmtaProcess("--config", config, "--smarthost",
                            f"127.0.0.1:{server.port}") as mta:
            if client == "swaks":
                send_swaks(mta.port, recipient, data, False)
            else:
                send_smtplib(mta.port, recipient, data, False)
            copies = self.wait_for_copies("postfix", marker)
            self.assertEqual(len(copies), 1, mta.log()[-3000:] + server.log()[-3000:])
            arrived = copies[0][2]
            self.assertTrue(arrived.endswith(data), arrived)
            hops = received_hops(arrived[:len(arrived) - len(data)])
            self.assertEqual(hops[0], ("server.postfix.test", "ESMTPS"), arrived[:1500])
            self.assertGreater(server.log().count("TLS connection established from"),
                               established, server.log()[-3000:])

    def check_hops(self, hops, client, server, tls, arrived):
        """Received: fields, newest first: the server's (Postfix, smtp-sink),
        ringmta's (ESMTPS when the client used STARTTLS), then the Postfix
        client's."""
        expected = []
        if server == "postfix":
            expected.append("server.postfix.test")
        if server == "smtpsink":
            expected.append("smtp-sink")
        expected.append("relay.test")
        if client == "postfix":
            expected.append("client.postfix.test")
        self.assertEqual([by for by, _ in hops], expected, arrived[:1500])
        self.assertEqual(dict(hops)["relay.test"], "ESMTPS" if tls else "ESMTP", arrived[:1500])

    def copies(self, server, marker):
        token = marker.encode()
        return [m for m in _state["arrivals"][server]() if b"Subject: " + token in m[2]]

    def wait_for_copies(self, server, marker, timeout_s=60):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            found = self.copies(server, marker)
            if found:
                return found
            time.sleep(0.05)
        return []


_BY = re.compile(rb"\bby\s+(\S+)(?:\s+\([^)]*\))?\s+with\s+(\S+)", re.IGNORECASE)
_BY_ONLY = re.compile(rb"\bby\s+(\S+)", re.IGNORECASE)


def received_hops(header_block):
    """(by host, protocol) of each Received: field, in order."""
    hops = []
    fields = re.split(rb"\r\n(?=\S)", header_block)
    for field in fields:
        if not field.lower().startswith(b"received:"):
            continue
        flat = re.sub(rb"\r\n\s+", b" ", field)
        match = _BY.search(flat)
        if match:
            hops.append((match.group(1).decode(), match.group(2).decode().rstrip(";")))
        else:
            by = _BY_ONLY.search(flat)
            hops.append((by.group(1).decode() if by else "?", None))
    return hops


def _add_cells():
    for client in ("postfix", "swaks", "smtplib"):
        for server in SERVERS:
            for tls in (False, True):
                name = f"test_{client}_to_{server}_inbound_tls_{'on' if tls else 'off'}"

                def test(self, client=client, server=server, tls=tls):
                    self.cell(client, server, tls)
                test.__doc__ = (f"{client} -> ringmta -> {server}, STARTTLS "
                                f"{'on' if tls else 'off'} on the inbound hop")
                setattr(Matrix, name, test)
        # Outbound STARTTLS (ringmta -> the Postfix server, which offers it;
        # with TLS off ringmta already delivers to it in clear above).
        if client == "postfix":
            continue  # its transport map knows only the module's daemons
        name = f"test_{client}_to_postfix_outbound_tls_on"

        def test(self, client=client):
            self.outbound_tls_cell(client)
        test.__doc__ = f"{client} -> ringmta -STARTTLS-> Postfix"
        setattr(Matrix, name, test)


_add_cells()


if __name__ == "__main__":
    junit.main()
