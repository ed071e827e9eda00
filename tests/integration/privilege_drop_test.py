"""Privilege drop (DESIGN §7) through the real daemon: with server.user =
"nobody" it binds and loads as root, then runs as nobody with
PR_SET_NO_NEW_PRIVS on every thread and no capabilities, hands the spool
over (0700, nobody's), and still accepts and delivers mail, including mail
queued by an earlier run as root. Refusals are checked too.

Needs root (CI runs as root); skipped with the reason otherwise."""
import os
import pwd
import shutil
import smtplib
import stat
import subprocess
import tempfile
import time
import unittest

from harness import junit
from harness.ringmta_process import RingmtaProcess, binary_path
from harness.smtp_sink import SmtpSink
from harness.util import wait_for_log, write_config

NOBODY = pwd.getpwnam("nobody")


def send(port, subject):
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        refused = client.sendmail("a@example.com", ["b@example.org"],
                                  f"Subject: {subject}\r\n\r\nx\r\n".encode())
        assert refused == {}, refused


def status_fields(pid, task=None):
    path = f"/proc/{pid}/status" if task is None else f"/proc/{pid}/task/{task}/status"
    fields = {}
    with open(path) as status:
        for line in status:
            name, _, value = line.partition(":")
            fields[name] = value.split()
    return fields


def run_briefly(*args):
    """Runs the daemon expecting it to refuse to start; returns (code, stderr)."""
    result = subprocess.run([binary_path(), "--listen", "127.0.0.1:0", "--shards", "1", *args],
                            capture_output=True, text=True, timeout=30)
    return result.returncode, result.stderr


@unittest.skipUnless(os.geteuid() == 0, "privilege drop needs root (CI runs as root)")
class PrivilegeDrop(unittest.TestCase):
    def setUp(self):
        # Under /tmp, not the test's private temp dir: every parent of the
        # spool must let "nobody" through once the daemon is nobody.
        self.root = tempfile.mkdtemp(prefix="ringmta-privileges-", dir="/tmp")
        os.chmod(self.root, 0o755)
        self.spool = os.path.join(self.root, "spool")

    def tearDown(self):
        shutil.rmtree(self.root, ignore_errors=True)

    def config(self, sink_port, user='user = "nobody"\n', extra=""):
        return write_config(f"[server]\n{user}[delivery]\nsmarthost = \"127.0.0.1:{sink_port}\"\n"
                            + extra)

    def test_runs_as_nobody_with_no_new_privs_and_still_delivers(self):
        with SmtpSink() as sink, RingmtaProcess("--config", self.config(sink.port),
                                                spool=self.spool) as mta:
            self.assertIn("dropped privileges: running as nobody", mta.log())
            pid = mta.process.pid
            fields = status_fields(pid)
            self.assertEqual(fields["Uid"], [str(NOBODY.pw_uid)] * 4)
            self.assertEqual(fields["Gid"], [str(NOBODY.pw_gid)] * 4)
            self.assertEqual(fields["Groups"], [str(NOBODY.pw_gid)])
            self.assertEqual(int(fields["CapEff"][0], 16), 0)
            self.assertEqual(int(fields["CapPrm"][0], 16), 0)
            tasks = os.listdir(f"/proc/{pid}/task")
            self.assertGreater(len(tasks), 1)  # the shards' threads too
            for task in tasks:
                task_fields = status_fields(pid, task)
                self.assertEqual(task_fields["NoNewPrivs"], ["1"], task)
                self.assertEqual(task_fields["Uid"], [str(NOBODY.pw_uid)] * 4, task)

            send(mta.port, "as nobody")
            self.assertTrue(sink.wait_for(1), mta.log())

            info = os.stat(self.spool)
            self.assertEqual(stat.S_IMODE(info.st_mode), 0o700)
            self.assertEqual(info.st_uid, NOBODY.pw_uid)
            for directory, subdirectories, files in os.walk(self.spool):
                for name in subdirectories + files:
                    self.assertEqual(os.lstat(os.path.join(directory, name)).st_uid,
                                     NOBODY.pw_uid, name)

    def test_mail_queued_by_a_root_run_is_delivered_as_nobody(self):
        with SmtpSink() as sink:
            # First run as root with the smart host down: the message stays queued.
            closed_port = sink.port + 1 if sink.port < 65535 else sink.port - 1
            first = self.config(closed_port, user="", extra="retry_initial_ms = 100\n"
                                                           "retry_max_ms = 200\n")
            with RingmtaProcess("--config", first, spool=self.spool) as mta:
                self.assertIn("running as root: set server.user", mta.log())
                send(mta.port, "queued as root")
                self.assertTrue(wait_for_log(mta, "deferred to=<b@example.org>"), mta.log())
            segments = [os.path.join(d, f) for d, _, fs in os.walk(self.spool) for f in fs]
            self.assertTrue(segments)
            self.assertTrue(all(os.stat(path).st_uid == 0 for path in segments))
            # Second run drops to nobody and must still read root's segments.
            second = self.config(sink.port, extra="retry_initial_ms = 100\nretry_max_ms = 200\n")
            with RingmtaProcess("--config", second, spool=self.spool) as mta:
                self.assertTrue(sink.wait_for(1), mta.log())
                self.assertIn(b"Subject: queued as root", sink.messages[0][2])
            self.assertTrue(all(os.stat(path).st_uid == NOBODY.pw_uid
                                for path in segments if os.path.exists(path)))

    def test_unknown_user_is_refused(self):
        config = write_config('[server]\nuser = "no-such-user-ringmta"\n')
        code, log = run_briefly("--config", config, "--spool", self.spool)
        self.assertNotEqual(code, 0)
        self.assertIn('server.user: no such user "no-such-user-ringmta"', log)
        self.assertFalse(os.path.exists(self.spool))  # refused before touching anything

    def test_root_as_the_user_is_refused(self):
        config = write_config('[server]\nuser = "root"\n')
        code, log = run_briefly("--config", config, "--spool", self.spool)
        self.assertNotEqual(code, 0)
        self.assertIn("would keep root privileges", log)

    def test_a_spool_nobody_cannot_reach_is_a_clear_error(self):
        os.chmod(self.root, 0o700)  # the parent keeps nobody out
        config = write_config('[server]\nuser = "nobody"\n')
        code, log = run_briefly("--config", config, "--spool", self.spool)
        self.assertNotEqual(code, 0)
        self.assertIn("is not usable as user nobody", log)


if __name__ == "__main__":
    junit.main()
