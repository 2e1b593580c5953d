"""The course's errors: one base, :class:`CourseError`, whose message says what to do.

Each error keeps the built-in base it always had (``RuntimeError``, ``TimeoutError``), so code that caught those
still does; a caller that wants every course error catches ``CourseError``. A failed command carries its
:class:`helpers.core.shell.Result` (``result``), when there was one, so a caller can read its exit code and output
instead of parsing the message.
"""

from __future__ import annotations

from typing import Any


class CourseError(Exception):
    """An error the course reports to a learner or an instructor, in a sentence they can act on."""


class CommandFailed(CourseError, RuntimeError):
    """A command exited non-zero where success was expected (or succeeded where failure was the lesson)."""

    def __init__(self, message: str, result: Any = None) -> None:
        super().__init__(message)
        self.result = result  # the helpers.core.shell.Result of the command, when one ran


class CommandTimeout(CourseError, RuntimeError):
    """A command ran past its timeout and was stopped; ``output`` is what it printed until then."""

    def __init__(self, message: str, output: str = "") -> None:
        super().__init__(message)
        self.output = output


class DaemonUnavailable(CourseError, RuntimeError):
    """No usable Docker daemon. ``reason`` is a short code, the message says what to do."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class WaitTimeout(CourseError, TimeoutError):
    """What a cell waited for did not happen within its bound."""


class WaitFailed(CourseError, RuntimeError):
    """Waiting was pointless: what would have answered is gone (the message says why)."""


class EngineError(CourseError, RuntimeError):
    """An engine of the matrix could not be built or started; the message says why (with the inner log)."""


class RootlessError(CourseError, RuntimeError):
    """Rootless Docker for a course user could not be set up or run; the message says why."""


class HubError(CourseError, RuntimeError):
    """The workshop hub could not do what was asked; the message says why."""


class VMError(CourseError, RuntimeError):
    """The cgroup v2 VM could not be made or booted, or gave no results; the message says why."""
