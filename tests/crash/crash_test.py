"""Crash test (issue 4): a client sends continuously and records every
message that got 250; ringmta is killed with SIGKILL at random moments and
restarted on the same spool, 20 times; at the end every acknowledged message
must have reached the sink at least once. Duplicates (delivered, killed
before the outcome was durable, delivered again) are allowed and reported.
"""
import os
import random
import shutil
import signal
import smtplib
import tempfile
import threading
import time
import unittest

from harness import junit
from harness.ringmta_process import RingmtaProcess
from harness.smtp_sink import SmtpSink

CYCLES = 20
SEED = 20261128


class Sender(threading.Thread):
    """Sends numbered messages to whatever port `target` holds; records the
    numbers that got 250. Failures (the daemon died mid-session) are fine:
    those messages were never acknowledged."""

    def __init__(self, target):
        super().__init__(daemon=True)
        self.target = target
        self.acked = set()
        self.attempted = 0
        self.stop = threading.Event()

    def run(self):
        number = 0
        while not self.stop.is_set():
            port = self.target["port"]
            try:
                with smtplib.SMTP("127.0.0.1", port, timeout=5) as client:
                    while not self.stop.is_set():
                        number += 1
                        self.attempted += 1
                        body = f"Subject: crash {number}\r\n\r\nmarker-{number}-end\r\n".encode()
                        client.sendmail("a@example.com", ["b@example.org"], body)
                        self.acked.add(number)
            except (OSError, smtplib.SMTPException):
                time.sleep(0.01)


class CrashTest(unittest.TestCase):
    def test_every_acknowledged_message_survives_sigkill(self):
        rng = random.Random(SEED)
        spool = tempfile.mkdtemp(prefix="crash-spool-", dir=os.environ.get("TEST_TMPDIR"))
        with SmtpSink() as sink:
            args = ("--smarthost", f"127.0.0.1:{sink.port}")
            target = {"port": None}
            daemon = RingmtaProcess(*args, spool=spool).__enter__()
            target["port"] = daemon.port
            sender = Sender(target)
            sender.start()
            for cycle in range(CYCLES):
                time.sleep(rng.uniform(0.05, 0.4))
                daemon.process.send_signal(signal.SIGKILL)
                daemon.process.wait()
                daemon = RingmtaProcess(*args, spool=spool).__enter__()
                target["port"] = daemon.port
            time.sleep(0.3)
            sender.stop.set()
            sender.join(timeout=30)
            acked = set(sender.acked)
            # Let the last daemon deliver what is still queued.
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                with sink.lock:
                    delivered = [self.marker(data) for _, _, data in sink.messages]
                if acked <= set(delivered):
                    break
                time.sleep(0.1)
            daemon.stop()
        shutil.rmtree(spool, ignore_errors=True)
        missing = acked - set(delivered)
        duplicates = len(delivered) - len(set(delivered))
        print(f"crash test: {CYCLES} SIGKILLs, {sender.attempted} attempted, {len(acked)} "
              f"acknowledged, {len(set(delivered))} distinct delivered, {duplicates} duplicates, "
              f"{len(missing)} missing")
        self.assertGreater(len(acked), CYCLES, "the client barely got anything through")
        self.assertEqual(missing, set(), f"acknowledged but never delivered: {sorted(missing)[:20]}")

    @staticmethod
    def marker(data):
        text = data.decode("utf-8", "replace")
        start = text.find("marker-")
        if start < 0:
            return None
        return int(text[start + 7:text.find("-end", start)])


if __name__ == "__main__":
    junit.main()
