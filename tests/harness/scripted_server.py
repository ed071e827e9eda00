"""A scripted downstream SMTP server for fault tests: raw sockets and one
thread per connection, so a test controls what aiosmtpd would hide.

It can greet with any line (e.g. "421 busy", then it hangs up), offer or
withhold PIPELINING and CHUNKING, wait before every reply, and drop the
connection in the middle of DATA after some body bytes (once; later
connections are served normally). It records every recv() chunk with the
commands parsed out of it, so a test can see which commands arrived in one
read.
"""
import socket
import struct
import threading
import time


class ScriptedServer:
    """Use as a context manager; listens on (`host`, `port`), port 0 = any."""

    def __init__(self, host="127.0.0.1", port=0, greeting="220 scripted.test ESMTP",
                 pipelining=True, chunking=False, reply_delay_s=0.0,
                 drop_after_body_bytes=None):
        self.greeting = greeting
        self.pipelining = pipelining
        self.chunking = chunking
        self.reply_delay_s = reply_delay_s
        self.drop_after_body_bytes = drop_after_body_bytes  # None: never drop
        self.lock = threading.Lock()
        self.connections = 0
        self.drops = 0
        self.reads = []       # (connection number, bytes of one recv())
        self.commands = []    # (connection number, index into reads, command line)
        self.messages = []    # (mail_from, [rcpt], body bytes, dot-unstuffed)
        self._stopping = threading.Event()
        self._threads = []
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if drop_after_body_bytes is not None:
            # A small receive buffer and segment size (inherited by accepted
            # sockets) keep the client's send buffer small too (about 75 KB
            # on Linux until the window grows), bounding what it can have written when the
            # server hangs up: with a larger body it is still mid-body then.
            self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
            self._listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 256)
        self._listener.bind((host, port))
        self.port = self._listener.getsockname()[1]

    def __enter__(self):
        self._listener.listen(16)
        self._listener.settimeout(0.1)
        thread = threading.Thread(target=self._accept_loop, daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def __exit__(self, *exc):
        self._stopping.set()
        for thread in self._threads:
            thread.join(5)
        self._listener.close()

    def wait_for(self, count, timeout_s=30):
        """Waits until `count` messages have arrived; returns whether they did."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.messages) >= count:
                    return True
            time.sleep(0.01)
        return False

    def commands_by_read(self):
        """Command lines grouped by the recv() that brought them, in order."""
        with self.lock:
            groups = {}
            for number, read_index, line in self.commands:
                groups.setdefault((number, read_index), []).append(line)
            return [groups[key] for key in sorted(groups)]

    def _accept_loop(self):
        while not self._stopping.is_set():
            try:
                conn, _ = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self.connections += 1
                number = self.connections
            thread = threading.Thread(target=self._serve, args=(conn, number), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, conn, number):
        try:
            _Session(self, conn, number).run()
        except OSError:
            pass  # the client went away; nothing to record
        finally:
            conn.close()


class _Dropped(Exception):
    pass


class _Session:
    def __init__(self, server, conn, number):
        self.server = server
        self.conn = conn
        self.number = number
        self.buffer = b""
        self.read_index = -1
        conn.settimeout(0.2)

    def reply(self, text):
        if self.server.reply_delay_s:
            time.sleep(self.server.reply_delay_s)
        self.conn.sendall(text.encode() + b"\r\n")

    def receive(self):
        """One recv() into the buffer, recorded. False at EOF or when stopping."""
        while not self.server._stopping.is_set():
            try:
                chunk = self.conn.recv(65536)
            except socket.timeout:
                continue
            if not chunk:
                return False
            with self.server.lock:
                self.server.reads.append((self.number, chunk))
                self.read_index = len(self.server.reads) - 1
            self.buffer += chunk
            return True
        return False

    def line(self):
        """The next command line (without CRLF), recorded; None at EOF."""
        while b"\r\n" not in self.buffer:
            if not self.receive():
                return None
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        text = line.decode("utf-8", "replace")
        with self.server.lock:
            self.server.commands.append((self.number, self.read_index, text))
        return text

    def maybe_drop(self, body_bytes):
        server = self.server
        with server.lock:
            if server.drop_after_body_bytes is None or body_bytes < server.drop_after_body_bytes:
                return
            server.drop_after_body_bytes = None  # only the first time
            server.drops += 1
        self.conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST
        raise _Dropped()

    def read_data(self):
        """The body after 354, up to CRLF.CRLF, dot-unstuffed; None at EOF."""
        while b"\r\n.\r\n" not in b"\r\n" + self.buffer:
            self.maybe_drop(len(self.buffer))
            if not self.receive():
                return None
        self.maybe_drop(len(self.buffer))
        data = b"\r\n" + self.buffer
        body, rest = data.split(b"\r\n.\r\n", 1)
        self.buffer = rest
        lines = body[2:].split(b"\r\n") if body else []
        unstuffed = [line[1:] if line.startswith(b".") else line for line in lines]
        return b"\r\n".join(unstuffed) + (b"\r\n" if lines else b"")

    def read_exact(self, count):
        while len(self.buffer) < count:
            self.maybe_drop(len(self.buffer))
            if not self.receive():
                return None
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    def run(self):
        try:
            self._run()
        except _Dropped:
            pass

    def _run(self):
        server = self.server
        self.reply(server.greeting)
        if not server.greeting.startswith("2"):
            return  # a refusing server hangs up after its greeting
        mail_from, rcpts, chunks = None, [], []
        while True:
            line = self.line()
            if line is None:
                return
            verb = line.split(" ", 1)[0].upper()
            if verb == "EHLO":
                extensions = ["8BITMIME", "SIZE 100000000"]
                if server.pipelining:
                    extensions.append("PIPELINING")
                if server.chunking:
                    extensions.append("CHUNKING")
                lines = ["scripted.test"] + extensions
                self.reply("\r\n".join(f"250-{text}" for text in lines[:-1]) + f"\r\n250 {lines[-1]}")
            elif verb == "HELO":
                self.reply("250 scripted.test")
            elif verb == "MAIL":
                mail_from = line.split(":", 1)[1].split(" ")[0].strip("<>") if ":" in line else ""
                rcpts, chunks = [], []
                self.reply("250 2.1.0 OK")
            elif verb == "RCPT":
                rcpts.append(line.split(":", 1)[1].split(" ")[0].strip("<>"))
                self.reply("250 2.1.5 OK")
            elif verb == "DATA":
                self.reply("354 go ahead")
                body = self.read_data()
                if body is None:
                    return
                with server.lock:
                    server.messages.append((mail_from, list(rcpts), body))
                self.reply("250 2.0.0 queued")
            elif verb == "BDAT":
                parts = line.split()
                data = self.read_exact(int(parts[1]))
                if data is None:
                    return
                chunks.append(data)
                if len(parts) > 2 and parts[2].upper() == "LAST":
                    with server.lock:
                        server.messages.append((mail_from, list(rcpts), b"".join(chunks)))
                    self.reply("250 2.0.0 queued")
                else:
                    self.reply(f"250 2.0.0 {len(data)} octets")
            elif verb in ("RSET", "NOOP"):
                self.reply("250 2.0.0 OK")
            elif verb == "QUIT":
                self.reply("221 2.0.0 bye")
                return
            else:
                self.reply("502 5.5.2 not implemented")
