"""Exercises checked against the real daemon, answered in plain words (never a traceback).

Each notebook's exercises live in ``helpers/exercises/nbNN.py`` and register themselves with
:func:`exercise`. In a notebook::

    check("00.1")            # inspects what the learner did and says if it is right

With ``SOLUTIONS = True`` (papermill parameter, or an instructor), ``check`` first shows the
solution and runs it, and a wrong verdict then fails the cell: that is how CI proves every checker
accepts a right answer.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import textwrap
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..core import course, engine, records
from ..core.daemon import DaemonUnavailable, client


@dataclass(frozen=True)
class Verdict:
    """The outcome of a check: ``ok`` and a sentence for the learner (and a hint when wrong)."""

    ok: bool
    message: str
    hint: str = ""

    def _ipython_display_(self) -> None:
        """Show nothing as a cell's last value: ``check`` already printed the verdict."""

    def __str__(self) -> str:
        if self.ok:
            return f"✅ Correct: {self.message}"
        return f"❌ Not yet: {self.message}" + (f"\n   Hint: {self.hint}" if self.hint else "")


def passed(message: str) -> Verdict:
    return Verdict(True, message)


def failed(message: str, hint: str = "") -> Verdict:
    return Verdict(False, message, hint)


def course_container(suffix: str, missing: str = "") -> Any:
    """The course's container ``name(suffix)``, or a failed Verdict saying it is not there: with no hint, since
    nothing was tried yet (a hint comes with an attempt; the stored outputs show the first check)."""
    import docker as sdk  # deferred: the Docker SDK is slow to import

    wanted = course.name(suffix)
    try:
        return client().containers.get(wanted)
    except sdk.errors.NotFound:
        return failed(missing or f"there is no container called {wanted}.")


def course_volume(volume: str) -> Any:
    """The volume ``volume``, or None."""
    import docker as sdk  # deferred: the Docker SDK is slow to import

    try:
        return client().volumes.get(volume)
    except sdk.errors.NotFound:
        return None


def course_image(ref: str, missing: str = "") -> Any:
    """The image ``ref``, or a failed Verdict saying it has not been built yet."""
    import docker as sdk  # deferred: the Docker SDK is slow to import

    try:
        return client().images.get(ref)
    except sdk.errors.NotFound:  # Podman's 404 text is not "No such image": no ImageNotFound
        return failed(missing or f"no image {ref} yet: build it first.")


def _image_name(tag: str) -> str:
    """``busybox`` of ``busybox:latest``, ``docker.io/library/busybox:latest`` or ``host:5000/ns/busybox``."""
    last = tag.rsplit("/", 1)[-1]
    return last.split(":", 1)[0]


def runs_as_asked(box: Any, image: str, command: str) -> Verdict | None:
    """A failed Verdict when container ``box`` is not from ``image`` or does not run ``command`` (its words,
    alone or inside ``sh -c``); None when it does. Judged on the daemon, however the container was made."""
    if image not in {_image_name(tag) for tag in box.image.tags}:
        found = box.image.tags or box.image.short_id
        return failed(f"{box.name} runs {found}, not {image}.", f"Start it from {image}.")
    words = " ".join(box.attrs["Config"].get("Cmd") or [])
    if not re.search(rf"(^|\s){re.escape(command)}$", same_sleep(words, command)):
        shown = words or "the image's default command"
        return failed(f"{box.name} runs {shown!r}, not {command!r}.", f"Give it the command {command}.")
    return None


_SLEEP = re.compile(r"\bsleep (\d+)([smhd]?)$")
_UNIT = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def same_sleep(words: str, command: str) -> str:
    """``words`` with a ``sleep`` spelled another way a Docker user would (``sleep 1m``, ``sleep 60s`` for
    ``sleep 60``; busybox and coreutils both take the suffixes) written as ``command`` spells it."""
    asked, given = _SLEEP.search(command), _SLEEP.search(words)
    if not asked or not given:
        return words
    if int(given[1]) * _UNIT[given[2]] == int(asked[1]) * _UNIT[asked[2]]:
        return words[: given.start()] + asked.group(0)
    return words


# a check command that succeeds whatever the service does: true, :, exit 0, an echo, or "… || true"
ALWAYS_OK = re.compile(r"^\s*(true|:|/bin/true|exit 0|echo\b.*)\s*$|(\|\||;)\s*(true|:|exit 0)\s*$")


def check_command_problem(test: list[str], who: str, must_ask: str, what: str, hint: str) -> Verdict | None:
    """A failed Verdict when a healthcheck ``test`` (``["CMD", …]``) can never fail or never mentions ``must_ask``."""
    command = " ".join(test[1:])
    if ALWAYS_OK.search(command) or must_ask not in command:
        return failed(f"{who} runs {command!r}, which never asks {what}.", hint)
    return None


def learner_image(id: str, ref: str) -> Any:
    """The image ``ref`` a learner built for exercise ``id``, recorded for clean-up (a terminal build has no
    course label); a failed Verdict if it is not there yet."""
    img = course_image(ref, f"no image {ref} yet: build your Dockerfile under that name.")
    if not isinstance(img, Verdict):
        records.note(id, "image", ref, img)
    return img


def whole_number(answer: object) -> int | Verdict:
    """``answer`` as an int, or a failed Verdict for anything that is not a whole number."""
    try:
        return int(str(answer).strip())
    except ValueError:
        return failed(f"answer with a whole number, not {str(answer)[:40]!r}.")


