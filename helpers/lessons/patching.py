"""Security updates of an image's Debian packages, from Debian's own archive (notebook 16).

An image made from the bookworm release has every package of that release; the fixes Debian publishes for
security issues go to a separate suite, ``bookworm-security``, which an image knows of only when its sources list
it. :func:`pending` asks that suite alone, in a throwaway container of the image, which of the image's packages
have a newer version there: the check changes nothing in the image. :func:`cves` reads the CVE identifiers a
package's Debian changelog gives for the versions newer than one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..core.shell import CommandFailed, Result, docker

SECURITY_LIST = "deb http://deb.debian.org/debian-security bookworm-security main"
ONLY_IT = "-o Dir::Etc::SourceList=/tmp/security.list -o Dir::Etc::SourceParts=-"  # that suite's index alone
CHECK = (
    f'echo "{SECURITY_LIST}" > /tmp/security.list'
    f" && apt-get {ONLY_IT} update -qq && apt {ONLY_IT} list --upgradable"
)
"""The shell command that lists an image's packages with a newer version in bookworm-security."""

_UPGRADABLE = re.compile(r"^(?P<package>[^/\s]+)/\S+ (?P<fixed>\S+) \S+ \[upgradable from: (?P<installed>[^\]]+)\]")
_CVE = re.compile(r"CVE-\d{4}-\d{4,}")
_ENTRY = re.compile(r"^\S+ \((?P<version>[^)]+)\) ", re.M)


@dataclass(frozen=True)
class Pending:
    """A package with a security fix waiting: the version installed and the fixed version in the archive."""

    package: str
    installed: str
    fixed: str


def parse(output: str) -> list[Pending]:
    """The packages ``apt list --upgradable`` printed."""
    return [Pending(m["package"], m["installed"], m["fixed"]) for m in map(_UPGRADABLE.match, output.splitlines()) if m]


def check(ref: str, *, show: bool | str = "progress", echo: bool = True) -> Result:
    """Run :data:`CHECK` in a throwaway container of image ``ref`` (shown as it ran); raises CommandFailed when
    the archive does not answer."""
    return docker("run", "--rm", ref, "sh", "-c", CHECK, show=show, echo=echo, timeout=180)


def pending(ref: str, *, show: bool | str = False) -> list[Pending]:
    """The packages of image ``ref`` that have a security fix waiting in bookworm-security."""
    return parse(check(ref, show=show, echo=bool(show)).output)


def archive_answers(ref: str = "debian:bookworm-slim") -> str | None:
    """None when Debian's security archive answers from a container, else one sentence saying it does not."""
    try:
        check(ref, show=False, echo=False)
    except CommandFailed as exc:
        return (
            "Debian's security archive (deb.debian.org/debian-security) does not answer from a container here "
            f"({str(exc).strip().splitlines()[-1][:120]}): the security updates cannot be listed, so this part "
            "is skipped."
        )
    return None


def require(ref: str = "debian:bookworm-slim") -> bool:
    """True when Debian's security archive answers from a container; else print why (one line) and return False,
    as :func:`helpers.core.engine.require` does for what an engine cannot do."""
    sentence = archive_answers(ref)
    if sentence:
        print(f"⚠ {sentence}")
        return False
    return True


def cves(changelog: str, since: str) -> list[str]:
    """The CVE identifiers of a Debian changelog's entries newer than version ``since``, in order, once each."""
    entries = list(_ENTRY.finditer(changelog))
    found: list[str] = []
    for entry, following in zip(entries, [*entries[1:], None][: len(entries)], strict=True):
        if entry["version"] == since:
            break
        text = changelog[entry.end() : following.start() if following else len(changelog)]
        found += [cve for cve in dict.fromkeys(_CVE.findall(text)) if cve not in found]
    return found


def changelog(ref: str, package: str) -> str:
    """The Debian changelog of ``package`` in image ``ref`` (empty when the image has none for it)."""
    path = f"/usr/share/doc/{package}/changelog.Debian.gz"
    result = docker("run", "--rm", ref, "sh", "-c", f"[ ! -f {path} ] || zcat {path}", show=False, echo=False)
    return result.output
