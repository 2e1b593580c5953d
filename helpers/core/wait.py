"""Bounded waits: one contract for every poll in the course.

``until(check, what, timeout=…)`` calls ``check`` until it returns something truthy and returns
that value. A falsy answer, or one of the ``retry`` exceptions, means "not yet". When the bound
passes, :class:`WaitTimeout` says what did not happen and the last error seen; when ``give_up``
reports a reason (a container that exited, a process that died), :class:`WaitFailed` says it at
once instead of waiting out the bound. A wait that lasts a few seconds shows progress on stderr.
"""

from __future__ import annotations

import sys
import time
import urllib.request
from collections.abc import Callable
from typing import TypeVar

from .errors import WaitFailed, WaitTimeout

T = TypeVar("T")

PROGRESS_AFTER = 3.0
"""Seconds of silent waiting before progress lines appear (stderr: never compared by nbval)."""


def until(
    check: Callable[[], T | None],
    what: str,
    *,
    timeout: float,
    interval: float = 0.3,
    retry: tuple[type[BaseException], ...] = (OSError,),
    give_up: Callable[[], str | None] | None = None,
) -> T:
    """Call ``check`` until it returns a truthy value (returned), at most ``timeout`` seconds."""
    start = time.monotonic()
    deadline = start + timeout
    last: BaseException | None = None
    shown = start + PROGRESS_AFTER
    while True:
        try:
            answer = check()
        except retry as exc:
            answer, last = None, exc
        if answer:
            return answer
        if give_up is not None and (reason := give_up()):
            raise WaitFailed(f"{what}: {reason}")
        now = time.monotonic()
        if now >= deadline:
            detail = f" (last error: {last})" if last else ""
            raise WaitTimeout(f"{what} did not happen within {timeout:g} s{detail}")
        if now >= shown:
            print(f"  … waiting for {what} ({now - start:.0f} s of at most {timeout:g} s)", file=sys.stderr, flush=True)
            shown = now + 5.0
        time.sleep(min(interval, max(0.0, deadline - now)))


def timed(check: Callable[[], object], what: str, *, timeout: float, **options) -> float:
    """:func:`until`, returning how many seconds the wait took (for measurements)."""
    start = time.monotonic()
    until(check, what, timeout=timeout, **options)
    return time.monotonic() - start


def http_body(url: str, *, timeout: float = 60.0, give_up: Callable[[], str | None] | None = None) -> str:
    """GET ``url`` until it answers (any 2xx) and return the body."""

    def fetch() -> str | None:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.read().decode() or " "  # an empty page still counts as an answer

    return until(fetch, f"an answer from {url}", timeout=timeout, interval=0.3, give_up=give_up)
