"""Exercises of notebook 04 (upgrading Docker)."""

from __future__ import annotations

from ..daemon import client
from . import Verdict, exercise, failed, passed


@exercise(
    "04.1",
    "which API version does your daemon speak?",
    hint='docker_out("version", "--format", "{{.Server.APIVersion}}") returns it.',
    solution="""
    from helpers import docker_out

    answer = docker_out("version", "--format", "{{.Server.APIVersion}}")
    """,
    takes_answer=True,
)
def api_version(answer: object) -> Verdict:
    version = client().version()
    actual = version.get("ApiVersion", "")
    if str(answer).strip() == actual:
        return passed(f"this daemon speaks API {actual}; newer clients negotiate down to it.")
    if str(answer).strip() == version.get("Version"):
        return failed(
            f"{version['Version']} is the Engine's own version, not the API version it speaks.",
            "Server.APIVersion, not Server.Version.",
        )
    return failed(
        f"{str(answer).strip()[:20]!r} is not the daemon's API version.", "Look at the Server part of docker version."
    )


@exercise(
    "04.2",
    "is live-restore enabled on your daemon now?",
    hint='docker_out("info", "--format", "{{.LiveRestoreEnabled}}") prints true or false.',
    solution="""
    from helpers import docker_out

    answer = docker_out("info", "--format", "{{.LiveRestoreEnabled}}") == "true"
    """,
    takes_answer=True,
)
def live_restore(answer: object) -> Verdict:
    if not isinstance(answer, bool):
        return failed(f"answer should be True or False, not {answer!r}.")
    actual = bool(client().info().get("LiveRestoreEnabled"))
    if answer == actual:
        state = "keeps" if actual else "does not keep"
        return passed(
            f"live-restore is {'on' if actual else 'off'}: this daemon {state} containers running while it restarts."
        )
    return failed("that is not what the daemon reports.", "Ask docker info.")
