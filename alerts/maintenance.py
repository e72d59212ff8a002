"""Maintenance windows in the reconciler (R16.2): what they hold back, and what cleared inside.

During an occurrence of a window, a new condition of a subject the window covers raises no
alert (and so fans nothing out); it is remembered as held by that occurrence. An alert open
before the window is not touched: it stays open and resolves as usual. When the occurrence
is over, the next evaluation raises what still holds as new (the window's end makes the
covered assets due, maintenance/due.py), and then `settle` counts on the window the held
conditions that did not come back: those cleared inside it.
"""

from collections import defaultdict

from django.db import transaction

from alerts.models import Alert, AlertState
from maintenance import scope
from maintenance.models import MaintenanceHold, MaintenanceWindow


class Hold:
    """The windows of one account on at `now`, read at the first condition that needs them."""

    def __init__(self, account, now, record=True):
        self.account, self.now, self.record = account, now, record
        self._windows = None

    @property
    def windows(self):
        if self._windows is None:
            self._windows = scope.active(self.account, self.now)
        return self._windows

    def back(self, conditions) -> list:
        """The conditions no window holds back; those held are remembered (when recording)."""
        if not conditions or not self.windows:
            return conditions
        loud, held = [], []
        for c in conditions:
            covering = [w for w in self.windows if w.covers(c.organization_id, c.appliance_id, c.asset_id)]
            if not covering:
                loud.append(c)
                continue
            held += [
                MaintenanceHold(window_id=w.window.pk, occurrence_start=w.occurrence.start,
                                occurrence_end=w.occurrence.end, fingerprint=c.fingerprint)
                for w in covering
            ]
        if held and self.record:
            MaintenanceHold.objects.bulk_create(held, ignore_conflicts=True, batch_size=1000)
        return loud


def settle(account, now) -> int:
    """Count on each window what its occurrences over by `now` held back and is not open now
    (it cleared inside the window); forget those occurrences' holds. Answers the count."""
    ended = MaintenanceHold.objects.filter(window__account=account, occurrence_end__lte=now)
    rows = list(ended.values_list("window_id", "occurrence_start", "fingerprint"))
    if not rows:
        return 0
    still = set(
        Alert.objects.filter(account=account, state=AlertState.OPEN, fingerprint__in={r[2] for r in rows})
        .values_list("fingerprint", flat=True)
    )
    cleared = defaultdict(int)
    for window_id, start, fingerprint in rows:
        cleared[(window_id, start)] += fingerprint not in still
    total = 0
    with transaction.atomic():
        windows = {w.pk: w for w in MaintenanceWindow.objects.select_for_update().filter(
            pk__in={key[0] for key in cleared})}
        for (window_id, start), count in cleared.items():
            window = windows.get(window_id)
            if window is None:
                continue
            key = start.isoformat()
            window.cleared_counts = {**window.cleared_counts, key: window.cleared_counts.get(key, 0) + count}
            total += count
        for window in windows.values():  # an update, not a save: a count changes no subject's due time
            MaintenanceWindow.objects.filter(pk=window.pk).update(cleared_counts=window.cleared_counts)
        ended.delete()
    return total
