"""The one place Fixflow reads the time, so tests and the sync engine can reason about it."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime

from django.utils import timezone

_frozen: ContextVar[datetime | None] = ContextVar("fixflow_frozen_now", default=None)


def now() -> datetime:
    return _frozen.get() or timezone.now()


@contextmanager
def frozen_at(instant: datetime) -> Iterator[None]:
    """Make :func:`now` answer ``instant`` in this context (tests, replays). Needs an aware instant."""
    if instant.tzinfo is None:
        raise ValueError("frozen_at needs a timezone-aware instant")
    token = _frozen.set(instant)
    try:
        yield
    finally:
        _frozen.reset(token)
