"""Where a delivery's CPU goes: `outbox.deliver_batch` run in this process under cProfile,
with every query counted (the hot spots named in bench/RESULTS_fanout.md).

    python -m bench.fanout_profile email [N]   # to a counting SMTP sink in another process
    python -m bench.fanout_profile psa [N]     # to a fake ConnectWise answering in 50 ms

One sending thread (DELIVERY_THREADS=1), so the profile sees every send; the first batch
warms up (imports, templates, URL resolver) and is left out. Prints the CPU per delivery,
the queries by statement and the functions by their own time.
"""

import collections
import cProfile
import os
import pstats
import subprocess
import sys
import time
from datetime import UTC, datetime

os.environ["DELIVERY_THREADS"] = "1"

from bench import dispatch  # noqa: E402  (sets Django up: first)

# isort: split
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402

from alerts.models import AlertSettings  # noqa: E402
from integrations.models import Integration  # noqa: E402
from notifications import outbox, tasks  # noqa: E402
from notifications.models import Delivery  # noqa: E402
from tenancy.accounts import create_account  # noqa: E402
from tenancy.models import Account, Organization  # noqa: E402


def serve_sink():
    """A counting sink in its own process: prints its port, serves until stdin closes."""
    sink = dispatch.CountingSink().start()
    print(sink.port, flush=True)
    sys.stdin.read()
    sink.stop()


def main(channel, count):
    account = Account.objects.filter(name=dispatch.ACCOUNT).first() or create_account(dispatch.ACCOUNT)
    org, _ = Organization.objects.get_or_create(account=account, name="Bench org")
    Delivery.objects.filter(state="pending").update(state="failed")  # old runs
    Integration.objects.filter(account=account).delete()
    peer = None
    if channel == "email":
        peer = subprocess.Popen([sys.executable, "-m", "bench.fanout_profile", "sink"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", int(peer.stdout.readline())
        settings.EMAIL_BACKEND = "notifications.channels.smtp.EmailBackend"
        AlertSettings.objects.update_or_create(account=account, defaults={"emails": ["noc@bench.example"]})
    else:
        fake = dispatch.ConnectWiseFake().start().slow(dispatch.LATENCY_MS / 1000)
        AlertSettings.objects.update_or_create(account=account, defaults={"emails": []})
        dispatch.make_psa(account, "connectwise", fake, rate_per_minute="1000000")
    queued = []
    tasks.queue = queued.extend  # sent here, not by workers
    dispatch.raise_batch(account, org, Delivery.objects.count(), count, datetime.now(UTC))
    batches = tasks.batches(queued)
    outbox.deliver_batch(batches.pop(0))  # warm-up

    queries = collections.Counter()

    def count_query(execute, sql, params, many, context):
        queries[sql.split(" WHERE ")[0][:100]] += 1
        return execute(sql, params, many, context)

    profile = cProfile.Profile()
    cpu = time.process_time()
    with connection.execute_wrapper(count_query):
        profile.enable()
        for batch in batches:
            outbox.deliver_batch(batch)
        profile.disable()
    cpu = time.process_time() - cpu
    sent = sum(len(b) for b in batches)
    if peer is not None:
        peer.stdin.close()
        peer.wait(10)
    print(f"{sent} deliveries by {channel}: {cpu * 1000 / sent:.2f} ms of CPU each under cProfile "
          f"(load {os.getloadavg()[0]:.1f})")
    for sql, n in queries.most_common():
        print(f"{n:6d}  {sql}")
    pstats.Stats(profile).sort_stats("tottime").print_stats(30)


if __name__ == "__main__":
    if sys.argv[1:] == ["sink"]:
        serve_sink()
    else:
        main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 1050)
