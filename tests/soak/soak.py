#!/usr/bin/python3
"""Soak (issue 8): minutes of mixed load through ringmta into a sink that
defers a share of messages (451), answers some slowly and refuses a few
recipients (bounces). Not part of `bazel test`; run it on purpose:

    bazel build --disk_cache=$HOME/.cache/ringmta-bazel //mta/daemon:ringmta //tools/queue_dump
    /usr/bin/python3 tests/soak/soak.py --minutes 10      # from the repository root

It samples the daemon's RSS (VmRSS) and open file descriptors
(/proc/PID/fd) every few seconds, then stops the load and checks that the
queue drains, that nothing is lost (received = delivered + bounced + expired
+ queued, queued from tools/queue_dump after the stop), that the descriptors
return to their baseline once idle, and that RSS does not keep growing
(bounded by a generous factor). Prints the figures; exits 1 on a failure.
"""
import argparse
import os
import random
import shutil
import smtplib
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # tests/, for harness

from harness.accounting import Ledger, queued_messages  # noqa: E402
from harness.flaky_sink import FlakySink  # noqa: E402
from harness.ringmta_process import RingmtaProcess  # noqa: E402
from harness.util import write_config  # noqa: E402

SIZES = [(0.70, 1024), (0.20, 10 * 1024), (0.09, 100 * 1024), (0.01, 1024 * 1024)]
BOUNCE_SHARE = 0.01
CONFIG = """
[delivery]
retry_initial_ms = 1000
retry_max_ms = 4000
idle_timeout_ms = 2000
"""
MIB = 1024 * 1024


def find_built(relative):
    """bazel-bin/<relative> under the repository root, if built."""
    root = os.path.dirname(os.path.dirname(HERE))
    path = os.path.join(root, "bazel-bin", relative)
    return path if os.path.exists(path) else None


class Load:
    """`senders` threads, each sending sessions of up to 20 messages, paced
    so that all together send about `rate` messages per second."""

    def __init__(self, port, ledger, senders, rate, seed):
        self.port = port
        self.ledger = ledger
        self.senders = senders
        self.interval_s = senders / rate
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.next_number = 0
        self.refused = 0
        self.errors = 0
        self.seed = seed

    def take_number(self):
        with self.lock:
            self.next_number += 1
            return self.next_number

    def run(self, index):
        rng = random.Random(self.seed * 1000 + index)
        next_at = time.monotonic()
        while not self.stop.is_set():
            try:
                with smtplib.SMTP("127.0.0.1", self.port, timeout=60) as client:
                    for _ in range(rng.randint(1, 20)):
                        if self.stop.is_set():
                            break
                        next_at += self.interval_s
                        time.sleep(max(0.0, next_at - time.monotonic()))
                        self.send_one(client, rng)
            except (OSError, smtplib.SMTPException):
                with self.lock:
                    self.errors += 1
                time.sleep(0.5)

    def send_one(self, client, rng):
        number = self.take_number()
        roll, size = rng.random(), SIZES[-1][1]
        for share, candidate in SIZES:
            if roll < share:
                size = candidate
                break
            roll -= share
        local = "bounce" if rng.random() < BOUNCE_SHARE else "rcpt"
        recipient = f"{local}{number}@example.org"
        with self.lock:
            self.ledger.recipients[number] = recipient
        try:
            client.sendmail(self.ledger.sender, [recipient], self.ledger.message(number, size))
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError,
                smtplib.SMTPSenderRefused):
            with self.lock:
                self.refused += 1
            return
        with self.lock:
            self.ledger.acked.add(number)


def sample(pid):
    with open(f"/proc/{pid}/status") as handle:
        rss_kib = next(int(line.split()[1]) for line in handle if line.startswith("VmRSS:"))
    return rss_kib * 1024, len(os.listdir(f"/proc/{pid}/fd"))


