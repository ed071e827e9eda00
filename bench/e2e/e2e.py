#!/usr/bin/python3
"""End-to-end benchmark: tools/loadgen -> relay -> tools/sink on loopback.

For each load (message size x concurrent sessions) it starts a fresh sink, a
fresh relay (ringmta with durability on and its own temporary spool, or a
peer such as Postfix with its own config and queue directories), runs the
load generator, waits until the sink holds every accepted message, and
prints one table per load: accepted msgs/s and MB/s, delivered msgs/s, ack
latency p50/p99/p99.9, relay CPU seconds per 1,000 messages, peak RSS and
messages per fdatasync. With --repeat N every figure is the median of N
interleaved runs. Use bench/e2e/run.sh, which builds first and runs this in
a private network namespace.

With --tls every hop is encrypted: the load generator uses STARTTLS (and
never falls back to cleartext), the relay offers STARTTLS with a certificate
made for this run (a throwaway CA) and must use STARTTLS to the sink, which
offers it too. A TLS run counts the sink's messages that arrived under TLS;
any that did not, or any loadgen connection without a handshake, fails the
run. --handshakes measures the relay's inbound TLS handshakes instead (one
ringmta shard, so per core; Postfix as shipped).

Not here: building (run.sh does it), or any relay's tuning: every relay runs
as shipped, durable (a 250 only after the message is on stable storage).
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

# Loads: (size, sessions) -> messages per run. Sized so one run of ringmta
# takes a second or two and Postfix well under a minute on 2 cores.
QUICK_SIZES = ["1K", "100K"]
FULL_SIZES = ["1K", "10K", "100K", "1M"]
SESSIONS = [1, 20, 200]
QUICK_MESSAGES = {1: 400, 20: 3000, 200: 6000}
FULL_MESSAGES = {1: 1000, 20: 10000, 200: 20000}
# Large messages: fewer of them, so a run moves a bounded number of bytes.
BYTES_PER_RUN_MAX = {"quick": 300 << 20, "full": 2 << 30}

DRAIN_TIMEOUT_S = 180
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PEERS = ("postfix", "exim", "opensmtpd", "haraka")


def log(text):
    print(f"e2e: {text}", file=sys.stderr, flush=True)


def size_bytes(text):
    units = {"K": 1024, "M": 1024 * 1024}
    return int(text[:-1]) * units[text[-1]] if text[-1] in units else int(text)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_greeting(port, timeout_s):
    """True once 127.0.0.1:port answers with a 220 line."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as connection:
                if connection.recv(512).startswith(b"220"):
                    connection.sendall(b"QUIT\r\n")
                    return True
        except OSError:
            pass
        time.sleep(0.1)
    return False


# ---- certificates for --tls ----

def make_certificates(workdir):
    """A throwaway CA and one leaf (ECDSA P-256, names relay and sink, valid
    a day) signed by it, made with the openssl CLI. Returns (cert, key)."""
    directory = os.path.join(workdir, "tls")
    os.makedirs(directory)
    os.chmod(directory, 0o755)
    path = lambda name: os.path.join(directory, name)

    def openssl(*arguments):
        subprocess.run(["openssl", *arguments], check=True, capture_output=True)

    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", path("ca-key.pem"), "-out", path("ca.pem"), "-days", "1",
            "-subj", "/CN=ringmta e2e throwaway CA")
    openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", path("key.pem"), "-out", path("leaf.csr"),
            "-subj", "/CN=bench.test")
    with open(path("leaf.ext"), "w") as extensions:
        extensions.write("subjectAltName = DNS:relay-ringmta.bench.test, "
                         "DNS:relay-postfix.bench.test, DNS:sink.test, IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", path("leaf.csr"), "-CA", path("ca.pem"), "-CAkey",
            path("ca-key.pem"), "-CAcreateserial", "-days", "1", "-extfile", path("leaf.ext"),
            "-out", path("cert.pem"))
    for name in ("cert.pem", "key.pem"):
        os.chmod(path(name), 0o644)  # a throwaway key; a peer's daemons must read it
    return path("cert.pem"), path("key.pem")


