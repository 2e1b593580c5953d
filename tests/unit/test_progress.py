"""Condensed live progress (pure: recorded CLI output, no daemon)."""

from __future__ import annotations

from helpers.core import progress

BUILDKIT = """#1 [internal] load build definition from Dockerfile
#1 sha256:9cb0f223d1376d3f314f41c94ca023e0c9a8cb5cc53a3c0f992a6bd959498804
#1 transferring dockerfile: 185B done
#1 DONE 0.0s

#3 [internal] load metadata for docker.io/library/debian:bookworm-slim
#3 DONE 0.0s

#4 [1/2] FROM docker.io/library/debian:bookworm-slim
#4 DONE 0.0s

#5 [2/2] RUN apt-get update && apt-get install -y python3
#5 0.512 Get:1 http://deb.debian.org/debian bookworm InRelease [151 kB]
#5 3.208 Setting up python3 (3.11.2-1+b1) ...
#5 DONE 21.4s

#6 exporting to image
#6 exporting layers done
#6 DONE 0.3s
"""

FAILED = """#4 [1/2] FROM docker.io/library/busybox
#4 CACHED

#5 [2/2] RUN no-such-program
#5 0.301 /bin/sh: no-such-program: not found
#5 ERROR: process "/bin/sh -c no-such-program" did not complete successfully: exit code: 127
------
 > [2/2] RUN no-such-program:
0.301 /bin/sh: no-such-program: not found
------
ERROR: failed to solve: process "/bin/sh -c no-such-program" did not complete successfully: exit code: 127
"""


def _shown(argv: list[str], text: str) -> tuple[list[str], progress.Condenser]:
    condenser = progress.Condenser(argv)
    shown = [line.rstrip("\n") for line in text.splitlines(keepends=True) if condenser.keep(line)]
    return shown, condenser


def test_a_build_shows_its_steps_and_keeps_every_line_in_the_log() -> None:
    argv = ["/usr/bin/docker", "build", "-t", "dmac/base-python3:1", "../build/dmac/contexts/09-python3"]
    shown, condenser = _shown(argv, BUILDKIT)
    assert shown == [
        "#4 [1/2] FROM docker.io/library/debian:bookworm-slim",
        "#4 DONE 0.0s",
        "#5 [2/2] RUN apt-get update && apt-get install -y python3",
        "#5 DONE 21.4s",
    ]
    last = condenser.close()
    assert condenser.log.name == "build-dmac-base-python3-1.log"
    assert condenser.log.read_text() == BUILDKIT  # nothing lost
    assert last.startswith(f"… full log ({len(BUILDKIT.splitlines())} lines): ") and last.endswith(".log\n")


def test_a_failed_build_shows_the_failing_step_and_the_error() -> None:
    shown, condenser = _shown(["docker", "build", "-t", "dmac/broken:1", "ctx"], FAILED)
    condenser.close()
    text = "\n".join(shown)
    assert "#5 [2/2] RUN no-such-program" in text
    assert '#5 ERROR: process "/bin/sh -c no-such-program"' in text
    assert "0.301 /bin/sh: no-such-program: not found" in text  # BuildKit's summary, unprefixed
    assert "ERROR: failed to solve" in text
    assert "#5 0.301" not in text  # the step's own output is in the log only


def test_pull_and_push_lines_are_all_shown_and_logged_under_the_image_name() -> None:
    lines = "1.0: Pulling from dmac/hello\nDigest: sha256:abc\nStatus: Downloaded newer image\n"
    shown, condenser = _shown(["docker", "pull", "127.0.0.1:49153/dmac/hello:1.0"], lines)
    condenser.close()
    assert shown == lines.splitlines()
    assert condenser.log.name == "pull-127.0.0.1-49153-dmac-hello-1.0.log"


def test_a_long_run_command_gets_a_short_log_name() -> None:
    argv = ["docker", "run", "--rm", "debian:bookworm-slim", "sh", "-c", "apt-get update && " * 20 + "true"]
    assert progress.log_file(argv).name == "run-output.log"
    named = ["docker", "run", "--name", "dmac-harvester", "busybox", "sh", "-c", "x" * 500]
    assert progress.log_file(named).name == "run-dmac-harvester.log"
