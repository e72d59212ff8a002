"""What a sync could not take in (e.g. a job order whose schedule R4.7 refuses): logged,
and kept for the person who reads the sync's outcome, without failing the sync."""

import logging
from contextlib import contextmanager
from contextvars import ContextVar

log = logging.getLogger("integrations.sync")
_current: ContextVar[list[str] | None] = ContextVar("sync_warnings", default=None)


def warn(message: str) -> None:
    log.warning("sync warning: %s", message)
    collected = _current.get()
    if collected is not None and message not in collected:
        collected.append(message)


@contextmanager
def collecting():
    """The warnings raised inside the block, in order, each once."""
    token = _current.set([])
    try:
        yield _current.get()
    finally:
        _current.reset(token)
