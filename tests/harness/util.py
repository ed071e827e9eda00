"""Small helpers the integration tests share: config files, the fixed-zone
DNS server on loopback, and waiting for a daemon log line."""
import os
import subprocess
import sys
import tempfile
import time


def write_config(text):
    """Writes a TOML config file under the test's temp dir; returns its path."""
    handle = tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False,
                                         dir=os.environ.get("TEST_TMPDIR"))
    handle.write(text)
    handle.close()
    return handle.name


def wait_for_log(mta, text, count=1, timeout_s=30):
    """Polls the daemon's log until `text` appears `count` times (bounded)."""
    deadline = time.monotonic() + timeout_s
    while mta.log().count(text) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return mta.log().count(text) >= count


class FakeDns:
    """dns/testdata/fake_dns_server.py on a kernel-chosen loopback port."""

    def __enter__(self):
        server = os.path.join(os.getcwd(), "dns/testdata/fake_dns_server.py")
        self.process = subprocess.Popen([sys.executable, server], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True)
        self.port = int(self.process.stdout.readline())
        return self

    def __exit__(self, *exc):
        self.process.stdin.close()
        self.process.kill()
        self.process.wait()
