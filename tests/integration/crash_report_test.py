"""A crash is never silent: a daemon killed by a fatal signal leaves the
signal's name on stderr (the failure signal handler, or the sanitizer's own
report in an ASan build), so a dead daemon cannot pass for a stalled one."""
import signal
import unittest

from harness import junit
from harness.ringmta_process import RingmtaProcess


class CrashReport(unittest.TestCase):
    def test_a_fatal_signal_is_named_on_stderr(self):
        with RingmtaProcess() as mta:
            code = mta.stop(signal.SIGSEGV)
            self.assertNotEqual(code, 0)
            self.assertIn("SEGV", mta.log())


if __name__ == "__main__":
    junit.main()
