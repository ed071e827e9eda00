"""What the fault tests share: a daemon on a spool the test keeps (so
tools/queue_dump can read it after the stop), fast retries, and the closing
books: stop, count what is still queued, check the accounting."""
import os
import shutil
import tempfile
import time

from harness.accounting import queued_messages
from harness.ringmta_process import RingmtaProcess
from harness.util import wait_for_log, write_config  # noqa: F401 (re-exported)

FAST_RETRY = """
[delivery]
retry_initial_ms = 200
retry_max_ms = 400
idle_timeout_ms = 500
"""


def new_spool():
    return tempfile.mkdtemp(prefix="ringmta-fault-spool-", dir=os.environ.get("TEST_TMPDIR"))


def daemon(spool, *extra, config_text=FAST_RETRY, shards=2):
    return RingmtaProcess("--config", write_config(config_text), *extra, spool=spool, shards=shards)


def wait_until_settled(ledger, arrivals, timeout_s=60):
    """Waits until every acknowledged message is delivered or bounced at the
    sink (bounded); returns the last report."""
    deadline = time.monotonic() + timeout_s
    while True:
        report = ledger.account(arrivals())
        if not report.missing or time.monotonic() > deadline:
            return report
        time.sleep(0.1)


def close_books(test, mta, ledger, arrivals, allow_duplicates=False, name=""):
    """Stops the daemon (SIGTERM), counts the spool's queued messages with
    tools/queue_dump, and checks received = delivered + bounced + expired +
    queued. Prints the figures; returns the report."""
    time.sleep(0.3)  # room for a wrong extra copy to arrive before the count
    code = mta.stop()
    test.assertEqual(code, 0, mta.log()[-3000:])
    queued = queued_messages(mta.spool)
    report = ledger.account(arrivals(), queued=queued)
    print(f"accounting {name}: {report.summary()}")
    report.check(test, allow_duplicates=allow_duplicates, context=mta.log()[-4000:])
    return report


def remove_spool(spool):
    shutil.rmtree(spool, ignore_errors=True)