def reset_images(pairs: list[tuple[str, str]]) -> None:
    """Remove the images (``(repo, tag)`` pairs) an earlier attempt built, so a check sees this run's work."""
    import docker as sdk  # deferred: the Docker SDK is slow to import

    for repo, tag in pairs:
        try:
            client().images.remove(course.image(repo, tag), force=True)
        except sdk.errors.NotFound:  # Podman's 404 text is not "No such image": no ImageNotFound
            pass
    names = ", ".join(course.image(repo, tag) for repo, tag in pairs)
    print(f"Starting the exercises afresh: no earlier {names} is kept.")


@dataclass
class Exercise:
    id: str
    title: str
    checker: Callable[..., Verdict]
    solution: str
    hint: str = ""
    takes_answer: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    needs: str = ""  # a helpers.core.engine.limitation kind: where it applies, the notebook skips this exercise
    or_terminal: bool = False  # with no answer, the checker judges what a terminal made on the daemon


REGISTRY: dict[str, Exercise] = {}
_settings = {"solutions": False}


def exercise(
    id: str,
    title: str,
    solution: str,
    hint: str = "",
    takes_answer: bool = False,
    needs: str = "",
    or_terminal: bool = False,
):
    """Decorator registering a checker ``fn(answer?) -> Verdict`` with its solution code.

    ``needs``: the engine capability (a :func:`helpers.core.engine.limitation` kind) the exercise depends on.
    ``or_terminal``: an exercise that takes an answer may instead be done in a terminal; with no answer its
    checker gets None and judges what is on the daemon.
    """

    def register(fn: Callable[..., Verdict]) -> Callable[..., Verdict]:
        if needs:
            engine.Limitation(needs)  # a misspelt kind fails here, at import, not silently on some engine
        REGISTRY[id] = Exercise(
            id, title, fn, textwrap.dedent(solution).strip(), hint, takes_answer, needs=needs, or_terminal=or_terminal
        )
        return fn

    return register


def load_all() -> None:
    """Import every notebook's checkers (each module registers its exercises)."""
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")


def get(id: str) -> Exercise:
    if id not in REGISTRY:
        load_all()
    if id not in REGISTRY:
        raise KeyError(f"No exercise {id!r}; known: {', '.join(sorted(REGISTRY))}")
    return REGISTRY[id]


def configure(*, solutions: bool | None = None, scope: Callable[[], dict[str, Any]] | None = None) -> None:
    """Solutions mode: ``check`` shows and applies each solution, and wrong verdicts fail. ``scope``: where a
    solution runs (the facade gives the notebook's globals; the exercises never import the facade)."""
    if solutions is not None:
        _settings["solutions"] = bool(solutions)
    if scope is not None:
        _scope[0] = scope


_scope: list[Callable[[], dict[str, Any]]] = [dict]  # a fresh namespace until the facade says otherwise


def evaluate(id: str, answer: Any = None) -> Verdict:
    """Run the checker for exercise ``id``; any error becomes a verdict in words."""
    ex = get(id)
    try:
        if ex.takes_answer:
            if ex.or_terminal and (answer is None or (isinstance(answer, str) and not answer.strip())):
                return ex.checker(None)  # done in a terminal, or not yet: the checker looks at the daemon
            if answer is None or (isinstance(answer, str) and not answer.strip()):
                # no hint before a first attempt: the stored outputs show the prompt, not a way to the answer
                return failed("no answer yet: fill in the cell above and run it again (a hint comes with an attempt).")
            return ex.checker(answer)
        return ex.checker()
    except DaemonUnavailable as exc:
        return failed(
            f"the Docker daemon cannot be reached, so nothing could be checked ({exc.reason}).",
            "Run the preflight in notebook 00.",
        )
    except Exception as exc:
        last = traceback.extract_tb(exc.__traceback__)[-1]
        return failed(
            f"the check could not inspect your answer ({type(exc).__name__}: {exc}).",
            ex.hint or f"(checker line {last.lineno})",
        )


def solution(id: str, *, apply: bool = False) -> Any:
    """Show the solution of exercise ``id``; with ``apply``, run it and return ``answer`` if it sets one."""
    ex = get(id)
    print(f"Solution {id}:\n" + textwrap.indent(ex.solution, "    "))
    if not apply:
        return None
    scope = _scope[0]()
    exec(compile(ex.solution, f"<solution {id}>", "exec"), scope)
    return scope.get("answer")


def check(id: str, answer: Any = None) -> Verdict:
    """Check exercise ``id`` and print the verdict. In solutions mode, apply the solution first."""
    found = ""
    if _settings["solutions"]:
        produced = solution(id, apply=True)
        if answer is None:
            answer = produced
        if get(id).takes_answer and isinstance(produced, str | int | float | list | tuple):
            found = f"answer = {produced!r}\n"  # what the solution found (the tests look for it in earlier outputs)
    verdict = evaluate(id, answer)
    print(f"{found}Exercise {id} — {get(id).title}\n{verdict}")
    if _settings["solutions"] and not verdict.ok:
        raise AssertionError(f"exercise {id}: the solution was not accepted: {verdict.message}")
    return verdict


def check_widget(id: str):
    """A text box and a *Check* button for an exercise that takes an answer (ipywidgets)."""
    import ipywidgets as widgets  # deferred: only a widget in a kernel needs it

    ex = get(id)
    box = widgets.Text(placeholder="your answer", description=f"Exercise {id}:", style={"description_width": "initial"})
    button = widgets.Button(description="Check", button_style="primary", icon="check")
    out = widgets.Output()

    def on_click(_: object) -> None:
        out.clear_output()
        with out:
            print(evaluate(id, box.value))

    button.on_click(on_click)
    return widgets.VBox([widgets.HTML(f"<b>{ex.title}</b>"), widgets.HBox([box, button]), out])