def fd_targets(pid):
    targets = []
    for name in os.listdir(f"/proc/{pid}/fd"):
        try:
            targets.append(os.readlink(f"/proc/{pid}/fd/{name}"))
        except OSError:
            pass
    return sorted(targets)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="load duration (default 10)")
    parser.add_argument("--rate", type=float, default=40.0, help="messages per second (40)")
    parser.add_argument("--senders", type=int, default=4, help="client threads (4)")
    parser.add_argument("--shards", type=int, default=2)
    parser.add_argument("--sample-seconds", type=float, default=5.0)
    parser.add_argument("--defer", type=float, default=0.15, help="share the sink defers (451)")
    parser.add_argument("--slow", type=float, default=0.10, help="share answered slowly")
    parser.add_argument("--slow-seconds", type=float, default=1.0)
    parser.add_argument("--drain-timeout", type=float, default=180.0)
    parser.add_argument("--rss-factor", type=float, default=1.5,
                        help="late RSS may be at most this times the early RSS, plus 16 MiB")
    parser.add_argument("--seed", type=int, default=8)
    args = parser.parse_args()

    if "RINGMTA_BINARY" not in os.environ and find_built("mta/daemon/ringmta"):
        os.environ["RINGMTA_BINARY"] = find_built("mta/daemon/ringmta")
    if "RINGMTA_QUEUE_DUMP" not in os.environ and find_built("tools/queue_dump/queue_dump"):
        os.environ["RINGMTA_QUEUE_DUMP"] = find_built("tools/queue_dump/queue_dump")

    spool = tempfile.mkdtemp(prefix="ringmta-soak-spool-")
    ledger = Ledger()
    samples = []  # (seconds since start, rss bytes, fds, delivered so far)
    failures = []
    started = time.monotonic()
    with FlakySink(defer_fraction=args.defer, slow_fraction=args.slow,
                   slow_s=args.slow_seconds, seed=args.seed) as sink:
        mta = RingmtaProcess("--config", write_config(CONFIG), "--smarthost",
                             f"127.0.0.1:{sink.port}", shards=args.shards, spool=spool)
        with mta:
            pid = mta.process.pid
            # Warm-up: a few messages through each shard, so the baseline
            # holds what the daemon keeps open once it has delivered (the
            # segment files delivery reads from), then idle past
            # delivery.idle_timeout_ms.
            warm = Ledger()
            for session in range(4 * args.shards):  # connections spread over the shards
                with smtplib.SMTP("127.0.0.1", mta.port, timeout=60) as client:
                    for number in range(5):
                        local = "bounce.warm" if number == 0 else "warm"
                        client.sendmail(warm.sender, [f"{local}@example.org"],
                                        warm.message(session * 5 + number))
            time.sleep(6)
            baseline_rss, baseline_fds = sample(pid)
            baseline_targets = fd_targets(pid)
            load = Load(mta.port, ledger, args.senders, args.rate, args.seed)
            threads = [threading.Thread(target=load.run, args=(i,), daemon=True)
                       for i in range(args.senders)]
            for thread in threads:
                thread.start()
            load_started = time.monotonic()
            end = load_started + args.minutes * 60
            while time.monotonic() < end:
                time.sleep(min(args.sample_seconds, max(0.0, end - time.monotonic())))
                rss, fds = sample(pid)
                with sink.lock:
                    arrived = len(sink.messages)
                samples.append((time.monotonic() - load_started, rss, fds, arrived))
                print(f"  t={samples[-1][0]:6.0f}s rss={rss / MIB:7.1f} MiB fds={fds:4d} "
                      f"acked={len(ledger.acked):6d} arrived={arrived:6d} "
                      f"deferred_by_sink={sink.deferred}", flush=True)
            load.stop.set()
            for thread in threads:
                thread.join(90)
            load_seconds = time.monotonic() - load_started
            # Drain: every acknowledged message delivered or bounced.
            drain_started = time.monotonic()
            while time.monotonic() - drain_started < args.drain_timeout:
                with sink.lock:
                    arrivals = list(sink.messages)
                if not ledger.account(arrivals).missing:
                    break
                time.sleep(0.5)
            drain_seconds = time.monotonic() - drain_started
            time.sleep(4)  # past delivery.idle_timeout_ms: outbound connections close
            rest_rss, rest_fds = sample(pid)
            rest_targets = fd_targets(pid)
            code = mta.stop()
            if code != 0:
                failures.append(f"daemon exit code {code}")
        queued = queued_messages(spool)
        with sink.lock:
            arrivals = list(sink.messages)
            sink_counts = (sink.deferred, sink.slowed, sink.refused, sink.connections)
    report = ledger.account(arrivals, queued=queued)

    quarter = max(1, len(samples) // 4)
    early_rss = max(rss for _, rss, _, _ in samples[:quarter]) if samples else 0
    late_rss = max(rss for _, rss, _, _ in samples[-quarter:]) if samples else 0
    max_rss = max([rss for _, rss, _, _ in samples] + [rest_rss])
    max_fds = max([fds for _, _, fds, _ in samples] + [rest_fds])
    print(f"soak: {args.minutes:g} min of load at {args.rate:g} msg/s from {args.senders} "
          f"senders, {args.shards} shards; sink deferred {sink_counts[0]}, slowed "
          f"{sink_counts[1]}, refused {sink_counts[2]} recipients over {sink_counts[3]} "
          f"connections")
    print(f"soak: load {load_seconds:.0f} s, drained {drain_seconds:.1f} s after the load; "
          f"{report.received / load_seconds:.1f} msg/s acknowledged; client saw "
          f"{load.refused} refusals, {load.errors} session errors")
    print(f"soak: accounting {report.summary()}")
    print(f"soak: RSS MiB baseline {baseline_rss / MIB:.1f}, first {samples[0][1] / MIB:.1f}, "
          f"early max {early_rss / MIB:.1f}, late max {late_rss / MIB:.1f}, max "
          f"{max_rss / MIB:.1f}, at rest after {rest_rss / MIB:.1f}")
    print(f"soak: fds baseline {baseline_fds}, first {samples[0][2]}, last under load "
          f"{samples[-1][2]}, max {max_fds}, at rest after {rest_fds} (segment files: "
          f"{sum(t.endswith('.seg') for t in baseline_targets)} at baseline, "
          f"{sum(t.endswith('.seg') for t in rest_targets)} at rest)")

    if report.missing:
        failures.append(f"unaccounted messages: {sorted(report.missing)[:20]}")
    if queued:
        failures.append(f"{queued} messages still queued after the drain")
    if report.duplicates:
        failures.append(f"{report.duplicates} duplicate deliveries")
    if report.delivered & report.bounced:
        failures.append("messages both delivered and bounced")
    # Segment files are opened for writing and, lazily, for reading (by
    # delivery and by bounces): those may differ from the baseline, bounded
    # by three per segment file on disk and never a deleted file. Every other descriptor (sockets, io_uring, eventfds, logs) must
    # be back at the baseline.
    base_other = [t for t in baseline_targets if not t.endswith(".seg")]
    rest_other = [t for t in rest_targets if not t.endswith(".seg")]
    rest_segments = [t for t in rest_targets if ".seg" in t]
    if len(rest_other) > len(base_other):
        extra = list(rest_other)
        for target in base_other:
            if target in extra:
                extra.remove(target)
        failures.append(f"non-segment fds at rest {len(rest_other)} > baseline "
                        f"{len(base_other)}: {extra}")
    deleted = [t for t in rest_targets if t.endswith("(deleted)")]
    if deleted:
        failures.append(f"descriptors of deleted files held: {deleted}")
    for target in set(rest_segments):
        if rest_segments.count(target) > 3:
            failures.append(f"{rest_segments.count(target)} descriptors of {target}")
    if late_rss > args.rss_factor * early_rss + 16 * MIB:
        failures.append(f"RSS grew: late max {late_rss / MIB:.1f} MiB vs early max "
                        f"{early_rss / MIB:.1f} MiB")
    if report.received == 0:
        failures.append("no message was acknowledged")
    for failure in failures:
        print(f"soak: FAIL {failure}")
    print("soak: PASS" if not failures else "soak: FAILED")
    if failures:
        log_path = spool.rstrip("/") + ".log"
        with open(log_path, "w") as handle:
            handle.write(mta.log())
        print(f"soak: kept the spool {spool} and the daemon's log {log_path}")
    else:
        shutil.rmtree(spool, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
