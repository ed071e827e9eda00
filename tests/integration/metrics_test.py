"""Observability end to end: the daemon with --metrics-listen and
--delivery-log relays mail to a python3-aiosmtpd sink that accepts one
recipient, refuses one for good (550) and one for now (451); /metrics is
parsed with Debian's prometheus_client and must count exactly that, the
delivery log must hold one well-formed JSON line per event, bad HTTP
requests get errors without hurting the server, and SIGHUP reopens the log
after it was renamed (logrotate)."""
import json
import os
import re
import shutil
import signal
import smtplib
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from harness import junit
from harness.ringmta_process import RingmtaProcess, binary_path
from harness.smtp_sink import SmtpSink
from harness.util import wait_for_log, write_config

METRICS_ON = re.compile(r"metrics on http://127\.0\.0\.1:(\d+)/metrics")


def metrics_port(mta):
    assert wait_for_log(mta, "metrics on http://"), mta.log()
    return int(METRICS_ON.search(mta.log()).group(1))


def scrape(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        return response.read().decode("utf-8")


def samples(text):
    """{(sample name, frozenset(labels)): value} from a real parser."""
    values = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            values[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return values


def value(values, name, **labels):
    return values[(name, frozenset(labels.items()))]


def wait_until(condition, timeout_s=30):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def log_lines(path):
    if not os.path.exists(path):
        return []
    with open(path, "rb") as handle:
        return [json.loads(line) for line in handle.read().decode("utf-8").splitlines()]


def send(port, sender, recipients, body=b"Subject: m\r\n\r\nhello\r\n"):
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        refused = client.sendmail(sender, recipients, body)
        assert refused == {}, refused


def temp_path(name):
    directory = tempfile.mkdtemp(prefix="ringmta-log-", dir=os.environ.get("TEST_TMPDIR"))
    return os.path.join(directory, name)


def http(port, request, read_timeout_s=10):
    """Sends raw bytes; returns the status code of the answer (or None)."""
    with socket.create_connection(("127.0.0.1", port), timeout=read_timeout_s) as client:
        try:
            client.sendall(request)
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = b""
        try:
            while True:
                chunk = client.recv(4096)
                if not chunk:
                    break
                answer += chunk
        except ConnectionResetError:
            pass
    match = re.match(rb"HTTP/1\.1 (\d{3}) ", answer)
    return int(match.group(1)) if match else None


class CountsMatchWhatHappened(unittest.TestCase):
    def test_metrics_and_delivery_log_agree_with_the_traffic(self):
        log_path = temp_path("delivery.log")
        with SmtpSink() as sink, RingmtaProcess(
                "--smarthost", f"127.0.0.1:{sink.port}", "--metrics-listen", "127.0.0.1:0",
                "--delivery-log", log_path) as mta:
            sink.rcpt_replies["bad@example.org"] = "550 5.1.1 no such user"
            sink.rcpt_replies["later@example.org"] = "451 4.2.0 mailbox busy"
            port = metrics_port(mta)
            send(mta.port, "a@example.com", ["one@example.org"])
            send(mta.port, "a@example.com", ["two@example.org", "bad@example.org"])
            send(mta.port, "a@example.com", ["later@example.org"])
            # one@, two@ and the bounce of bad@ (to a@) arrive; later@ waits
            # for a retry a minute away (delivery.retry_initial_ms).
            self.assertTrue(sink.wait_for(3), mta.log())

            def settled():
                v = samples(scrape(port))
                return (value(v, "ringmta_recipients_delivered_total") == 3 and
                        value(v, "ringmta_recipients_bounced_total") == 1 and
                        value(v, "ringmta_recipients_deferred_total") == 1 and
                        value(v, "ringmta_queue_messages") == 1 and
                        value(v, "ringmta_connections_in") == 0)
            wait_until(settled)
            v = samples(scrape(port))
            self.assertEqual(value(v, "ringmta_messages_received_total"), 3)
            self.assertEqual(value(v, "ringmta_recipients_delivered_total"), 3)
            self.assertEqual(value(v, "ringmta_recipients_bounced_total"), 1)
            self.assertEqual(value(v, "ringmta_recipients_deferred_total"), 1)
            self.assertEqual(value(v, "ringmta_recipients_expired_total"), 0)
            self.assertEqual(value(v, "ringmta_connections_in_total"), 3)
            self.assertEqual(value(v, "ringmta_connections_in_refused_total"), 0)
            self.assertEqual(value(v, "ringmta_connections_in"), 0)
            self.assertGreaterEqual(value(v, "ringmta_connections_out_total"), 1)
            self.assertEqual(value(v, "ringmta_queue_messages"), 1)  # later@'s message
            self.assertGreater(value(v, "ringmta_queue_bytes"), 0)
            self.assertEqual(value(v, "ringmta_delivery_log_dropped_total"), 0)
            fsyncs = value(v, "ringmta_queue_fdatasync_total")
            self.assertGreater(fsyncs, 0)
            # Histograms: one observation per event they measure.
            self.assertEqual(value(v, "ringmta_accept_to_ack_seconds_count"), 3)
            self.assertEqual(value(v, "ringmta_fdatasync_seconds_count"), fsyncs)
            self.assertEqual(value(v, "ringmta_queue_time_seconds_count"), 4)  # final outcomes
            # Four attempts: one@, two@+bad@ (one job), later@, the bounce.
            self.assertEqual(value(v, "ringmta_delivery_seconds_count"), 4)
            self.assertEqual(value(v, "ringmta_accept_to_ack_seconds_bucket", le="+Inf"), 3)
            self.assertGreater(value(v, "ringmta_accept_to_ack_seconds_sum"), 0)
            # The one smart host route has its own label; nothing is "other".
            route = f"smarthost:127.0.0.1:{sink.port}"
            self.assertEqual(value(v, "ringmta_destination_recipients_delivered_total",
                                   destination=route), 3)
            self.assertEqual(value(v, "ringmta_destination_recipients_bounced_total",
                                   destination=route), 1)
            self.assertEqual(value(v, "ringmta_destination_recipients_deferred_total",
                                   destination=route), 1)
            self.assertEqual(value(v, "ringmta_destination_recipients_delivered_total",
                                   destination="other"), 0)

            self.assertTrue(wait_until(lambda: len(log_lines(log_path)) >= 8), log_lines(log_path))
            lines = log_lines(log_path)
            events = [line["event"] for line in lines]
            self.assertEqual(sorted(events), sorted(["received"] * 3 + ["delivered"] * 3 +
                                                    ["bounced", "deferred"]), lines)
            for line in lines:
                self.assertRegex(line["ts"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
                self.assertRegex(line["id"], r"^[0-9A-F]{16}$")
            received = [line for line in lines if line["event"] == "received"]
            self.assertEqual(sorted(line["recipients"] for line in received), [1, 1, 2])
            for line in received:
                self.assertEqual(line["sender"], "a@example.com")
                self.assertEqual(line["client"], "127.0.0.1")
                self.assertGreater(line["size"], 0)
                self.assertIsNone(line["tls"])  # cleartext
                self.assertIsNone(line["auth"])
            bounced = [line for line in lines if line["event"] == "bounced"][0]
            self.assertEqual(bounced["recipient"], "bad@example.org")
            self.assertEqual(bounced["code"], 550)
            self.assertEqual(bounced["status"], "5.1.1")
            self.assertIn("no such user", bounced["response"])
            self.assertEqual(bounced["destination"], route)
            self.assertIn("127.0.0.1", bounced["remote_host"])
            self.assertEqual(bounced["attempt"], 1)
            self.assertGreaterEqual(bounced["delivery_time_ms"], 0)
            self.assertGreaterEqual(bounced["queue_time_ms"], 0)
            deferred = [line for line in lines if line["event"] == "deferred"][0]
            self.assertEqual(deferred["recipient"], "later@example.org")
            self.assertEqual(deferred["code"], 451)
            self.assertEqual(deferred["status"], "4.2.0")
            self.assertIs(deferred["uncertain"], False)
            self.assertIn("retry_at", deferred)
            delivered = sorted(line["recipient"] for line in lines if line["event"] == "delivered")
            self.assertEqual(delivered, ["a@example.com", "one@example.org", "two@example.org"])
            # Every message id that got an outcome was received, except the
            # bounce (queued by ringmta itself, not received over SMTP).
            received_ids = {line["id"] for line in received}
            outcome_ids = {line["id"] for line in lines if line["event"] != "received"}
            self.assertEqual(len(outcome_ids - received_ids), 1)


class BadHttpRequests(unittest.TestCase):
    def test_errors_for_bad_requests_and_the_server_stays_up(self):
        with RingmtaProcess("--metrics-listen", "127.0.0.1:0") as mta:
            port = metrics_port(mta)
            self.assertEqual(http(port, b"GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n"), 404)
            self.assertEqual(http(port, b"POST /metrics HTTP/1.1\r\nHost: x\r\n\r\n"), 405)
            self.assertEqual(http(port, b"\x00\xff garbage\r\n\r\n"), 400)
            self.assertEqual(http(port, b"GET /metrics\r\n\r\n"), 400)
            self.assertEqual(http(port, b"GET /metrics HTTP/1.1\r\nX: " + b"a" * 20000 + b"\r\n\r\n"),
                             431)
            # A client that sends half a request and stalls is cut off.
            self.assertEqual(http(port, b"GET /metrics HTTP/1.1\r\n"), 408)
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics?x=1", timeout=10) as r:
                self.assertEqual(r.status, 200)
            with self.assertRaises(urllib.error.HTTPError) as error:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10)
            self.assertEqual(error.exception.code, 404)
            v = samples(scrape(port))
            self.assertEqual(value(v, "ringmta_messages_received_total"), 0)
            self.assertIsNone(mta.process.poll())


class DeliveryLogRotation(unittest.TestCase):
    def test_sighup_reopens_the_log_after_a_rename(self):
        log_path = temp_path("delivery.log")
        with SmtpSink() as sink, RingmtaProcess(
                "--smarthost", f"127.0.0.1:{sink.port}", "--delivery-log", log_path) as mta:
            send(mta.port, "a@example.com", ["first@example.org"])
            self.assertTrue(sink.wait_for(1), mta.log())
            self.assertTrue(wait_until(lambda: len(log_lines(log_path)) >= 2))
            os.rename(log_path, log_path + ".1")
            mta.process.send_signal(signal.SIGHUP)
            self.assertTrue(wait_for_log(mta, "SIGHUP"), mta.log())
            send(mta.port, "a@example.com", ["second@example.org"])
            self.assertTrue(sink.wait_for(2), mta.log())
            self.assertTrue(wait_until(lambda: len(log_lines(log_path)) >= 2), mta.log())
            new = log_lines(log_path)
            old = log_lines(log_path + ".1")
            self.assertEqual(sorted(line["event"] for line in new), ["delivered", "received"])
            self.assertEqual([line["recipient"] for line in new if line["event"] == "delivered"],
                             ["second@example.org"])
            self.assertEqual([line["recipient"] for line in old if line["event"] == "delivered"],
                             ["first@example.org"])


class Configuration(unittest.TestCase):
    def test_non_loopback_metrics_address_is_refused_unless_allowed(self):
        refused = write_config('[admin]\nmetrics_listen = "0.0.0.0:9100"\n')
        result = subprocess.run([binary_path(), "--check-config", refused],
                                capture_output=True, text=True, timeout=30)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("admin.metrics_listen", result.stdout + result.stderr)
        allowed = write_config('[admin]\nmetrics_listen = "0.0.0.0:9100"\n'
                               'metrics_allow_non_loopback = true\n')
        result = subprocess.run([binary_path(), "--check-config", allowed],
                                capture_output=True, text=True, timeout=30)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def test_unwritable_delivery_log_stops_the_start_with_a_clear_error(self):
        path = os.path.join(temp_path("missing-dir"), "delivery.log")
        spool = temp_path("spool")
        result = subprocess.run([binary_path(), "--listen", "127.0.0.1:0", "--shards", "1",
                                 "--spool", spool, "--delivery-log", path],
                                capture_output=True, text=True, timeout=30)
        shutil.rmtree(spool, ignore_errors=True)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("open delivery log " + path, result.stderr)
        self.assertNotIn("listening on", result.stderr)

if __name__ == "__main__":
    junit.main()
