"""Subjects leaving service (R15.2): removed, or retired and kept for history.

Every way a subject goes — an API DELETE, a dashboard button, a poll that no
longer sees it, an integration removed — calls `remove()` (a retirement calls
`leaving()` and keeps the rows), so its open alerts are resolved first, in the
same transaction, and the rows go only after. The rooms above tenancy say what "first" means by
connecting to `subjects_leaving` (alerts resolves open alerts with reason `subject_removed`),
the way the outbox listens to alert events; tenancy imports none of them.

A receiver gets `queryset` (the subjects leaving) and `now`, and must be set-based: an
organization with thousands of assets is one removal.
"""

from contextlib import contextmanager
from contextvars import ContextVar

from django.db import transaction
from django.db.models import QuerySet
from django.dispatch import Signal
from django.utils import timezone

# Sent with `queryset` and `now` inside the removal's transaction; a receiver that raises
# stops the removal.
subjects_leaving = Signal()
_removing: ContextVar[bool] = ContextVar("uniview_removing", default=False)


def leaving(queryset: QuerySet, now=None) -> None:
    """Tell the receivers that `queryset`'s rows leave service now. Call inside a transaction."""
    now = now or timezone.now()
    subjects_leaving.send(sender=queryset.model, queryset=queryset, now=now)


def remove(queryset: QuerySet, now=None) -> int:
    """Resolve what hangs on these rows, then delete them (and Django's cascade), atomically."""
    with transaction.atomic():
        leaving(queryset, now)
        with _announced():
            return queryset.delete()[0]


def announced() -> bool:
    """Inside `remove()`: what is being deleted was announced already, set-wise."""
    return _removing.get()


@contextmanager
def _announced():
    token = _removing.set(True)
    try:
        yield
    finally:
        _removing.reset(token)


def remove_organization(organization, now=None) -> int:
    """R15.2: its alerts (and those of its appliances, assets, sources) resolve; history stays."""
    return remove(type(organization).objects.filter(pk=organization.pk), now)
