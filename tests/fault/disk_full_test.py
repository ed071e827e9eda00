"""Fault: the spool's disk fills up. The spool lives on a small tmpfs
mounted in a private mount namespace (unshare -m; needs root, as CI has),
so it fills for real: ENOSPC from fallocate, not a simulated error.

A downstream that answers 451 to everything keeps the messages queued while
1 MiB messages are sent until ringmta refuses one with 452. Every message
that got 250 must still be there: once the downstream accepts, all of them
are delivered exactly once, the emptied segment is freed, and new mail is
accepted again.

Sizes: segments are 64 MiB, preallocated, one shard here; a next segment
that does not fit is made at half the size, down to 4 MiB
(docs/queue_format.md §1.1). On 150 MiB two whole segments fit, then smaller
ones; on 100 MiB one whole segment, then 32 and 4 MiB: draining frees the
older ones. On 66 MiB not even a 4 MiB segment fits next to the first: only
the sweep's seal of the dead current segment frees room.
"""
import os
import shutil
import subprocess
import tempfile
import time
import unittest

from harness import junit
from harness.accounting import Ledger, queued_messages, send_numbered
from harness.ringmta_process import RingmtaProcess
from harness.smtp_sink import SmtpSink
from harness.util import write_config

import fault_common

MESSAGE_BYTES = 1 << 20
MESSAGES_MAX = 200  # well past the tmpfs: the refusal must come before


class PrivateTmpfs:
    """A tmpfs on `directory`, visible only inside a mount namespace that a
    sleeping holder process keeps alive; `enter(command)` runs a command in
    it (nsenter, which keeps the pid: no fork for a mount namespace)."""

    def __init__(self, directory, size):
        self.directory = directory
        self.size = size

    def __enter__(self):
        script = ('mount -t tmpfs -o size="$1",mode=0700 ringmta-test "$0" && echo mounted '
                  '&& exec sleep 600')
        self.holder = subprocess.Popen(
            ["unshare", "-m", "--propagation", "private", "sh", "-c", script, self.directory,
             self.size], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.holder.stdout.readline().strip()
        if line != "mounted":
            self.holder.kill()
            error = self.holder.communicate()[1].strip()
            raise unittest.SkipTest("cannot mount a tmpfs in a private mount namespace "
                                    f"(unshare -m needs root/CAP_SYS_ADMIN): {error}")
        return self

    def __exit__(self, *exc):
        self.holder.kill()
        self.holder.wait()

    def enter(self, command):
        return ["nsenter", "-t", str(self.holder.pid), "-m", "--", *command]


class DiskFull(unittest.TestCase):
    def test_full_spool_refuses_with_452_and_loses_nothing(self):
        self.fill_drain_and_refill("150m", accepted_min=120)

    def test_smaller_segments_use_the_room_left(self):
        """100 MiB: the 64 MiB spare never fits, a 32 MiB one does, then a
        4 MiB one; with whole segments only, 452 came after 63 messages."""
        self.fill_drain_and_refill("100m", accepted_min=80)

    def test_drained_spool_accepts_again_below_one_free_segment(self):
        """66 MiB: the first segment fits and no other ever does. When it
        is full, 452; once the queue has drained completely the sweep seals
        and unlinks that dead current segment (it was kept forever before:
        452 with an empty queue), the spool's retry makes the next one, and
        new mail is accepted again."""
        self.fill_drain_and_refill("66m", accepted_min=10, expect_seal=True)

    def fill_drain_and_refill(self, tmpfs_size, accepted_min, expect_seal=False):
        mount_point = tempfile.mkdtemp(prefix="ringmta-tmpfs-", dir=os.environ.get("TEST_TMPDIR"))
        self.addCleanup(shutil.rmtree, mount_point, True)
        ledger = Ledger()
        with PrivateTmpfs(mount_point, tmpfs_size) as tmpfs, SmtpSink() as sink:
            sink.rcpt_replies["*"] = "451 4.3.0 holding everything for now"
            spool = os.path.join(mount_point, "spool")
            config = write_config(fault_common.FAST_RETRY)
            mta = RingmtaProcess("--config", config, "--smarthost", f"127.0.0.1:{sink.port}",
                                 shards=1, spool=spool)
            mta.args = tmpfs.enter(mta.args)
            with mta:
                refused = {}
                number = 0
                while not refused and number < MESSAGES_MAX:
                    refused = send_numbered(mta.port, ledger, [number],
                                            body_bytes=MESSAGE_BYTES)
                    number += 1
                self.assertTrue(refused, f"{number} MiB accepted on a {tmpfs_size} tmpfs")
                self.assertIn("452", str(refused), refused)
                full_at = len(ledger.acked)
                self.assertGreaterEqual(full_at, accepted_min, mta.log()[-3000:])
                # Full stays full while nothing leaves.
                again = send_numbered(mta.port, ledger, [number], body_bytes=MESSAGE_BYTES)
                self.assertIn("452", str(again))
                number += 1
                self.assertEqual(sink.messages, [])
                # The downstream accepts: the queue drains, the segment is
                # freed, new mail is accepted (the spool retries segment
                # creation every second).
                sink.rcpt_replies.clear()
                report = fault_common.wait_until_settled(ledger, lambda: list(sink.messages), 90)
                self.assertEqual(report.missing, set(), mta.log()[-3000:])
                accepted_again = {}
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline:
                    accepted_again = send_numbered(mta.port, ledger, [number],
                                                   body_bytes=MESSAGE_BYTES)
                    number += 1
                    if not accepted_again:
                        break
                    time.sleep(0.5)
                self.assertEqual(accepted_again, {}, mta.log()[-3000:])
                if expect_seal:
                    self.assertIn("sealing it to free its room", mta.log())
                report = fault_common.wait_until_settled(ledger, lambda: list(sink.messages), 30)
                self.assertEqual(report.missing, set())
                time.sleep(0.3)
                self.assertEqual(mta.stop(), 0, mta.log()[-3000:])
                queued = queued_messages(spool, run=tmpfs.enter)
            report = ledger.account(list(sink.messages), queued=queued)
            print(f"accounting disk full ({tmpfs_size}): {report.summary()}; "
                  f"first 452 after {full_at} messages of {MESSAGE_BYTES} bytes")
            report.check(self, context=mta.log()[-4000:])


if __name__ == "__main__":
    junit.main()
