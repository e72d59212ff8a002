"""PSA lookups are exact (R13.3, invariant 4): a retry adopts or closes only our own ticket.

The fakes search the way the vendors do (fakes/psa.py): ConnectWise's `conditions`
are SQL Server LIKE, where `[UV-12]` is a character class; Autotask's `contains` and the
BMS/Vorex title filter are case-insensitive substring matches. Whatever a search returns,
a ticket is ours only when its title ends with the alert's `[ref]`, as every ticket we open does.
"""

from datetime import timedelta

from alerts.evaluation import evaluate
from alerts.models import Alert
from fakes.psa import FAKES, make_psa
from inventory.models import Appliance
from notifications.models import Delivery
from tests.conftest import NOW, make_appliance
from tests.test_psa_tickets import deliver_all


def raise_offline(cast):
    make_appliance(cast.account_a, cast.org_a1, "silent", last_contact_at=NOW - timedelta(hours=1))
    evaluate(cast.account_a, NOW)
    return Alert.objects.get(state="open")


def first_try_fails_before_any_ticket(kind, fake):
    """The PSA is down for the first try, so the next one is a retry and looks up first."""
    fake.server_error()
    assert deliver_all(kind) == ["pending"]
    fake.server_error(0)


def strangers(ref):
    """Tickets a vendor search for `ref` may return that are not ours."""
    return [
        f"Follow-up to [{ref}]: replace the disk",  # holds the ref, but is a person's ticket
        f"Printer offline [{ref.lower()}]",  # a case-insensitive match, not what we write
        f"Backup failed [{ref}0]",  # another alert's ref that starts the same way
    ]


def test_r13_3_a_connectwise_lookup_is_not_a_character_class_so_a_strangers_ticket_is_not_adopted(cast):
    fake = FAKES["connectwise"]().start()
    try:
        make_psa(cast.account_a, "connectwise", fake)
        # "%[UV-12]%" unescaped is "any summary holding a U or a 2": this one would match.
        stranger = fake.add_ticket(title="Mailbox quota for user bob", company="77", status="1")
        alert = raise_offline(cast)
        first_try_fails_before_any_ticket("connectwise", fake)
        assert deliver_all("connectwise") == ["sent"]
        delivery = Delivery.objects.get(channel="connectwise")
        [ours] = fake.matching(f"[{alert.ref}]")
        assert delivery.external_ref == str(ours["id"]) != str(stranger)
        lookups = [c for c in fake.requests if c.method == "GET" and c.path.endswith("/service/tickets")]
        assert lookups, "the retry looked up before creating"
    finally:
        fake.stop()


def test_r13_3_a_retry_never_adopts_a_ticket_that_only_mentions_the_alerts_ref(cast, psa):
    kind, fake = psa
    make_psa(cast.account_a, kind, fake)
    alert = raise_offline(cast)
    first_try_fails_before_any_ticket(kind, fake)
    foreign = {fake.add_ticket(title=title, company="77", status="1") for title in strangers(alert.ref)}

    assert deliver_all(kind) == ["sent"]
    delivery = Delivery.objects.get(channel=kind)
    assert int(delivery.external_ref) not in foreign
    ours = fake.tickets[int(delivery.external_ref)]
    assert ours["title"].endswith(f" [{alert.ref}]")
    assert len(fake.tickets) == len(foreign) + 1  # a ticket of our own was opened


def test_r13_3_resolving_never_closes_a_strangers_ticket(cast, psa):
    kind, fake = psa
    # No company for the organization: opening fails for good, so closing must look the ticket up.
    make_psa(cast.account_a, kind, fake, default_company="", close_on_resolve=True)
    alert = raise_offline(cast)
    assert deliver_all(kind) == ["failed"]
    foreign = [fake.add_ticket(title=title, company="77", status="1") for title in strangers(alert.ref)]

    Appliance.objects.filter(account=cast.account_a).update(last_contact_at=NOW + timedelta(minutes=5))
    evaluate(cast.account_a, NOW + timedelta(minutes=5))
    assert deliver_all(kind) == ["sent"]
    assert [str(fake.tickets[t]["status"]) for t in foreign] == ["1", "1", "1"]
    closing = Delivery.objects.filter(channel=kind, event__type="resolved").get()
    assert closing.external_ref == "no ticket to close"


def test_r13_3_a_retry_still_adopts_our_own_ticket_among_strangers(cast, psa, settings):
    kind, fake = psa
    make_psa(cast.account_a, kind, fake)
    alert = raise_offline(cast)
    for title in strangers(alert.ref):
        fake.add_ticket(title=title, company="77", status="1")
    fake.drop_after_acting(1)  # our ticket is made, the answer is lost
    assert deliver_all(kind) == ["pending"]
    assert deliver_all(kind) == ["sent"]
    [ours] = [t for t in fake.tickets.values() if t["title"].endswith(f" [{alert.ref}]")]
    assert Delivery.objects.get(channel=kind).external_ref == str(ours["id"])
    assert len(fake.tickets) == 4