# ---- processes: CPU and memory from /proc ----

def proc_stat(pid):
    """(ppid, utime+stime, cutime+cstime) in seconds, or None if gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # After the command: state ppid ... utime(12) stime(13) cutime(14) cstime(15).
    return (int(fields[1]), (int(fields[11]) + int(fields[12])) / CLOCK_TICKS,
            (int(fields[13]) + int(fields[14])) / CLOCK_TICKS)


def process_tree(root):
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = proc_stat(int(entry))
            if stat:
                children.setdefault(stat[0], []).append(int(entry))
    tree, pending = [], [root]
    while pending:
        pid = pending.pop()
        tree.append(pid)
        pending.extend(children.get(pid, []))
    return tree


def tree_cpu_seconds(root):
    """CPU of root and every live descendant, plus children root reaped.

    Descendants below the first level are few for both relays (ringmta
    forks nothing; Postfix's master forks its daemons, which fork nothing).
    """
    total = 0.0
    for pid in process_tree(root):
        stat = proc_stat(pid)
        if stat:
            total += stat[1] + (stat[2] if pid == root else 0.0)
    return total


def status_kib(pid, field):
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def pss_kib(pid):
    """Proportional set size: shared pages split between their users, so a
    sum over processes counts each page once."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class RssSampler(threading.Thread):
    """Samples the summed PSS of a process tree four times a second: the
    peak memory of a multi-process relay (VmHWM is per process, and summing
    RSS would count every shared library once per process)."""

    def __init__(self, root):
        super().__init__(daemon=True)
        self.root, self.peak_kib, self.stopping = root, 0, threading.Event()

    def run(self):
        while not self.stopping.wait(0.25):
            rss = sum(pss_kib(pid) for pid in process_tree(self.root))
            self.peak_kib = max(self.peak_kib, rss)


# ---- the sink ----

class Sink:
    def __init__(self, tools, workdir):
        self.dir = tempfile.mkdtemp(prefix="sink-", dir=workdir)
        self.port_file = os.path.join(self.dir, "port")
        self.stats_file = os.path.join(self.dir, "stats.json")
        tls = ["--tls-cert", tools["tls"][0], "--tls-key", tools["tls"][1]] if tools["tls"] else []
        self.process = subprocess.Popen(
            [tools["sink"], "--quiet", "--port-file", self.port_file,
             "--stats-file", self.stats_file, "--shards", "1"] + tls,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not os.path.exists(self.port_file):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("sink did not start")
            time.sleep(0.02)
        with open(self.port_file) as port:
            self.port = int(port.read())

    def messages(self):
        """The sink's accepted count now (asks it with SIGUSR1)."""
        try:
            os.unlink(self.stats_file)
        except FileNotFoundError:
            pass
        self.process.send_signal(signal.SIGUSR1)
        deadline = time.monotonic() + 5
        while not os.path.exists(self.stats_file) and time.monotonic() < deadline:
            time.sleep(0.005)
        with open(self.stats_file) as stats:
            return json.load(stats)["messages"]

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)
        with open(self.stats_file) as stats:
            counts = json.load(stats)
        shutil.rmtree(self.dir, ignore_errors=True)
        return counts


# ---- relays ----

class Ringmta:
    name = "ringmta"

    def __init__(self, tools, workdir, sink, shards=2):
        sink_port = sink.port
        self.spool = tempfile.mkdtemp(prefix="ringmta-spool-", dir=workdir)
        self.log_path = self.spool + ".log"
        self.metrics_port = free_port() if tools["metrics"] else None
        command = [tools["ringmta"], "--listen", "127.0.0.1:0", "--smarthost",
                   f"127.0.0.1:{sink_port}", "--spool", self.spool, "--shards", str(shards),
                   "--hostname", "relay-ringmta.bench.test"]
        if tools["tls"]:
            # STARTTLS offered inbound; required to the sink (no cleartext).
            self.config_path = self.spool + ".toml"
            with open(self.config_path, "w") as config:
                config.write('[delivery]\ntls = "encrypt"\n')
            command += ["--config", self.config_path, "--tls-cert", tools["tls"][0],
                        "--tls-key", tools["tls"][1]]
        if self.metrics_port:
            command += ["--metrics-listen", f"127.0.0.1:{self.metrics_port}"]
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT)
        self.pid = self.process.pid
        self.port = self._wait_listening()

    def _wait_listening(self):
        deadline = time.monotonic() + 60  # recovery of an empty spool is instant
        while time.monotonic() < deadline:
            with open(self.log_path) as text:
                found = re.search(r"listening on 127\.0\.0\.1:(\d+)", text.read())
            if found:
                return int(found.group(1))
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("ringmta did not start; see its log above")

    def peak_rss_kib(self):
        return status_kib(self.pid, "VmHWM")

    def fdatasync_counters(self):
        """(fdatasyncs, messages received) from /metrics, or None."""
        if not self.metrics_port:
            return None
        try:
            with socket.create_connection(("127.0.0.1", self.metrics_port), timeout=5) as c:
                c.sendall(b"GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n")
                body = b""
                while chunk := c.recv(65536):
                    body += chunk
        except OSError:
            return None
        totals = {"ringmta_queue_fdatasync_total": 0.0, "ringmta_messages_received_total": 0.0}
        for line in body.decode("utf-8", "replace").splitlines():
            match = re.match(r"([a-z_]+)(\{[^}]*\})?\s+([0-9.eE+-]+)$", line)
            if match and match.group(1) in totals:
                totals[match.group(1)] += float(match.group(3))
        return totals["ringmta_queue_fdatasync_total"], totals["ringmta_messages_received_total"]

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        if self.process.returncode not in (0, None):
            with open(self.log_path) as text:
                log("ringmta log tail:\n" + "".join(text.readlines()[-15:]))
        shutil.rmtree(self.spool, ignore_errors=True)
        os.unlink(self.log_path)
        if hasattr(self, "config_path"):
            os.unlink(self.config_path)


