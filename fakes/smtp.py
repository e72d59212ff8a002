"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives.

Knobs, in the words of fakes.base: `server_error(times=None)` answers messages with
451 (try again later: every message, or the next `times`); `server_error(0)` or `heal()` off.
`hold()` keeps each message waiting after its data arrived, before the answer, until `release()`:
a client that dies meanwhile never hears 250, and the message is not kept (`arrived` counts the
messages that reached that point).
"""

import asyncio
import email
import email.policy
import socket
import threading

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self):
        self.messages = []
        self.errors = 0  # answer this many messages with 451; -1: every message
        self.lock = threading.Lock()
        self.released = threading.Event()
        self.released.set()
        self.arrived = 0

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.arrived += 1
        while not self.released.is_set():  # cancelled when the client goes away
            await asyncio.sleep(0.05)
        if server.transport is None or server.transport.is_closing():
            return "451 4.4.2 Connection lost"  # nobody hears it: the message is not kept
        with self.lock:
            if self.errors:
                self.errors -= self.errors > 0
                return "451 4.3.0 Mail server temporarily unavailable"
            self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


class SmtpFake:
    def __init__(self, port=None):
        self.sink = Sink()
        self.port = port or free_port()
        self.controller = Controller(self.sink, hostname="127.0.0.1", port=self.port)

    def start(self):
        self.controller.start()
        return self

    def stop(self):
        self.release()
        self.controller.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def server_error(self, times=None):
        with self.sink.lock:
            self.sink.errors = -1 if times is None else times
        return self

    def hold(self):
        self.sink.released.clear()
        return self

    def release(self):
        self.sink.released.set()
        return self

    @property
    def arrived(self) -> int:
        return self.sink.arrived

    def heal(self):
        return self.server_error(0)

    @property
    def messages(self):
        return list(self.sink.messages)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
