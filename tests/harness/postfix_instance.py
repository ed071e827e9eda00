"""A private Postfix instance for interop tests: Debian's postfix binaries
with their own config, queue and data directories under /tmp, listening on
a loopback port, with no system daemon involved.

Used both as a client of ringmta (relayhost pointing at ringmta; mail
submitted with its sendmail or over SMTP) and as the server ringmta relays
to (it relays on to a sink the test reads). Needs root (Postfix's master
starts as root and drops to the postfix user); `unavailable()` says why an
instance cannot run here, for skipTest.

The directories live under /tmp, not $TEST_TMPDIR: Bazel's output base is
under /root (mode 0700), which the postfix user cannot traverse.
"""
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time

POSTFIX = "/usr/sbin/postfix"
SENDMAIL = "/usr/sbin/sendmail"
POSTQUEUE = "/usr/sbin/postqueue"

# One line per service: name, type, private, unpriv, chroot, wakeup, maxproc,
# command. No chroot, so nothing needs copying into the queue directory.
_SERVICES = [
    ("pickup", "unix", "n", "-", "n", "60", "1", "pickup"),
    ("cleanup", "unix", "n", "-", "n", "-", "0", "cleanup"),
    ("qmgr", "unix", "n", "-", "n", "300", "1", "qmgr"),
    ("tlsmgr", "unix", "-", "-", "n", "1000?", "1", "tlsmgr"),
    ("rewrite", "unix", "-", "-", "n", "-", "-", "trivial-rewrite"),
    ("bounce", "unix", "-", "-", "n", "-", "0", "bounce"),
    ("defer", "unix", "-", "-", "n", "-", "0", "bounce"),
    ("trace", "unix", "-", "-", "n", "-", "0", "bounce"),
    ("verify", "unix", "-", "-", "n", "-", "1", "verify"),
    ("flush", "unix", "n", "-", "n", "1000?", "0", "flush"),
    ("proxymap", "unix", "-", "-", "n", "-", "-", "proxymap"),
    ("smtp", "unix", "-", "-", "n", "-", "-", "smtp"),
    ("relay", "unix", "-", "-", "n", "-", "-", "smtp"),
    ("showq", "unix", "n", "-", "n", "-", "-", "showq"),
    ("error", "unix", "-", "-", "n", "-", "-", "error"),
    ("retry", "unix", "-", "-", "n", "-", "-", "error"),
    ("discard", "unix", "-", "-", "n", "-", "-", "discard"),
    ("local", "unix", "-", "n", "n", "-", "-", "local"),
    ("anvil", "unix", "-", "-", "n", "-", "1", "anvil"),
    ("scache", "unix", "-", "-", "n", "-", "1", "scache"),
    ("postlog", "unix-dgram", "n", "-", "n", "-", "1", "postlogd"),
]


def unavailable():
    """Why a private Postfix cannot run here, or None if it can."""
    if not os.path.exists(POSTFIX):
        return "postfix is not installed (apt-get install postfix)"
    if os.geteuid() != 0:
        return "a private Postfix instance needs root (its master starts as root)"
    try:
        pwd.getpwnam("postfix")
    except KeyError:
        return "no postfix user"
    return None


