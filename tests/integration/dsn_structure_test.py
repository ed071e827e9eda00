"""Our DSNs, read by a MIME parser no one here wrote: Python's email package
parses each scenario that mta/relay:dsn_sample prints and checks the RFC 6522
multipart/report shape, the RFC 3464 delivery-status fields and the
returned headers or message."""
import email
import email.parser
import email.policy
import os
import subprocess
import unittest

from harness import junit

POLICY = email.policy.default


def sample_path():
    """Finds dsn_sample in the test's runfiles (Bazel) or via DSN_SAMPLE."""
    if os.environ.get("DSN_SAMPLE"):
        return os.environ["DSN_SAMPLE"]
    for root in (os.environ.get("TEST_SRCDIR", ""), os.getcwd()):
        for candidate in ("ringmta/mta/relay/dsn_sample", "mta/relay/dsn_sample"):
            path = os.path.join(root, candidate)
            if os.path.exists(path):
                return path
    raise FileNotFoundError("dsn_sample not found in runfiles")


def generate(scenario):
    raw = subprocess.run([sample_path(), scenario], check=True, capture_output=True,
                         timeout=30).stdout
    return raw, email.message_from_bytes(raw, policy=POLICY)


def status_blocks(part, raw):
    """The per-message block, then one block per recipient (RFC 3464 §2.1)."""
    if part.get_content_type() == "message/delivery-status":
        return part.get_payload()
    # Python treats message/global-delivery-status as one embedded message
    # and does not decode its UTF-8, so take the part's octets from the raw
    # message (second part) and parse each block as UTF-8 header fields.
    return parse_global_blocks(raw)


def parse_global_blocks(raw):
    top = email.message_from_bytes(raw, policy=POLICY)
    delimiter = b"\r\n--" + top.get_boundary().encode("ascii")
    second = raw.split(delimiter)[2]
    body = second.split(b"\r\n\r\n", 1)[1].decode("utf-8")
    parser = email.parser.Parser(policy=POLICY)
    return [parser.parsestr(text + "\n", headersonly=True)
            for text in body.replace("\r\n", "\n").split("\n\n") if text.strip()]


