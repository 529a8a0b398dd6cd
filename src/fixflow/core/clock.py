"""The one place Fixflow reads the time, so tests and the sync engine can reason about it."""

from datetime import datetime

from django.utils import timezone


def now() -> datetime:
    return timezone.now()