class Postfix:
    """A private Postfix instance from the Debian binaries: its own
    config_directory, queue_directory and data_directory, listening on
    127.0.0.1:PORT and relaying everything to [127.0.0.1]:SINKPORT. Durable as
    shipped: cleanup(8) fsyncs the queue file before smtpd answers 250."""
    name = "postfix"

    def __init__(self, tools, workdir, sink, shards=None):
        sink_port = sink.port
        self.dir = tempfile.mkdtemp(prefix="postfix-", dir=workdir)
        self.port = free_port()
        conf, queue, data = (os.path.join(self.dir, d) for d in ("conf", "queue", "data"))
        for path in (conf, queue, data):
            os.makedirs(path)
        shutil.chown(data, "postfix", "postfix")
        os.chmod(self.dir, 0o755)
        settings = {
            "compatibility_level": "3.6",
            "config_directory": conf, "queue_directory": queue, "data_directory": data,
            "syslog_name": f"postfix-e2e-{self.port}",
            "maillog_file": os.path.join(self.dir, "maillog"),
            "maillog_file_prefixes": f"/var, /dev/stdout, {self.dir}",
            "myhostname": "relay-postfix.bench.test", "mydomain": "bench.test",
            "inet_interfaces": "127.0.0.1", "inet_protocols": "ipv4",
            "mynetworks": "127.0.0.0/8",
            # A pure relay: nothing is local; the smart host is the sink.
            "mydestination": "", "local_recipient_maps": "", "alias_maps": "",
            "alias_database": "", "local_transport": "error:5.1.1 no local delivery",
            "smtpd_relay_restrictions": "permit_mynetworks, reject_unauth_destination",
            "relayhost": f"[127.0.0.1]:{sink_port}",
            "biff": "no", "append_dot_mydomain": "no", "readme_directory": "no",
        }
        if tools["tls"]:
            # STARTTLS offered inbound; required to the sink, as for ringmta.
            # Both session caches on (tlsmgr runs from Debian's master.cf),
            # as a Debian install has them.
            settings.update({
                "smtpd_tls_cert_file": tools["tls"][0], "smtpd_tls_key_file": tools["tls"][1],
                "smtpd_tls_security_level": "may",
                "smtpd_tls_session_cache_database": f"btree:{data}/smtpd_scache",
                "smtp_tls_security_level": "encrypt",
                "smtp_tls_session_cache_database": f"btree:{data}/smtp_scache",
                "smtpd_tls_loglevel": "1", "smtp_tls_loglevel": "1",
            })
        with open(os.path.join(conf, "main.cf"), "w") as main_cf:
            main_cf.writelines(f"{key} = {value}\n" for key, value in settings.items())
        # Debian's master.cf with the public smtpd moved to our port.
        with open("/etc/postfix/master.cf") as shipped:
            master = re.sub(r"(?m)^smtp(\s+)inet(\s)", rf"127.0.0.1:{self.port}\1inet\2",
                            shipped.read(), count=1)
        with open(os.path.join(conf, "master.cf"), "w") as master_cf:
            master_cf.write(master)
        self.env = dict(os.environ, MAIL_CONFIG=conf)
        self.conf = conf
        # Prepares the chroot inside the queue directory, as Debian does.
        subprocess.run(["/usr/lib/postfix/configure-instance.sh", "-"], env=self.env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for step in ("check", "start"):
            result = subprocess.run(["postfix", "-c", conf, step], env=self.env,
                                    capture_output=True, text=True)
            if result.returncode != 0:
                shutil.rmtree(self.dir, ignore_errors=True)
                raise RuntimeError(f"postfix {step} failed: {result.stderr.strip()}")
        if not wait_for_greeting(self.port, 30):
            self.stop()
            raise RuntimeError("postfix did not answer")
        with open(os.path.join(queue, "pid", "master.pid")) as pid_file:
            self.pid = int(pid_file.read().strip())
        self.rss = RssSampler(self.pid)
        self.rss.start()

    def peak_rss_kib(self):
        return self.rss.peak_kib

    def fdatasync_counters(self):
        return None

    def stop(self):
        if hasattr(self, "rss"):
            self.rss.stopping.set()
        subprocess.run(["postfix", "-c", self.conf, "stop"], env=self.env,
                       capture_output=True)
        if hasattr(self, "pid"):
            deadline = time.monotonic() + 20
            while proc_stat(self.pid) and time.monotonic() < deadline:
                time.sleep(0.1)
        shutil.rmtree(self.dir, ignore_errors=True)


class Direct:
    """No relay: the load generator straight into the sink. The kit's own
    ceiling on this machine at this moment; its CPU and memory are the
    sink's."""
    name = "direct"

    def __init__(self, tools, workdir, sink, shards=None):
        self.port, self.pid = sink.port, sink.process.pid

    def peak_rss_kib(self):
        return status_kib(self.pid, "VmHWM")

    def fdatasync_counters(self):
        return None

    def stop(self):
        pass


RELAYS = {"ringmta": Ringmta, "postfix": Postfix, "direct": Direct}


def peer_installed(peer):
    packages = {"exim": "exim4-base", "opensmtpd": "opensmtpd", "postfix": "postfix"}
    if peer == "haraka":
        return shutil.which("haraka") is not None
    result = subprocess.run(["dpkg-query", "-W", "-f", "${Status}", packages[peer]],
                            capture_output=True, text=True)
    return "install ok installed" in result.stdout


# ---- one run ----

def run_once(tools, workdir, relay_class, size, sessions, messages, rate):
    sink = Sink(tools, workdir)
    relay = None
    try:
        relay = relay_class(tools, workdir, sink)
        cpu_before = tree_cpu_seconds(relay.pid)
        syncs_before = relay.fdatasync_counters()
        started = time.monotonic()
        load = subprocess.run(
            [tools["loadgen"], "--json", "--server", f"127.0.0.1:{relay.port}",
             "--sessions", str(sessions), "--messages", str(messages), "--size", size]
            + (["--rate", str(rate)] if rate else [])
            + (["--starttls"] if tools["tls"] else []),
            capture_output=True, text=True, timeout=1800)
        if load.returncode != 0:
            raise RuntimeError(f"loadgen failed: {load.stderr.strip()}")
        report = json.loads(load.stdout)
        # Delivery runs behind acceptance: wait until the sink has it all.
        delivered, deadline = 0, time.monotonic() + DRAIN_TIMEOUT_S
        while time.monotonic() < deadline:
            delivered = sink.messages()
            if delivered >= report["accepted"]:
                break
            time.sleep(0.05)
        drained = time.monotonic() - started
        cpu = tree_cpu_seconds(relay.pid) - cpu_before
        syncs_after = relay.fdatasync_counters()
        per_sync = None
        if syncs_before and syncs_after and syncs_after[0] > syncs_before[0]:
            per_sync = (syncs_after[1] - syncs_before[1]) / (syncs_after[0] - syncs_before[0])
        peak_rss_kib = relay.peak_rss_kib()
    finally:
        try:
            if relay:
                relay.stop()
        finally:
            counts = sink.stop()
    accepted = report["accepted"]
    return {
        "relay": relay_class.name, "size": size, "sessions": sessions, "messages": messages,
        "rate": rate, "accepted": accepted, "late": report["late"],
        "refused": report["transient"] + report["permanent"],
        "io_errors": report["io_errors"], "sink_messages": counts["messages"],
        "msgs_per_s": report["msgs_per_s"], "mb_per_s": report["mb_per_s"],
        "delivered_per_s": counts["messages"] / drained if drained > 0 else 0.0,
        "p50_ms": report["latency_ms"]["p50"], "p99_ms": report["latency_ms"]["p99"],
        "p999_ms": report["latency_ms"]["p999"],
        "cpu_s_per_1k": cpu / accepted * 1000 if accepted else None,
        "peak_rss_mib": peak_rss_kib / 1024, "msgs_per_fdatasync": per_sync,
        "tls": bool(tools["tls"]), "connections": report["connections"],
        "tls_handshakes": report.get("tls_handshakes", 0),
        "tls_failures": report.get("tls_failures", 0),
        "sink_tls_messages": counts.get("tls_messages", 0),
    }


def tls_shortfall(run):
    """Why a --tls run did not use TLS on both hops ('' when it did)."""
    if not run.get("tls"):
        return ""
    problems = []
    if run["tls_failures"] or run["tls_handshakes"] != run["connections"]:
        problems.append(f"inbound: {run['tls_handshakes']} handshakes for "
                        f"{run['connections']} connections, {run['tls_failures']} failed")
    if run["sink_tls_messages"] != run["sink_messages"]:
        problems.append(f"outbound: {run['sink_tls_messages']} of {run['sink_messages']} "
                        "messages reached the sink under TLS")
    return "; ".join(problems)


def run_handshakes(tools, workdir, relay_class, sessions, handshakes):
    """The relay's inbound TLS handshakes: loadgen --handshake-only (connect,
    EHLO, STARTTLS, full handshake, QUIT). ringmta runs one shard: per core."""
    sink = Sink(tools, workdir)
    relay = None
    try:
        relay = relay_class(tools, workdir, sink, shards=1)
        cpu_before = tree_cpu_seconds(relay.pid)
        load = subprocess.run(
            [tools["loadgen"], "--json", "--server", f"127.0.0.1:{relay.port}",
             "--sessions", str(sessions), "--messages", str(handshakes), "--handshake-only"],
            capture_output=True, text=True, timeout=1800)
        if load.returncode != 0:
            raise RuntimeError(f"loadgen failed: {load.stderr.strip()}")
        cpu = tree_cpu_seconds(relay.pid) - cpu_before
    finally:
        try:
            if relay:
                relay.stop()
        finally:
            sink.stop()
    report = json.loads(load.stdout)
    done = report["tls_handshakes"]
    return {
        "relay": relay_class.name, "sessions": sessions, "handshakes": handshakes,
        "completed": done, "failed": report["attempted"] - done,
        "resumed": report["tls_resumed"], "handshakes_per_s": report["handshakes_per_s"],
        "relay_cpu_ms_per_handshake": cpu / done * 1000 if done else None,
        "handshakes_per_cpu_s": done / cpu if cpu > 0 else None,
        "p50_ms": report["handshake_ms"]["hs_p50"], "p99_ms": report["handshake_ms"]["hs_p99"],
    }


HANDSHAKE_COLUMNS = [("handshakes/s", "handshakes_per_s", "{:,.0f}"),
                     ("relay CPU ms/handshake", "relay_cpu_ms_per_handshake", "{:.3f}"),
                     ("handshakes per relay CPU s", "handshakes_per_cpu_s", "{:,.0f}"),
                     ("p50 ms", "p50_ms", "{:.2f}"), ("p99 ms", "p99_ms", "{:.2f}")]


def print_handshake_table(results, relays, repeat):
    first = results[0]
    print(f"\nTLS handshakes (STARTTLS, full, ECDSA P-256), {first['handshakes']:,} per run over "
          f"{first['sessions']} session(s)" + (f", median of {repeat}" if repeat > 1 else ""))
    print("| relay | " + " | ".join(t for t, _, _ in HANDSHAKE_COLUMNS) + " | failed | resumed |")
    print("|---|" + "---:|" * (len(HANDSHAKE_COLUMNS) + 2))
    for relay in relays:
        runs = [r for r in results if r["relay"] == relay]
        if not runs:
            continue
        cells = []
        for _, key, fmt in HANDSHAKE_COLUMNS:
            value = median_of(runs, key)
            cells.append("n/a" if value is None else fmt.format(value))
        print(f"| {relay} | " + " | ".join(cells) + f" | {sum(r['failed'] for r in runs)} | "
              f"{sum(r['resumed'] for r in runs)} |")


# ---- tables ----

COLUMNS = [("msgs/s", "msgs_per_s", "{:,.0f}"), ("MB/s", "mb_per_s", "{:.1f}"),
           ("delivered/s", "delivered_per_s", "{:,.0f}"), ("p50 ms", "p50_ms", "{:.2f}"),
           ("p99 ms", "p99_ms", "{:.2f}"), ("p99.9 ms", "p999_ms", "{:.2f}"),
           ("CPU s/1k msgs", "cpu_s_per_1k", "{:.3f}"), ("peak RSS MiB", "peak_rss_mib", "{:.0f}"),
           ("msgs/fdatasync", "msgs_per_fdatasync", "{:.1f}")]


def median_of(runs, key):
    values = [run[key] for run in runs if run.get(key) is not None]
    return statistics.median(values) if values else None


def print_tables(results, relays, repeat):
    loads = []
    for run in results:
        if (run["size"], run["sessions"]) not in loads:
            loads.append((run["size"], run["sessions"]))
    for size, sessions in loads:
        runs_of = {relay: [r for r in results if r["relay"] == relay and r["size"] == size
                           and r["sessions"] == sessions] for relay in relays}
        messages = next(r["messages"] for r in results
                        if r["size"] == size and r["sessions"] == sessions)
        rate = next(r["rate"] for r in results if r["size"] == size)
        print(f"\n{size} messages, {sessions} session(s), {messages:,} per run"
              + (f", open loop at {rate:g} msgs/s" if rate else ", closed loop")
              + (f", median of {repeat}" if repeat > 1 else ""))
        tls = any(r.get("tls") for r in results)
        print("| relay | " + " | ".join(title for title, _, _ in COLUMNS)
              + " | refused+errors | late | lost |" + (" TLS in / out |" if tls else ""))
        print("|---|" + "---:|" * (len(COLUMNS) + 3) + ("---|" if tls else ""))
        medians = {}
        for relay in relays:
            runs = runs_of[relay]
            if not runs:
                continue
            medians[relay] = {key: median_of(runs, key) for _, key, _ in COLUMNS}
            cells = [("n/a" if medians[relay][key] is None else fmt.format(medians[relay][key]))
                     for _, key, fmt in COLUMNS]
            lost = sum(max(0, r["accepted"] - r["sink_messages"]) for r in runs)
            failed = sum(r["refused"] + r["io_errors"] for r in runs)
            late = sum(r["late"] for r in runs)
            row = f"| {relay} | " + " | ".join(cells) + f" | {failed} | {late} | {lost} |"
            if tls:
                # Handshakes per loadgen connection; messages the sink got under TLS.
                row += (f" {sum(r['tls_handshakes'] for r in runs)}/"
                        f"{sum(r['connections'] for r in runs)} conn, "
                        f"{sum(r['sink_tls_messages'] for r in runs)}/"
                        f"{sum(r['sink_messages'] for r in runs)} msgs |")
            print(row)
        for peer in relays[1:]:
            if peer != "direct" and peer in medians and "ringmta" in medians:
                ours, theirs = medians["ringmta"], medians[peer]
                def ratio(key, higher_is_better=True):
                    a, b = ours.get(key), theirs.get(key)
                    if not a or not b:
                        return "n/a"
                    return f"{(a / b if higher_is_better else b / a):.1f}x"
                print(f"ringmta vs {peer}: msgs/s {ratio('msgs_per_s')}, MB/s "
                      f"{ratio('mb_per_s')}, delivered/s "
                      f"{ratio('delivered_per_s')}, p99 {ratio('p99_ms', False)} lower, "
                      f"CPU/msg {ratio('cpu_s_per_1k', False)} less")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    matrix = parser.add_mutually_exclusive_group()
    matrix.add_argument("--quick", action="store_true",
                        help="1K and 100K x 1/20/200 sessions (default)")
    matrix.add_argument("--full", action="store_true", help="1K/10K/100K/1M x 1/20/200 sessions")
    parser.add_argument("--vs", action="append", default=[], choices=PEERS,
                        help="also run the identical load through this peer (repeatable)")
    parser.add_argument("--direct", action="store_true",
                        help="also run each load straight into the sink (the kit's ceiling)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per load and relay (medians)")
    parser.add_argument("--sizes", help="comma-separated sizes, e.g. 1K,10K (overrides the matrix)")
    parser.add_argument("--sessions", help="comma-separated session counts, e.g. 1,20")
    parser.add_argument("--messages", type=int, help="messages per run (overrides the matrix)")
    parser.add_argument("--rate", type=float,
                        help="open loop: offer this many msgs/s (the sessions are the pool)")
    parser.add_argument("--tls", action="store_true",
                        help="STARTTLS on both hops (certificates made for the run); a run "
                             "that did not use TLS throughout fails")
    parser.add_argument("--handshakes", type=int, metavar="N",
                        help="instead of mail: N inbound TLS handshakes per run against each "
                             "relay (ringmta with one shard); --sessions gives the concurrency")
    parser.add_argument("--bin-dir", required=True, help="holds ringmta, loadgen and sink")
    parser.add_argument("--workdir", default="/tmp", help="parent of the temporary spools")
    parser.add_argument("--json-out", help="append every run as one JSON line here")
    args = parser.parse_args()

    for peer in args.vs:
        if not peer_installed(peer):
            parser.error(f"--vs {peer}: not installed on this machine (dpkg -l)")
        if peer not in RELAYS:
            parser.error(f"--vs {peer}: installed, but the kit has no starter for it yet")
    if args.vs and os.geteuid() != 0:
        parser.error("--vs needs root (a peer's private instance drops privileges)")
    tools = {name: os.path.join(args.bin_dir, name) for name in ("ringmta", "loadgen", "sink")}
    help_text = subprocess.run([tools["ringmta"], "--help"], capture_output=True, text=True)
    tools["metrics"] = "--metrics-listen" in help_text.stdout + help_text.stderr
    tools["tls"] = None
    if args.handshakes:
        args.tls = True
        if args.direct:
            parser.error("--handshakes measures relays; drop --direct")
    if not tools["metrics"]:
        log("ringmta has no --metrics-listen: msgs/fdatasync will read n/a")

    mode = "full" if args.full else "quick"
    sizes = args.sizes.split(",") if args.sizes else (FULL_SIZES if args.full else QUICK_SIZES)
    sessions_list = ([int(s) for s in args.sessions.split(",")] if args.sessions else SESSIONS)
    per_sessions = FULL_MESSAGES if args.full else QUICK_MESSAGES
    relays = ["ringmta"] + args.vs + (["direct"] if args.direct else [])
    workdir = tempfile.mkdtemp(prefix="ringmta-e2e-", dir=args.workdir)
    os.chmod(workdir, 0o755)  # a peer's unprivileged daemons must reach their queue
    if args.tls:
        tools["tls"] = make_certificates(workdir)
    if args.handshakes:
        relays = [relay for relay in relays if relay != "direct"]
        sessions = int(sessions_list[0]) if args.sessions else 8
        results = []
        try:
            for round_index in range(args.repeat):
                for relay in relays:
                    log(f"round {round_index + 1}/{args.repeat}: {relay}, {args.handshakes} "
                        f"TLS handshakes over {sessions} session(s)")
                    run = run_handshakes(tools, workdir, RELAYS[relay], sessions, args.handshakes)
                    run["round"] = round_index
                    results.append(run)
                    if args.json_out:
                        with open(args.json_out, "a") as out:
                            out.write(json.dumps(run) + "\n")
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        print_handshake_table(results, relays, args.repeat)
        return 1 if any(r["failed"] for r in results) else 0
    results = []
    try:
        for round_index in range(args.repeat):
            for size in sizes:
                for sessions in sessions_list:
                    messages = args.messages or per_sessions.get(sessions, 2000)
                    messages = max(min(messages, BYTES_PER_RUN_MAX[mode] // size_bytes(size)),
                                   sessions * 2)
                    # Interleaved: each relay's runs spread over the same noise.
                    for relay in relays:
                        log(f"round {round_index + 1}/{args.repeat}: {relay}, {size} x "
                            f"{messages} over {sessions} session(s)")
                        run = run_once(tools, workdir, RELAYS[relay], size, sessions, messages,
                                       args.rate)
                        run["round"] = round_index
                        results.append(run)
                        if args.json_out:
                            with open(args.json_out, "a") as out:
                                out.write(json.dumps(run) + "\n")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print_tables(results, relays, args.repeat)
    status = 0
    for run in results:
        shortfall = tls_shortfall(run)
        if shortfall:
            log(f"{run['relay']} {run['size']} x {run['sessions']}: NOT ALL TLS: {shortfall}")
            status = 1
    lost = sum(max(0, r["accepted"] - r["sink_messages"]) for r in results)
    if lost:
        log(f"{lost} accepted messages never reached the sink")
        status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