def free_port():
    """A loopback port the kernel just had free (Postfix cannot take port 0)."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


def _alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


class PostfixInstance:
    """Use as a context manager. `port` is its smtpd port on 127.0.0.1.

    relayhost: "HOST:PORT" every message goes to (no DNS), e.g. ringmta.
    smtp_tls: Postfix's smtp_tls_security_level for that hop ("none",
        "may", "encrypt").
    tls_cert/tls_key: offer STARTTLS on its smtpd with this pair.
    transport: {domain: "service:[host]:port"} routes that override the
        relayhost per recipient domain.
    services: extra master.cf rows, e.g. a second smtp client with -o
        overrides: ("smtptls", "unix", "-", "-", "n", "-", "-", "smtp",
        "-o smtp_tls_security_level=encrypt").
    """

    def __init__(self, name, relayhost, smtp_tls="none", tls_cert=None, tls_key=None,
                 transport=None, services=()):
        self.name = name
        self.transport = transport or {}
        self.services = list(services)
        self.relayhost = relayhost
        self.smtp_tls = smtp_tls
        self.tls_cert = tls_cert
        self.tls_key = tls_key
        self.port = free_port()
        self.hostname = f"{name}.postfix.test"
        self.root = None
        self.master_pid = None

    def __enter__(self):
        self.root = tempfile.mkdtemp(prefix=f"ringmta-postfix-{self.name}-", dir="/tmp")
        os.chmod(self.root, 0o755)
        self.config_dir = os.path.join(self.root, "conf")
        self.queue_dir = os.path.join(self.root, "queue")
        self.data_dir = os.path.join(self.root, "data")
        self.maillog = os.path.join(self.root, "maillog")
        for directory in (self.config_dir, self.queue_dir, self.data_dir):
            os.mkdir(directory, 0o755)
        user = pwd.getpwnam("postfix")
        os.chown(self.data_dir, user.pw_uid, user.pw_gid)
        self._write_main_cf()
        self._write_master_cf()
        try:
            self._postfix("start")
            self._wait_for_greeting(30)
            with open(os.path.join(self.queue_dir, "pid", "master.pid")) as handle:
                self.master_pid = int(handle.read().strip())
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        if self.root is None:
            return
        subprocess.run([POSTFIX, "-c", self.config_dir, "stop"], capture_output=True,
                       timeout=60, check=False)
        # "stop" returns before the master has gone; wait for it (bounded)
        # so its children are not still writing under the tree removed next.
        if self.master_pid:
            deadline = time.monotonic() + 10
            while _alive(self.master_pid) and time.monotonic() < deadline:
                time.sleep(0.05)
        shutil.rmtree(self.root, ignore_errors=True)
        self.root = None

    def _postfix(self, command):
        result = subprocess.run([POSTFIX, "-c", self.config_dir, command], capture_output=True,
                                text=True, timeout=60, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"postfix {command} failed ({result.returncode}):\n"
                               f"{result.stdout}{result.stderr}\n{self.log()}")

    def _write_main_cf(self):
        settings = {
            "compatibility_level": "3.6",
            "config_directory": self.config_dir,
            "queue_directory": self.queue_dir,
            "data_directory": self.data_dir,
            "syslog_name": f"postfix-{self.name}",
            "maillog_file": self.maillog,
            "maillog_file_prefixes": "/tmp",
            "myhostname": self.hostname,
            "mydomain": "postfix.test",
            "myorigin": "$myhostname",
            "inet_interfaces": "127.0.0.1",
            "inet_protocols": "ipv4",
            "mynetworks": "127.0.0.0/8",
            # Relay only: nothing is local, everything goes to the relayhost
            # (brackets: the host as given, no MX lookup).
            "mydestination": "",
            "local_recipient_maps": "",
            "alias_maps": "",
            "alias_database": "",
            "smtpd_relay_restrictions": "permit_mynetworks, reject_unauth_destination",
            "relayhost": "[{}]:{}".format(*self.relayhost.rsplit(":", 1)),
            "smtp_tls_security_level": self.smtp_tls,
            "smtp_tls_loglevel": "1",
            # Retry soon after ringmta was down (defaults are minutes).
            "queue_run_delay": "2s",
            "minimal_backoff_time": "2s",
            "maximal_backoff_time": "4s",
            "biff": "no",
            "append_dot_mydomain": "no",
            "readme_directory": "no",
        }
        if self.transport:
            path = os.path.join(self.config_dir, "transport")
            with open(path, "w") as handle:
                for domain, route in self.transport.items():
                    handle.write(f"{domain} {route}\n")
            settings["transport_maps"] = f"texthash:{path}"
        if self.tls_cert:
            settings.update({
                "smtpd_tls_cert_file": self.tls_cert,
                "smtpd_tls_key_file": self.tls_key,
                "smtpd_tls_security_level": "may",
                "smtpd_tls_loglevel": "1",
            })
        with open(os.path.join(self.config_dir, "main.cf"), "w") as handle:
            handle.write("# written by tests/harness/postfix_instance.py\n")
            for key, value in settings.items():
                handle.write(f"{key} = {value}\n")

    def _write_master_cf(self):
        rows = [(f"127.0.0.1:{self.port}", "inet", "n", "-", "n", "-", "-", "smtpd")]
        rows += _SERVICES + self.services
        with open(os.path.join(self.config_dir, "master.cf"), "w") as handle:
            handle.write("# written by tests/harness/postfix_instance.py\n")
            for row in rows:
                handle.write(" ".join(f"{field:<10}" for field in row).rstrip() + "\n")

    def _wait_for_greeting(self, timeout_s):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=5) as conn:
                    if conn.recv(512).startswith(b"220"):
                        conn.sendall(b"QUIT\r\n")
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"postfix {self.name} did not answer on {self.port}:\n{self.log()}")

    def sendmail(self, sender, recipients, data):
        """Submits like a local program would (sendmail -> postdrop -> pickup)."""
        result = subprocess.run([SENDMAIL, "-C", self.config_dir, "-i", "-f", sender, "--",
                                 *recipients], input=data, capture_output=True, timeout=60,
                                check=False)
        if result.returncode != 0:
            raise RuntimeError(f"sendmail failed ({result.returncode}): {result.stderr!r}")

    def log(self):
        try:
            with open(self.maillog, errors="replace") as handle:
                return handle.read()
        except OSError:
            return ""

    def wait_for_log(self, text, count=1, timeout_s=60):
        """Polls its mail log until `text` appears `count` times (bounded)."""
        deadline = time.monotonic() + timeout_s
        while self.log().count(text) < count and time.monotonic() < deadline:
            time.sleep(0.1)
        return self.log().count(text) >= count

    def queued(self):
        """Messages still in its queue (postqueue -j: one JSON object each)."""
        result = subprocess.run([POSTQUEUE, "-c", self.config_dir, "-j"], capture_output=True,
                                text=True, timeout=30, check=False)
        return len([line for line in result.stdout.splitlines() if line.strip()])
