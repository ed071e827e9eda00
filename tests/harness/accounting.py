"""Message accounting for fault and soak tests: after any fault, every
message the client got a 250 for is delivered, bounced, expired or still
queued; nothing vanishes.

Each message carries a marker ("acct-<run>-<number>-end") in its Subject and
body, so a copy at the sink, or a DSN quoting the headers, names the message
it stands for. Tests send one recipient per message, so messages and
recipients count the same.

    ledger = Ledger()
    send_numbered(port, ledger, range(10))   # fills ledger.acked
    report = ledger.account(sink.messages, queued=queued_messages(spool))
    report.check(self)                        # asserts the books balance
"""
import os
import re
import subprocess
import uuid

_MARKER = re.compile(rb"acct-([0-9a-f]{8})-(\d+)-end")
_FINAL_RECIPIENT = re.compile(rb"^Final-Recipient:\s*rfc822;\s*<?([^\s>]+)",
                              re.MULTILINE | re.IGNORECASE)
_STATUS = re.compile(rb"^Status:\s*([245]\.\d+\.\d+)", re.MULTILINE | re.IGNORECASE)
_QUEUE_DUMP_TOTAL = re.compile(r"^shard \d+: \d+ segments, \d+ records, (\d+) messages",
                               re.MULTILINE)


def queue_dump_path():
    """tools/queue_dump in the test's runfiles (or $RINGMTA_QUEUE_DUMP)."""
    if os.environ.get("RINGMTA_QUEUE_DUMP"):
        return os.environ["RINGMTA_QUEUE_DUMP"]
    for root in (os.environ.get("TEST_SRCDIR", ""), os.getcwd()):
        for candidate in ("ringmta/tools/queue_dump/queue_dump", "tools/queue_dump/queue_dump",
                          "_main/tools/queue_dump/queue_dump",
                          "bazel-bin/tools/queue_dump/queue_dump"):
            path = os.path.join(root, candidate)
            if os.path.exists(path):
                return path
    raise FileNotFoundError("queue_dump not found (add //tools/queue_dump to the test's data)")


def queued_messages(spool, run=None):
    """Messages still queued in a stopped daemon's spool, per tools/queue_dump
    (read-only). `run` wraps the command (e.g. nsenter into a mount
    namespace). Raises if the dump finds damage or fails."""
    command = [queue_dump_path(), spool]
    if run:
        command = run(command)
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if result.returncode != 0:
        raise AssertionError(f"queue_dump exit {result.returncode}:\n"
                             f"{result.stdout}{result.stderr}")
    totals = _QUEUE_DUMP_TOTAL.findall(result.stdout)
    if result.stdout.count("\nshard ") + result.stdout.startswith("shard ") != 2 * len(totals):
        raise AssertionError(f"cannot read queue_dump's totals:\n{result.stdout}")
    return sum(int(total) for total in totals)


class Report:
    """What became of the acknowledged messages (sets of message numbers)."""

    def __init__(self, acked, delivered, bounced, expired, queued, duplicates):
        self.received = len(acked)
        self.delivered = delivered & acked
        self.bounced = bounced & acked      # a DSN reporting failure (not 4.4.7)
        self.expired = expired & acked      # a DSN with status 4.4.7
        self.queued = queued                # count from queue_dump; None: not looked
        self.duplicates = duplicates        # extra copies at the sink
        # Arrived though the client saw no 250 (the daemon died between its
        # commit and the reply): allowed, reported.
        self.unacked_arrivals = (delivered | bounced | expired) - acked
        self.missing = acked - delivered - bounced - expired

    def summary(self):
        return (f"received={self.received} delivered={len(self.delivered)} "
                f"bounced={len(self.bounced)} expired={len(self.expired)} queued={self.queued} "
                f"duplicates={self.duplicates} unacked_arrivals={len(self.unacked_arrivals)} "
                f"unaccounted={len(self.missing)}")

    def check(self, test, allow_duplicates=False, context=""):
        """received = delivered + bounced + expired + queued, no message both
        delivered and bounced; duplicates fail unless allowed (a crash
        between a delivery and its durable record may repeat it)."""
        test.assertEqual(self.delivered & (self.bounced | self.expired), set(),
                         f"delivered and bounced both: {self.summary()}\n{context}")
        test.assertEqual(len(self.missing), self.queued or 0,
                         f"acknowledged but neither delivered, bounced nor queued: "
                         f"{sorted(self.missing)[:20]}; {self.summary()}\n{context}")
        test.assertEqual(self.received, len(self.delivered) + len(self.bounced - self.delivered) +
                         len(self.expired - self.delivered) + (self.queued or 0),
                         f"{self.summary()}\n{context}")
        if not allow_duplicates:
            test.assertEqual(self.duplicates, 0, f"{self.summary()}\n{context}")