class DsnStructure(unittest.TestCase):
    def check_report(self, scenario, returned_type, report_type="delivery-status"):
        raw, message = generate(scenario)
        self.assertNotIn(b"\n", raw.replace(b"\r\n", b""), "every line ends in CRLF")
        self.assertTrue(all(len(line) <= 998 for line in raw.split(b"\r\n")))
        self.assertEqual(message.get_content_type(), "multipart/report")
        self.assertEqual(message.get_param("report-type"), report_type)
        self.assertEqual(message["Auto-Submitted"], "auto-replied")
        self.assertTrue(message["From"].addresses[0].username.upper() == "MAILER-DAEMON")
        self.assertEqual(message.defects, [])
        parts = list(message.iter_parts())
        self.assertEqual(len(parts), 3)
        self.assertEqual(parts[0].get_content_type(), "text/plain")
        expected_status = ("message/global-delivery-status" if report_type.startswith("global")
                           else "message/delivery-status")
        self.assertEqual(parts[1].get_content_type(), expected_status)
        self.assertEqual(parts[2].get_content_type(), returned_type)
        for part in parts:
            self.assertEqual(part.defects, [])
        blocks = status_blocks(parts[1], raw)
        self.assertEqual(blocks[0]["Reporting-MTA"], "dns; relay.test")
        self.raw = raw
        return message, parts, blocks[1:]

    def returned_subject(self, part):
        if part.get_content_type() in ("message/rfc822", "message/global",
                                       "message/global-headers"):
            return part.get_payload(0)["Subject"]
        headers = email.parser.Parser(policy=POLICY).parsestr(part.get_content())
        return headers["Subject"]

    def test_failed_returns_headers(self):
        message, parts, recipients = self.check_report("failed_headers", "text/rfc822-headers")
        self.assertEqual(message["Subject"], "Undelivered Mail Returned to Sender")
        self.assertEqual(len(recipients), 1)
        self.assertEqual(recipients[0]["Action"], "failed")
        self.assertEqual(recipients[0]["Status"], "5.1.1")
        self.assertEqual(recipients[0]["Final-Recipient"], "rfc822;bob@example.net")
        self.assertEqual(recipients[0]["Original-Recipient"], "rfc822;bob+figures@example.net")
        self.assertTrue(recipients[0]["Diagnostic-Code"].startswith("smtp; 550 5.1.1"))
        self.assertEqual(self.returned_subject(parts[2]), "Quarterly figures")

    def test_envid_is_echoed(self):
        _, parts, _ = self.check_report("failed_headers", "text/rfc822-headers")
        self.assertEqual(status_blocks(parts[1], self.raw)[0]["Original-Envelope-Id"],
                         "QQ314159")

    def test_failed_full_returns_the_message(self):
        _, parts, recipients = self.check_report("failed_full", "message/rfc822")
        self.assertEqual(recipients[0]["Action"], "failed")
        self.assertEqual(self.returned_subject(parts[2]), "Quarterly figures")
        self.assertIn("figures are attached", parts[2].get_payload(0).get_content())

    def test_full_over_cap_returns_headers(self):
        _, parts, _ = self.check_report("full_over_cap", "text/rfc822-headers")
        self.assertEqual(self.returned_subject(parts[2]), "Quarterly figures")
        self.assertIn("only its headers", parts[0].get_content())

    def test_delayed(self):
        message, parts, recipients = self.check_report("delayed", "text/rfc822-headers")
        self.assertEqual(message["Subject"], "Delayed Mail (still being retried)")
        self.assertEqual(recipients[0]["Action"], "delayed")
        self.assertEqual(recipients[0]["Status"], "4.4.1")
        self.assertIsNotNone(recipients[0]["Will-Retry-Until"])
        self.assertEqual(self.returned_subject(parts[2]), "Quarterly figures")

    def test_delivered(self):
        message, _, recipients = self.check_report("delivered", "text/rfc822-headers")
        self.assertEqual(message["Subject"], "Successful Mail Delivery Report")
        self.assertEqual(recipients[0]["Action"], "delivered")
        self.assertEqual(recipients[0]["Status"], "2.0.0")

    def test_mixed_recipients_share_one_report(self):
        _, parts, recipients = self.check_report("mixed", "text/rfc822-headers")
        found = [(r["Final-Recipient"], r["Action"], r["Status"]) for r in recipients]
        self.assertEqual(found, [("rfc822;one@example.net", "failed", "5.1.1"),
                                 ("rfc822;two@example.net", "delayed", "4.4.1"),
                                 ("rfc822;three@example.net", "delivered", "2.0.0")])
        self.assertNotIn("never@example.net", parts[1].as_string())
        self.assertEqual(self.returned_subject(parts[2]), "Quarterly figures")

    def test_hostile_diagnostic_stays_inside_its_field(self):
        _, parts, recipients = self.check_report("hostile", "text/rfc822-headers")
        self.assertEqual(len(recipients), 1)
        self.assertEqual(recipients[0]["Action"], "failed")
        self.assertEqual(recipients[0]["Status"], "5.1.1")
        self.assertIn("text/html", recipients[0]["Diagnostic-Code"])
        self.assertEqual(self.returned_subject(parts[2]), "Quarterly figures")

    def test_smtputf8_uses_the_global_form(self):
        _, parts, recipients = self.check_report("smtputf8", "message/global-headers",
                                                 report_type="global-delivery-status")
        self.assertEqual(recipients[0]["Action"], "failed")
        self.assertEqual(recipients[0]["Final-Recipient"], "utf-8;ma\u00eft\u00e9@example.fr")
        self.assertEqual(self.returned_subject(parts[2]), "Quarterly figures")


if __name__ == "__main__":
    junit.main()
