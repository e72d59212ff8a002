"""The conditional alarms' conditions computed on a thread of their own while the reconciler
writes (issue 17).

Raising alarms on a bad day is Python (the checklists) and PostgreSQL (the writes) in turns,
on one connection: while a batch's INSERTs run, the evaluating process waits. A rule that only
reads what the evaluation never writes (assets, schedules, backups, appliances, thresholds:
`alerts.due.ASSET_KINDS`) can compute its next conditions meanwhile, on a connection of its own;
the GIL is free while the writer waits on the database. The conditions are the same: each of the
rule's statements sees what is committed, as it would inside the evaluation's transaction, which
holds nothing the rule reads. At most `depth` batches wait, so memory stays one batch's.

A thread's connection does not see what the caller has not committed, so this is for large
evaluations only (EVALUATION_READ_AHEAD_FROM subjects): a small one gains nothing from it.
"""

import queue
import threading

from django.db import connection

from alerts.set_writes import batched

_DONE = object()


class _Failed:
    def __init__(self, error):
        self.error = error


def read_ahead(iterable, batch_size=500, depth=4):
    """The items of `iterable`, in order, computed on another thread (with its own database
    connection, closed when it ends) at most `depth` batches ahead of the caller. An error in
    the iterable is raised here; a caller that stops early stops the thread."""
    waiting = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def hand_over(item) -> bool:
        while not stop.is_set():
            try:
                waiting.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce():
        try:
            for batch in batched(iterable, batch_size):
                if not hand_over(batch):
                    return
            hand_over(_DONE)
        except BaseException as error:  # noqa: BLE001 - handed to the caller, which raises it
            hand_over(_Failed(error))
        finally:
            connection.close()

    thread = threading.Thread(target=produce, name="uniview-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            batch = waiting.get()
            if batch is _DONE:
                return
            if isinstance(batch, _Failed):
                raise batch.error
            yield from batch
    finally:
        stop.set()
        thread.join()
