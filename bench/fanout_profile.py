"""Where a delivery's CPU goes: `outbox.deliver_batch` run in this process under cProfile,
with every query counted (the hot spots named in bench/RESULTS_fanout.md).

    python -m bench.fanout_profile email [N]   # to a counting SMTP sink in another process
    python -m bench.fanout_profile psa [N]     # to a fake ConnectWise answering in 50 ms, in another process

One sending thread (DELIVERY_THREADS=1), so the profile sees every send; the first batch
warms up (imports, templates, URL resolver) and is left out. Half the batches run without the
profiler and give the CPU per delivery (here and in PostgreSQL's backend); the other half
give the queries by statement and the functions by their CPU time.
"""

import collections
import cProfile
import json
import os
import pstats
import subprocess
import sys
import time
from datetime import UTC, datetime
from types import SimpleNamespace

os.environ["DELIVERY_THREADS"] = "1"

from bench import dispatch  # noqa: E402  (sets Django up: first)

# isort: split
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402

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


def serve_psa():
    """A fake ConnectWise answering in 50 ms in its own process (its CPU is not this one's):
    prints its address and credentials, serves until stdin closes."""
    fake = dispatch.ConnectWiseFake().start().slow(dispatch.LATENCY_MS / 1000)
    print(json.dumps({"url": fake.url, "credentials": fake.credentials()}), flush=True)
    sys.stdin.read()
    fake.stop()


def main(channel, count):
    account = Account.objects.filter(name=dispatch.ACCOUNT).first() or create_account(dispatch.ACCOUNT)
    org, _ = Organization.objects.get_or_create(account=account, name="Bench org")
    Delivery.objects.filter(state="pending").update(state="failed")  # old runs
    Integration.objects.filter(account=account).delete()
    peer = subprocess.Popen([sys.executable, "-m", "bench.fanout_profile", "sink" if channel == "email" else "psa"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    if channel == "email":
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", int(peer.stdout.readline())
        settings.EMAIL_BACKEND = "notifications.channels.smtp.EmailBackend"
        dispatch.set_recipients(account, ["noc@bench.example"])
    else:
        served = json.loads(peer.stdout.readline())
        fake = SimpleNamespace(url=served["url"], credentials=lambda: served["credentials"])
        dispatch.set_recipients(account, [])
        dispatch.make_psa(account, "connectwise", fake, rate_per_minute="1000000")
    queued = []
    tasks.queue = queued.extend  # sent here, not by workers
    dispatch.raise_batch(account, org, Delivery.objects.count(), count, datetime.now(UTC))
    batches = tasks.batches(queued)
    outbox.deliver_batch(batches.pop(0))  # warm-up

    plain, profiled = batches[: len(batches) // 2], batches[len(batches) // 2:]
    # Half the batches without the profiler: the CPU a delivery really costs, here and in the
    # PostgreSQL backend serving this process (its share, read from /proc).
    backend = connection.cursor().connection.info.backend_pid
    cpu, pg_cpu = time.process_time(), dispatch.cpu_seconds(backend)
    for batch in plain:
        outbox.deliver_batch(batch)
    cpu, pg_cpu = time.process_time() - cpu, dispatch.cpu_seconds(backend) - pg_cpu
    sent = sum(len(b) for b in plain)

    queries = collections.Counter()

    def count_query(execute, sql, params, many, context):
        queries[sql.split(" WHERE ")[0][:100]] += 1
        return execute(sql, params, many, context)

    profile = cProfile.Profile(time.process_time)  # CPU, not waiting on the peer or PostgreSQL
    with connection.execute_wrapper(count_query):
        profile.enable()
        for batch in profiled:
            outbox.deliver_batch(batch)
        profile.disable()
    peer.stdin.close()
    peer.wait(10)
    print(f"{sent} deliveries by {channel} in batches of {settings.DELIVERY_BATCH_SIZE}: {cpu * 1000 / sent:.2f} ms "
          f"of CPU each here, {pg_cpu * 1000 / sent:.2f} ms in PostgreSQL (load {os.getloadavg()[0]:.1f})")
    print(f"queries for {sum(len(b) for b in profiled)} deliveries:")
    for sql, n in queries.most_common():
        print(f"{n:6d}  {sql}")
    stats = pstats.Stats(profile)
    if os.environ.get("FANOUT_PROFILE_OUT"):  # for pstats or snakeviz
        stats.dump_stats(os.environ["FANOUT_PROFILE_OUT"])
    stats.sort_stats("cumulative").print_stats(45)
    stats.sort_stats("tottime").print_stats(30)

if __name__ == "__main__":
    if sys.argv[1:] == ["sink"]:
        serve_sink()
    elif sys.argv[1:] == ["psa"]:
        serve_psa()
    else:
        main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 1050)
