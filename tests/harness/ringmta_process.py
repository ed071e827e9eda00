"""Starts the real ringmta binary for integration tests and stops it.

The daemon listens on 127.0.0.1:0; the port it got is read from its
"listening on" log line, so tests never collide on ports.
"""
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time

LISTENING = re.compile(r"listening on ([0-9.]+|\[[0-9a-f:]+\]):(\d+)")


def binary_path():
    """Finds ringmta in the test's runfiles (Bazel) or via RINGMTA_BINARY."""
    if os.environ.get("RINGMTA_BINARY"):
        return os.environ["RINGMTA_BINARY"]
    for root in (os.environ.get("TEST_SRCDIR", ""), os.getcwd()):
        for candidate in ("ringmta/mta/daemon/ringmta", "mta/daemon/ringmta",
                          "_main/mta/daemon/ringmta"):
            path = os.path.join(root, candidate)
            if os.path.exists(path):
                return path
    raise FileNotFoundError("ringmta binary not found in runfiles")


class RingmtaProcess:
    """A running daemon. Use as a context manager."""

    def __init__(self, *extra_args, shards=2, start_timeout_s=30, spool=None):
        # Each daemon preallocates segments (64 MiB each): a spool made here
        # is removed on exit so a test run does not fill the disk.
        self._own_spool = spool is None
        self.spool = spool or tempfile.mkdtemp(prefix="ringmta-spool-",
                                               dir=os.environ.get("TEST_TMPDIR"))
        self.args = [binary_path(), "--listen", "127.0.0.1:0", "--shards", str(shards),
                     "--spool", self.spool, "--hostname", "relay.test", *extra_args]
        self.start_timeout_s = start_timeout_s
        self.process = None
        self.port = None
        self.log_lines = []
        self._port_found = threading.Event()

    def __enter__(self):
        self.process = subprocess.Popen(self.args, stderr=subprocess.PIPE, text=True)
        threading.Thread(target=self._read_log, daemon=True).start()
        if not self._port_found.wait(self.start_timeout_s):
            self.kill()
            raise RuntimeError("ringmta did not start:\n" + "".join(self.log_lines))
        return self

    def __exit__(self, *exc):
        if self.process.poll() is None:
            self.stop(signal.SIGTERM)
        if self._own_spool:
            shutil.rmtree(self.spool, ignore_errors=True)

    def _read_log(self):
        for line in self.process.stderr:
            self.log_lines.append(line)
            match = LISTENING.search(line)
            if match and not self._port_found.is_set():
                self.port = int(match.group(2))
                self._port_found.set()

    def stop(self, signum=signal.SIGTERM, timeout_s=30):
        """Sends `signum` and returns the exit code."""
        self.process.send_signal(signum)
        return self.process.wait(timeout_s)

    def kill(self):
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def log(self):
        time.sleep(0.05)  # Let the reader thread take the last lines.
        return "".join(self.log_lines)
