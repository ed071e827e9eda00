"""An aiosmtpd sink that misbehaves on purpose, for fault and soak tests:
it defers a fraction of messages (451 after the body), answers some slowly
(the DATA reply waits), and refuses recipients whose local part starts with
"bounce" (550 at RCPT, so ringmta bounces them to the sender). Decisions come
from a seeded random.Random, so a run is repeatable.

Counts what it did: `deferred`, `slowed`, `refused`; `messages` holds what
it accepted, as in SmtpSink.
"""
import asyncio
import random

from harness.smtp_sink import SmtpSink, _Handler


class _FlakyHandler(_Handler):
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        sink = self.sink
        if address.split("@", 1)[0].startswith("bounce"):
            with sink.lock:
                sink.refused += 1
            return "550 5.1.1 no such user here"
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)

    async def handle_DATA(self, server, session, envelope):
        sink = self.sink
        with sink.lock:
            roll = sink.random.random()
            slow = sink.random.random() < sink.slow_fraction
        if slow:
            with sink.lock:
                sink.slowed += 1
            await asyncio.sleep(sink.slow_s)
        if roll < sink.defer_fraction:
            with sink.lock:
                sink.deferred += 1
            return "451 4.3.0 not now, try again later"
        return await super().handle_DATA(server, session, envelope)


class FlakySink(SmtpSink):
    def __init__(self, defer_fraction=0.0, slow_fraction=0.0, slow_s=0.0, seed=8):
        super().__init__()
        self.defer_fraction = defer_fraction
        self.slow_fraction = slow_fraction
        self.slow_s = slow_s
        self.random = random.Random(seed)
        self.deferred = 0
        self.slowed = 0
        self.refused = 0
        self._controller.handler = _FlakyHandler(self)
