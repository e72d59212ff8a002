"""Celery signals: the task id into every log line, and the beat heartbeat /healthz reads."""

import logging

from celery import signals
from django.db import DatabaseError
from django.utils import timezone

from observability import logs

log = logging.getLogger(__name__)
# Beat sends the sweeper every SWEEP_INTERVAL_SECONDS; its finishing proves beat and a worker run.
BEAT_HEARTBEAT = "notifications.tasks.sweep"
_tokens = {}


def _prerun(task_id=None, task=None, **_):
    _tokens[task_id] = logs.task_id.set(task_id or "")


def _postrun(task_id=None, task=None, state=None, **_):
    token = _tokens.pop(task_id, None)
    if token is not None:
        logs.task_id.reset(token)
    if task is not None and task.name == BEAT_HEARTBEAT and state == "SUCCESS":
        beat(task.name)


def beat(name: str, at=None) -> None:
    from observability.models import Heartbeat

    try:
        Heartbeat.objects.update_or_create(name=name, defaults={"at": at or timezone.now()})
    except DatabaseError:  # the heartbeat must never fail the task it reports on
        log.warning("could not record the %s heartbeat", name, exc_info=True)


def connect():
    signals.task_prerun.connect(_prerun, weak=False, dispatch_uid="observability-prerun")
    signals.task_postrun.connect(_postrun, weak=False, dispatch_uid="observability-postrun")