class Ledger:
    """The messages one test sends and which of them the client got 250 for."""

    def __init__(self, sender="sender@client.test"):
        self.run = uuid.uuid4().hex[:8]
        self.sender = sender
        self.acked = set()
        self.recipients = {}  # number -> the address it was sent to

    def marker(self, number):
        return f"acct-{self.run}-{number}-end"

    def message(self, number, body_bytes=0):
        """A message whose Subject and body carry its marker, padded with
        lines of text to about `body_bytes`."""
        marker = self.marker(number)
        head = (f"From: <{self.sender}>\r\nTo: <rcpt{number}@example.org>\r\n"
                f"Subject: {marker}\r\nMessage-ID: <{marker}@client.test>\r\n"
                f"Date: Sat, 28 Nov 2026 12:00:00 +0000\r\n\r\n{marker}\r\n").encode()
        line = b"0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz\r\n"
        return head + line * max(0, (body_bytes - len(head)) // len(line))

    def numbers_in(self, data):
        return [int(number) for run, number in _MARKER.findall(data)
                if run.decode() == self.run]

    def account(self, arrivals, queued=None):
        """`arrivals`: (mail_from, [rcpt], data) as the sinks record them.
        Originals are counted as delivered; DSNs (null sender, to our
        sender) as bounced or, with status 4.4.7, expired."""
        delivered_copies = []
        bounced, expired = set(), set()
        by_recipient = {address.lower(): number for number, address in self.recipients.items()}
        for mail_from, _, data in arrivals:
            numbers = self.numbers_in(data)
            if mail_from in ("", "<>"):
                # A DSN names the message by the headers it returns and by
                # its Final-Recipient field (one recipient per message here).
                for address in _FINAL_RECIPIENT.findall(data):
                    number = by_recipient.get(address.decode("utf-8", "replace").lower())
                    if number is not None and number not in numbers:
                        numbers.append(number)
            if not numbers:
                continue
            if mail_from in ("", "<>"):
                statuses = _STATUS.findall(data)
                failed = [status for status in statuses if status.startswith(b"5")]
                if any(status == b"4.4.7" for status in statuses):
                    expired.add(numbers[0])
                elif failed:
                    bounced.add(numbers[0])
                # A "delayed" DSN (4.x.x other than 4.4.7) is only a warning.
            else:
                delivered_copies.append(numbers[0])
        delivered = set(delivered_copies)
        return Report(set(self.acked), delivered, bounced, expired, queued,
                      len(delivered_copies) - len(delivered))


def send_numbered(port, ledger, numbers, recipient=lambda n: f"rcpt{n}@example.org",
                  body_bytes=0, timeout_s=60):
    """Sends each numbered message in one smtplib session (reconnecting
    after a failure) and adds the numbers that got 250 to ledger.acked.
    Returns {number: reply or error text} for those that did not."""
    import smtplib
    refused = {}
    client = None
    for number in numbers:
        ledger.recipients[number] = recipient(number)
        try:
            if client is None:
                client = smtplib.SMTP("127.0.0.1", port, timeout=timeout_s)
            client.sendmail(ledger.sender, [recipient(number)],
                            ledger.message(number, body_bytes))
            ledger.acked.add(number)
        except smtplib.SMTPResponseException as error:
            refused[number] = f"{error.smtp_code} {error.smtp_error!r}"
        except (smtplib.SMTPException, OSError) as error:
            refused[number] = repr(error)
            client = None
    if client is not None:
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            pass
    return refused
