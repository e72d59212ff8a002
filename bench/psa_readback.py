"""Benchmark of the PSA read-back (R19.1): one run over TICKETS open alerts' tickets in a fake
ConnectWise Manage on loopback that answers each call in 50 ms, a tenth of them closed there.

    python -m bench.psa_readback     # writes bench/RESULTS_psa.md

Real parts: PostgreSQL and the fake PSA over HTTP; the run is the beat task's body
(`notifications.psa_readback.read_back`) in this process, as a worker runs it.
"""

import os
import time
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")  # the fake PSA is on loopback

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from alerts.conditions import Condition  # noqa: E402
from alerts.models import Alert, AlertSettings  # noqa: E402
from alerts.reconciler import raise_alerts  # noqa: E402
from fakes.psa import ConnectWiseFake, make_psa  # noqa: E402
from notifications import psa_readback  # noqa: E402
from notifications.models import Delivery  # noqa: E402
from tenancy.accounts import create_account  # noqa: E402
from tenancy.models import Organization  # noqa: E402

RESULTS = Path(__file__).with_name("RESULTS_psa.md")
TICKETS = int(os.environ.get("BENCH_PSA_TICKETS", 2000))
LATENCY_S = 0.05
TARGET_S = 10.0
RUN = int(time.time())


def prepare(fake):
    account = create_account(f"Bench PSA read-back {RUN}")
    AlertSettings.objects.update_or_create(account=account, defaults={"emails": []})
    org = Organization.objects.create(account=account, name="Bench")
    integration = make_psa(account, "connectwise", fake)
    now = datetime.now(UTC)
    conditions = [Condition(kind="appliance_offline", subject=f"bench-{n}", title=f"Appliance bench-{n} offline",
                            organization_id=org.pk, category="appliance") for n in range(TICKETS)]
    alerts = raise_alerts(account, conditions, now)
    deliveries = list(Delivery.objects.filter(account=account, channel="connectwise", event__type="raised")
                      .select_related("event__alert"))
    for delivery in deliveries:
        ticket = fake.add_ticket(title=f"{delivery.event.alert.title} [{delivery.event.alert.ref}]", company="77",
                                 status=1)
        delivery.state, delivery.external_ref = Delivery.State.SENT, str(ticket)
    Delivery.objects.bulk_update(deliveries, ["state", "external_ref"], batch_size=500)
    for ticket in list(fake.tickets)[::10]:
        fake.close_in_psa(ticket)
    return account, integration, len(alerts)


def main():
    fake = ConnectWiseFake().start()
    try:
        account, integration, raised = prepare(fake)
        fake.slow(LATENCY_S)
        calls_before = len(fake.calls())
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            outcome = psa_readback.read_back(integration)
            seconds = time.perf_counter() - started
        calls = len(fake.calls()) - calls_before
        dismissed = Alert.objects.filter(account=account, state="dismissed").count()
        load = os.getloadavg()[0]
    finally:
        fake.stop()
    floor = calls * LATENCY_S
    verdict = "ok" if seconds <= TARGET_S else "SLOWER THAN TARGET"
    RESULTS.write_text(f"""# Benchmark: PSA read-back (R19.1)

Measured by `make bench` (`python -m bench.psa_readback`) on {datetime.now(UTC):%Y-%m-%d} against PostgreSQL on
localhost and a fake ConnectWise Manage on loopback answering each call in {LATENCY_S * 1000:.0f} ms; load
average when done: {load:.1f} (other work on the machine slows the timings).

| figure | measured | floor / target |
|---|---|---|
| open alerts' tickets read in one run | {raised} | |
| calls to the PSA (batches of 200 `id in (…)`, and the daily company check) | {calls} | {raised // 200} + 1 |
| wall time of the run | {seconds:.2f} s | floor {floor:.2f} s (calls × latency); target ≤ {TARGET_S:.0f} s: {verdict} |
| alerts dismissed (a tenth of the tickets closed in the PSA) | {dismissed} | {raised // 10} |
| database queries | {len(queries)} | independent of the number of tickets (batched reads and writes) |

What it did: {outcome}.
""")
    print(RESULTS.read_text())


if __name__ == "__main__":
    main()
