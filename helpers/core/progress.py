"""Live progress that does not bury the cell: one line per build step, the full log in a file.

A ``docker build`` prints 30 to 400 lines (every apt download, every BuildKit step's timing); a pull or
push one per layer. With ``show="progress"`` the cell shows the lines that say how far it got: BuildKit's
step headers (``#5 [2/3] RUN apt-get …``), whether each step was cached and how long it took, the
classic builder's ``Step 2/3 :``, errors, and a pull's or push's own lines. Every line goes to a log
file under ``build/<namespace>/logs/``, named after the command, whose path is the last line shown.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from . import course

_STEP = re.compile(r"^#(\d+) \[(?!internal\])[^\]]*\] ")  # "#5 [2/3] RUN …", "#7 [build 1/4] FROM …"
_STEP_END = re.compile(r"^#(\d+) (CACHED|DONE \d+(\.\d+)?s|ERROR\b.*)$")
_BUILDKIT = re.compile(r"^#\d+ ")


class Condenser:
    """Decides which lines of one command's output are shown live; all of them go to ``log``."""

    def __init__(self, argv: list[str]) -> None:
        self.steps: set[str] = set()
        self.log = log_file(argv)
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self._out = open(self.log, "w", encoding="utf-8")  # closed by close()
        self.lines = 0

    def keep(self, line: str) -> bool:
        """Write ``line`` to the log; True when it is shown live."""
        self._out.write(line)
        self.lines += 1
        text = line.rstrip("\n")
        if not text.strip():
            return False  # BuildKit's blank line between steps
        if step := _STEP.match(text):
            self.steps.add(step.group(1))
            return True
        if end := _STEP_END.match(text):
            return end.group(1) in self.steps or end.group(2).startswith("ERROR")
        if _BUILDKIT.match(text) or text.startswith("(Reading database"):
            return False  # a step's own output (apt, pip; dpkg's \r-separated progress), internal steps: in the log
        return True  # the classic builder, pull, push, BuildKit's final error: short and telling

    def close(self) -> str:
        """Close the log; the line that says where it is."""
        self._out.close()
        where = os.path.relpath(self.log)
        return f"… full log ({self.lines} lines): {where}\n"


def log_file(argv: list[str]) -> Path:
    """``build/<ns>/logs/<subcommand>-<what>.log``: a build's tag, a pull's or push's image, a run's ``--name``."""
    args = [a for a in argv[1:] if a]
    sub = args[0] if args else "docker"
    what = ""
    for flag in ("-t", "--name"):
        if flag in args[:-1]:
            what = args[args.index(flag) + 1]
            break
    else:
        if sub in ("pull", "push") and len(args) > 1:
            what = args[-1]
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", what).strip("-")[:80] or "output"
    return course.workdir("logs") / f"{sub}-{slug}.log"
