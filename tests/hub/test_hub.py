"""The workshop hub end to end: three learners, each with their own daemon, at once (``make test-hub``, root).

A hub instance of its own (``dmac-hubtest``: accounts ``dmac-t01``..``dmac-t03``, port 18100, state in
``/var/lib/dmac-hubtest``) is started as ``make hub`` starts one, driven through JupyterHub's REST API with
its admin token, and purged afterwards (accounts, homes, cgroups). Limits are tighter than a room's (1 GiB,
1024 processes, an 8 GiB disk: notebook 00 asks for 5 GB free) so the fault tests stay quick. Figures
measured here are printed and written to
``build/hub/measurements.json`` (INSTRUCTORS.md quotes them).
"""

from __future__ import annotations

import dataclasses
import grp
import http.client
import http.cookiejar
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from helpers.core import course, wait
from helpers.infra import cgroups, disks, hub, hub_confine, hub_tls, netns, rootless
from tests import isolation
from tests.hub import packages

pytestmark = [
    pytest.mark.hub,
    pytest.mark.skipif(
        os.environ.get("DMAC_HUB_TESTS") != "1" or os.geteuid() != 0,
        reason="the hub creates accounts and cgroups: root and `make test-hub` (DMAC_HUB_TESTS=1) only",
    ),
]

LEARNERS = ["dmac-t01", "dmac-t02", "dmac-t03"]
NS = os.environ.get("DMAC_TEST_NAMESPACE", "dmac-hub")
MEASURED: dict[str, object] = {}
NOTEBOOKS = ["00-setup-and-preflight", "05-layers-and-copy-on-write", "13-compose-multi-service"]
CELL_SECONDS = 600


def _settings() -> hub.Settings:
    return hub.Settings(
        instance="dmac-hubtest",
        prefix="dmac-t",
        instructor="dmac-tadmin",
        learners=list(LEARNERS),
        port=int(os.environ.get("DMAC_HUB_TEST_PORT", "18100")),
        memory="1g",
        pids=1024,
        disk="8g",
        cpus=1.0,
    )


def as_learner(name: str, *argv: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """``argv`` as the learner with their server's environment (their daemon, the shared tools), in their
    network namespace as a terminal of their server is (nsenter, as root, then the learner's ids)."""
    user = rootless.learner(name)
    assert netns.path(user.uid).exists(), f"{name} has no network namespace: the hub makes one per learner"
    return subprocess.run(
        [*netns.nsenter(user.uid, user.gid), *argv],
        env=hub.learner_env(name),
        cwd=user.home,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def server(settings: hub.Settings, name: str) -> dict:
    return hub.api(settings, "GET", f"/users/{name}").get("servers", {}).get("", {})


def start_server(settings: hub.Settings, name: str) -> float:
    """POST the learner's server, wait until it is ready and their first container ran; seconds it took."""
    began = time.monotonic()
    hub.api(settings, "POST", f"/users/{name}/server")
    wait.until(lambda: server(settings, name).get("ready"), f"{name}'s server ready", timeout=300)
    first = as_learner(name, "docker", "run", "--rm", "--label", f"{course.LABEL}={NS}", "busybox", "true")
    assert first.returncode == 0, first.stderr
    return round(time.monotonic() - began, 1)


# The accounts change /etc/passwd, group and shadow (so make test-hub runs without the suite's decoys, which
# fingerprint them); every other host file a learner's container could touch must stay as it was.
UNTOUCHED = [path for path in isolation.HOST_FILES if path not in ("/etc/passwd", "/etc/group", "/etc/shadow")]


def _accounts_of(settings: hub.Settings) -> list[str]:
    names = [settings.instructor, *settings.learners]
    return [line for line in Path("/etc/passwd").read_text().splitlines() if line.split(":")[0] in names]


@pytest.fixture(scope="module")
def settings():
    settings = _settings()
    hub.stop(settings, purge=True)  # a previous run's leftovers, if any (this instance's only)
    packages.ensure_cron()  # before the fingerprint: the package adds /etc/crontab
    before = {path: isolation.host_fingerprint()[path] for path in UNTOUCHED}
    accounts_before = Path("/etc/passwd").read_text().splitlines()
    began = time.monotonic()
    hub.start(settings)
    MEASURED["hub_start_s"] = round(time.monotonic() - began, 1)
    uids = [rootless.learner(n).uid for n in LEARNERS]
    assert all(netns.path(uid).exists() for uid in uids)  # a network namespace each, from the start (F5)
    yield settings
    hub.stop(settings, purge=True)
    assert {path: isolation.host_fingerprint()[path] for path in UNTOUCHED} == before
    assert not _accounts_of(settings) and Path("/etc/passwd").read_text().splitlines() == accounts_before
    rules = "".join(subprocess.run(["iptables", "-t", table, "-S"], capture_output=True, text=True).stdout
                    for table in ("filter", "nat"))  # fmt: skip
    assert f"{settings.instance}: " not in rules  # the purge took the hub's rules away
    assert not any(netns.path(uid).exists() for uid in uids)  # and the learners' namespaces and pairs
    links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True).stdout
    assert not any(f" {netns.host_interface(uid)}@" in links for uid in uids), links
    addresses = subprocess.run(["ip", "-o", "addr", "show", "dev", "lo"], capture_output=True, text=True).stdout
    assert f" {netns.HUB_ADDRESS}/32 " not in addresses, addresses
    assert not cgroups.folders(settings.instance, LEARNERS[0])[0].parent.exists()
    out = course.ROOT / "build" / "hub" / "measurements.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(MEASURED, indent=2))
    print(json.dumps(MEASURED, indent=2))


@pytest.fixture(scope="module")
def running(settings: hub.Settings) -> hub.Settings:
    """All three servers started at once through the REST API."""
    with ThreadPoolExecutor(len(LEARNERS)) as pool:
        seconds = dict(zip(LEARNERS, pool.map(lambda n: start_server(settings, n), LEARNERS), strict=True))
    MEASURED["spawn_to_first_container_s"] = seconds
    spawns = [json.loads(line) for line in (settings.state / "spawns.jsonl").read_text().splitlines()]
    MEASURED["daemon_start_s"] = {s["user"]: s["daemon_s"] for s in spawns}
    MEASURED["base_images_load_s"] = {s["user"]: s["images_s"] for s in spawns}
    return settings


def test_each_server_runs_in_its_own_cgroup_on_its_own_daemon(running: hub.Settings) -> None:
    hosts = set()
    for name in LEARNERS:
        pid = server(running, name)["state"]["pid"]
        env = dict(line.split("=", 1) for line in Path(f"/proc/{pid}/environ").read_text().split("\0") if "=" in line)
        assert env["DOCKER_HOST"] == rootless.learner(name).host  # kernels and terminals inherit it
        hosts.add(env["DOCKER_HOST"])
        assert f"memory:/{running.instance}/{name}" in Path(f"/proc/{pid}/cgroup").read_text()
        folders = cgroups.folders(running.instance, name)
        assert Path(folders[0], "memory.limit_in_bytes").read_text().strip() == str(1 << 30)
        commands = {Path(f"/proc/{p}/comm").read_text().strip() for p in cgroups.members(folders)}
        assert {"dockerd", "containerd", "rootlesskit"} <= commands, commands
        groups = as_learner(name, "id", "-nG").stdout.split()
        assert "docker" not in groups and groups == [name]
    assert len(hosts) == len(LEARNERS)


def test_notebooks_run_in_all_three_at_once(running: hub.Settings) -> None:
    """00 then 05 per learner, the three learners at once, in their cgroups, each on their own daemon."""

    def run(name: str) -> dict[str, dict]:
        user = rootless.learner(name)
        results = {}
        for stem in NOTEBOOKS:
            source = user.checkout / "notebooks" / f"{stem}.ipynb"
            target = user.home / f"run-{stem}.ipynb"
            # the course's one runner and verdict (helpers.infra.runs), from the learner's own clone and environment
            # three learners building at once on two CPUs, beside CI's other lanes: a cell may take several times
            # its solo time (notebook 13's two image builds took over 180 s so), hence a bound of its own
            argv = [str(hub.VENV / "bin" / "python"), "-m", "helpers.infra.runs", str(source), str(target),
                    "--cell-timeout", str(CELL_SECONDS)]  # fmt: skip
            began = time.monotonic()
            proc = hub.run_confined(running, name, argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            out, err = (part.decode(errors="replace") for part in proc.communicate(timeout=900))
            lines = out.strip().splitlines()
            outcome = json.loads(lines[-1]) if lines else {"status": "no verdict"}
            results[stem] = {**outcome, "seconds": round(time.monotonic() - began, 1), "tail": err[-800:]}
        return results

    with ThreadPoolExecutor(len(LEARNERS)) as pool:
        results = dict(zip(LEARNERS, pool.map(run, LEARNERS), strict=True))
    MEASURED["notebooks_three_at_once_s"] = {n: {s: r["seconds"] for s, r in v.items()} for n, v in results.items()}
    MEASURED["memory_after_notebooks_mib"] = {
        n: round(cgroups.usage(cgroups.folders(running.instance, n)).get("memory", 0) / (1 << 20)) for n in LEARNERS
    }
    for name, per_notebook in results.items():
        for stem, outcome in per_notebook.items():
            assert outcome.get("status") in ("pass", "limited"), f"{name} {stem}: {outcome}"


def test_a_learner_reaches_neither_the_root_daemon_nor_another_learners(running: hub.Settings) -> None:
    a, b = LEARNERS[0], LEARNERS[1]
    label = f"{course.LABEL}={NS}"
    made = as_learner(b, "docker", "run", "-d", "--label", label, "--name", "dmac-hub-b", "busybox", "sleep", "300")
    assert made.returncode == 0, made.stderr
    seen = as_learner(a, "docker", "ps", "-a", "--format", "{{.Names}}")
    assert seen.returncode == 0 and "dmac-hub-b" not in seen.stdout
    for sock in ("/var/run/docker.sock", str(rootless.learner(b).socket)):
        refused = as_learner(a, "docker", "-H", f"unix://{sock}", "ps")
        assert refused.returncode != 0 and "permission denied" in refused.stderr.lower(), (sock, refused.stderr)
    shadow = as_learner(a, "docker", "run", "--rm", "-v", "/:/host", "busybox", "cat", "/host/etc/shadow")
    assert shadow.returncode != 0 and "root:" not in shadow.stdout
    assert "permission denied" in shadow.stderr.lower(), shadow.stderr
    # host files A may not write: a root-owned file (0644) and a root-owned folder (0755)
    target = Path("/var/tmp") / f"dmac-hub-probe-{os.getpid()}"
    target.write_text("root's\n")
    try:
        append = as_learner(
            a, "docker", "run", "--rm", "-v", "/var/tmp:/host", "busybox", "sh", "-c", f"echo A >> /host/{target.name}"
        )
        assert append.returncode != 0 and target.read_text() == "root's\n", append.stderr
    finally:
        target.unlink()
    create = as_learner(a, "docker", "run", "--rm", "-v", "/usr/local:/host", "busybox", "touch", "/host/dmac-probe")
    assert create.returncode != 0 and not Path("/usr/local/dmac-probe").exists(), create.stderr
    # A's clean-up, as thorough as it gets in A's daemon, leaves B's container running
    swept = as_learner(a, str(hub.VENV / "bin" / "python"), "-m", "helpers.core.cleanup", "--all-namespaces")
    assert swept.returncode == 0, swept.stderr
    assert as_learner(a, "docker", "system", "prune", "-af").returncode == 0
    still = as_learner(b, "docker", "inspect", "--format", "{{.State.Running}}", "dmac-hub-b")
    assert still.stdout.strip() == "true"
    as_learner(b, "docker", "rm", "-f", "dmac-hub-b")


def test_a_runaway_container_meets_its_learners_limits_and_the_others_keep_working(running: hub.Settings) -> None:
    a, b = LEARNERS[2], LEARNERS[1]
    folders = cgroups.folders(running.instance, a)
    # memory: a container holding 1.5 GiB in a 1 GiB cgroup is killed by the kernel (the host keeps its memory)
    hog = as_learner(a, "docker", "run", "--rm", "busybox", "sh", "-c", "head -c 1500m /dev/zero | tail > /dev/null")
    assert hog.returncode == 137, (hog.returncode, hog.stderr)  # SIGKILL from the cgroup's OOM killer
    # the cgroup's own OOM killer did it: its oom_kill count (v1 memory.oom_control, v2 memory.events), or the
    # limit's failure counters (memory's, or memory+swap's where the kernel accounts swap)
    counted = 0
    for name in ("memory.oom_control", "memory.events"):
        path = Path(folders[0], name)
        if path.exists():
            counted += sum(int(ln.split()[1]) for ln in path.read_text().splitlines() if ln.startswith("oom_kill "))
    for name in ("memory.failcnt", "memory.memsw.failcnt"):
        if Path(folders[0], name).exists():
            counted += int(Path(folders[0], name).read_text())
    assert counted > 0, f"no OOM kill nor limit hit recorded in {folders[0]}"
    # processes: a fork bomb stops at the cgroup's pids.max while B runs a container
    bomb = "i=0; while [ $i -lt 2000 ]; do sleep 20 & i=$((i+1)); done; wait"
    argv = ["docker", "run", "--rm", "busybox", "sh", "-c", bomb]
    storm = hub.run_confined(running, a, argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    refused = Path(folders[1], "pids.events")  # "max N": forks refused at the limit
    wait.until(lambda: int(refused.read_text().split()[1]) > 0, "the fork bomb at the pids limit", timeout=60)
    ok = as_learner(b, "docker", "run", "--rm", "busybox", "echo", "B still works")
    assert ok.returncode == 0 and "B still works" in ok.stdout
    assert cgroups.usage(folders)["pids"] <= 1024
    storm.wait(timeout=120)


def test_a_learner_who_fills_their_disk_stops_at_its_size_and_the_others_keep_working(running: hub.Settings) -> None:
    a, b = LEARNERS[2], LEARNERS[1]
    user = rootless.learner(a)
    assert disks.mounted(disks.mount_point(user)) and disks.image(running.state, a).is_file()
    # F2: mounted where only root writes, never in the learner's home (a swapped symlink could redirect it)
    assert not str(disks.mount_point(user)).startswith(str(user.home))
    assert disks.MOUNTS.stat().st_uid == 0 and disks.MOUNTS.stat().st_mode & 0o777 == 0o711
    usage = disks.usage(user)
    assert usage is not None, "the learner's disk is not mounted"
    used, size = usage
    assert 8.0e9 < size < 8.6e9, size  # the 8g of the settings (less ext4's own bookkeeping)
    host_free = shutil.disk_usage(running.state).free
    fill = as_learner(a, "docker", "run", "--rm", "busybox", "dd", "if=/dev/zero", "of=/fill", "bs=4M", timeout=300)
    assert fill.returncode != 0 and "No space left on device" in fill.stderr + fill.stdout, fill.stderr[-500:]
    ok = as_learner(b, "docker", "run", "--rm", "busybox", "echo", "B still works")
    assert ok.returncode == 0 and "B still works" in ok.stdout
    assert shutil.disk_usage(running.state).free > host_free - size - 200e6  # the host lost at most A's disk
    assert as_learner(a, "docker", "info", "--format", "{{.ServerVersion}}").returncode == 0  # A's daemon lives on
    MEASURED["disk_fill"] = {"size_gb": round(size / 1e9, 2), "used_before_gb": round(used / 1e9, 2)}


def test_stopping_a_server_stops_its_daemon_and_starting_again_keeps_the_work(running: hub.Settings) -> None:
    name = LEARNERS[0]
    user = rootless.learner(name)
    work = user.checkout / "notebooks" / "my-notes.txt"
    assert as_learner(name, "sh", "-c", f"echo mine > {work}").returncode == 0
    label = f"{course.LABEL}={NS}"
    assert as_learner(name, "docker", "volume", "create", "--label", label, "dmac-hub-mine").returncode == 0
    hub.api(running, "DELETE", f"/users/{name}/server")  # what the idle culler does to an idle server
    folders = cgroups.folders(running.instance, name)
    wait.until(lambda: not server(running, name) and not cgroups.members(folders), f"{name} stopped", timeout=90)
    assert not rootless.answers(user)
    assert rootless.answers(rootless.learner(LEARNERS[1]))  # the others' daemons run on
    MEASURED["restart_s"] = start_server(running, name)
    assert work.read_text() == "mine\n"
    volumes = as_learner(name, "docker", "volume", "ls", "--format", "{{.Name}}").stdout.split()
    assert "dmac-hub-mine" in volumes


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a 302 is the answer we look at


def log_in(settings: hub.Settings, name: str, password: str) -> int:
    """The login form as a browser submits it (with its XSRF token); the HTTP status of the answer."""
    return browser_session(settings, name, password)[1]


def browser_session(
    settings: hub.Settings, name: str, password: str, *, follow: bool = False
) -> tuple[urllib.request.OpenerDirector, int]:
    """A browser's cookie jar after the login form (redirects followed afterwards when ``follow``)."""
    tls = urllib.request.HTTPSHandler(context=ssl.create_default_context(cafile=str(settings.ca_file)))
    jar = urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    opener = urllib.request.build_opener(jar, _NoRedirect, tls)
    status = _submit(opener, settings, name, password)
    return (urllib.request.build_opener(jar, tls) if follow else opener), status


def _submit(opener: urllib.request.OpenerDirector, settings: hub.Settings, name: str, password: str) -> int:
    form = opener.open(f"{settings.url}/hub/login", timeout=30).read().decode()
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', form)
    assert xsrf, "no XSRF token in the login form"
    data = urllib.parse.urlencode({"_xsrf": xsrf.group(1), "username": name, "password": password}).encode()
    try:
        return opener.open(f"{settings.url}/hub/login", data=data, timeout=30).status
    except urllib.error.HTTPError as answer:
        return answer.code


def test_learners_log_in_with_their_own_password_only(settings: hub.Settings) -> None:
    passwords = json.loads((settings.state / "passwords.json").read_text())["passwords"]
    assert len(set(passwords.values())) == len(LEARNERS) + 1  # each account its own, the instructor's too
    a, b = LEARNERS[0], LEARNERS[1]
    assert log_in(settings, a, passwords[a]) == 302  # to their server
    assert log_in(settings, a, passwords[b]) == 403  # B's password does not open A's account
    assert log_in(settings, "root", passwords[a]) == 403


def test_the_instructor_runs_the_room_but_never_opens_a_learners_server(running: hub.Settings) -> None:
    # F7: a learner's server shares the hub's origin; script planted there must never run with the
    # instructor's cookies, so the instructor's role has no access:servers
    passwords = json.loads((running.state / "passwords.json").read_text())["passwords"]
    opener, status = browser_session(running, running.instructor, passwords[running.instructor], follow=True)
    assert status == 302
    with opener.open(f"{running.url}/hub/admin", timeout=30) as page:
        assert page.status == 200  # the admin page
    with pytest.raises(urllib.error.HTTPError) as refused:
        opener.open(f"{running.url}/user/{LEARNERS[1]}/api/status", timeout=30)
    assert refused.value.code == 403
    assert server(running, LEARNERS[1]).get("ready")  # it runs: the refusal is the role's, not a missing server


def test_a_former_learner_is_locked_out_and_accounts_expire(settings: hub.Settings) -> None:
    # F12: a learner of an earlier, larger room (an account of the hub's kind that is not in this roster)
    former = f"{settings.prefix}99"
    subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", former], check=True, capture_output=True)
    try:
        subprocess.run(["chpasswd"], input=f"{former}:old-password-1\n", text=True, check=True)
        assert log_in(settings, former, "old-password-1") == 403  # not allowed by the hub, whatever PAM says
        hub.accounts(settings)  # what the next `make hub` does
        shadow = subprocess.run(["getent", "shadow", former], capture_output=True, text=True).stdout.split(":")
        assert shadow[1].startswith("!")  # locked
        assert shadow[7] == "1"  # expired since 1970-01-02
        for name in LEARNERS:  # this workshop's accounts expire with it: days since 1970, within a week or so
            expires = subprocess.run(["getent", "shadow", name], capture_output=True, text=True).stdout.split(":")[7]
            assert 0 < int(expires) - time.time() // 86400 <= settings.days + 1, expires
    finally:
        subprocess.run(["userdel", "--remove", former], capture_output=True)


def test_logs_and_state_are_roots_only(running: hub.Settings) -> None:
    # F17: the hub's log holds every learner's server output; a learner's daemon log and state are root's
    assert (running.logs / "jupyterhub.log").stat().st_mode & 0o077 == 0
    user = rootless.learner(LEARNERS[0])
    assert user.log.stat().st_mode & 0o077 == 0
    for path in (running.logs / "jupyterhub.log", user.log):
        denied = as_learner(LEARNERS[1], "cat", str(path))
        assert denied.returncode != 0 and "Permission denied" in denied.stderr
    # F4: no process of a learner holds the hub's log open (a kernel could write, forge or truncate it); their
    # server's output goes to a log of its own
    hub_log = str(running.logs / "jupyterhub.log")
    for name in LEARNERS:
        folders = cgroups.folders(running.instance, name)
        for pid in cgroups.members(folders):
            try:
                held = {os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")}
            except OSError:
                continue  # the process ended meanwhile
            assert hub_log not in held, f"{name}'s process {pid} holds the hub's log"
    assert (running.logs / f"server-{LEARNERS[0]}.log").stat().st_size > 0


def test_the_hub_speaks_https_only_with_a_certificate_for_the_rooms_names(settings: hub.Settings) -> None:
    names = hub_tls.alt_names(settings.tls_folder / "hub.crt")
    assert f"DNS:{os.uname().nodename}" in names
    assert "IP Address:127.0.0.1" in names
    assert "DNS:localhost" in names
    assert settings.url.startswith("https://")
    # verified against the room CA: the login page answers
    context = ssl.create_default_context(cafile=str(settings.ca_file))
    with urllib.request.urlopen(f"{settings.url}/hub/login", context=context, timeout=30) as page:
        assert page.status == 200
    # without the room CA the handshake fails: nothing is sent to a hub the client cannot verify
    with pytest.raises(urllib.error.URLError) as refused:
        urllib.request.urlopen(f"{settings.url}/hub/login", timeout=30)
    assert "CERTIFICATE_VERIFY_FAILED" in str(refused.value)
    # plain HTTP on the same port gets no login page (the port speaks TLS only)
    with pytest.raises((urllib.error.URLError, ConnectionError, http.client.HTTPException)):
        urllib.request.urlopen(settings.url.replace("https://", "http://") + "/hub/login", timeout=30).read()
    sheet = hub.sheet(settings, {})
    assert hub_tls.fingerprint(settings.ca_file) in sheet
    assert "never click through" in sheet


def test_chromium_trusts_the_hub_once_it_trusts_the_room_ca(settings: hub.Settings, tmp_path: Path) -> None:
    # a learner's browser: Debian's Chromium, headless, its own profile; no --ignore-certificate-errors
    from playwright import sync_api as playwright

    chromium = shutil.which("chromium")
    assert chromium and shutil.which("certutil"), "make test installs both (helpers.infra.setup browser)"
    home = tmp_path / "home"
    (home / ".pki" / "nssdb").mkdir(parents=True)
    nssdb = f"sql:{home / '.pki' / 'nssdb'}"
    subprocess.run(["certutil", "-N", "-d", nssdb, "--empty-password"], check=True, capture_output=True)
    url = settings.url + "/hub/login"  # the certificate names 127.0.0.1 too (and the host, checked above)

    def visit() -> str:
        flags = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]  # fmt: skip
        with playwright.sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, args=flags, env={**os.environ, "HOME": str(home)})
            try:
                page = browser.new_page()
                try:
                    page.goto(url, timeout=30_000)
                except playwright.Error as error:
                    return str(error)
                return page.title()
            finally:
                browser.close()

    assert "ERR_CERT_AUTHORITY_INVALID" in visit()  # not trusted yet: the browser refuses the page
    trust = ["certutil", "-A", "-d", nssdb, "-n", "DMAC room CA", "-t", "C,,", "-i", str(settings.ca_file)]
    subprocess.run(trust, check=True, capture_output=True)
    assert "JupyterHub" in visit()


def test_reset_through_a_planted_symlink_deletes_nothing_of_roots(running: hub.Settings) -> None:
    # F1: the learner swaps ~/.local/share for a symlink to a folder with a "docker" of root's in it, then the
    # instructor resets them; the other learners keep working meanwhile
    name, other = LEARNERS[0], LEARNERS[1]
    user = rootless.learner(name)
    victim = Path(f"/var/tmp/dmac-hub-f1-{name}")
    (victim / "docker" / "precious").mkdir(parents=True, exist_ok=True)
    (victim / "docker" / "precious" / "keep").write_text("root's, not the learner's\n")
    share = user.home / ".local" / "share"
    denied = as_learner(name, "rm", "-rf", str(victim / "docker" / "precious"))
    assert denied.returncode != 0 and "Permission denied" in denied.stderr  # the learner cannot delete it
    planted = as_learner(name, "sh", "-c", f"mv {share} {share}.real && ln -s {victim} {share}")
    assert planted.returncode == 0, planted.stderr
    try:
        hub.reset(running, name)
        assert (victim / "docker" / "precious" / "keep").read_text() == "root's, not the learner's\n"
        assert share.is_symlink()  # the learner's own link, left as it was
        assert as_learner(other, "docker", "run", "--rm", "busybox", "true").returncode == 0
    finally:
        undo = as_learner(name, "sh", "-c", f"rm {share} && mv {share}.real {share}")
        assert undo.returncode == 0, undo.stderr
        shutil.rmtree(victim)
    hub.reset(running, name)  # a plain reset now empties their daemon as before
    assert not (user.home / ".local" / "share" / "docker").exists() or not any(
        (user.home / ".local" / "share" / "docker").iterdir()
    )
    start_server(running, name)


def test_reset_empties_one_learners_daemon_and_notebooks_only(running: hub.Settings) -> None:
    name, other = LEARNERS[1], LEARNERS[0]  # (LEARNERS[2] met the fork bomb)
    label = f"{course.LABEL}={NS}"
    for learner in (name, other):
        assert as_learner(learner, "docker", "volume", "create", "--label", label, "dmac-hub-keep").returncode == 0
    work = rootless.learner(name).checkout / "notebooks" / "scratch.txt"
    assert as_learner(name, "sh", "-c", f"echo mine > {work}").returncode == 0
    hub.reset(running, name)
    assert not work.exists() and (rootless.learner(name).checkout / "notebooks").is_dir()
    assert not (rootless.learner(name).home / ".local" / "share" / "docker").exists()
    assert "dmac-hub-keep" in as_learner(other, "docker", "volume", "ls", "-q").stdout.split()
    start_server(running, name)
    assert "dmac-hub-keep" not in as_learner(name, "docker", "volume", "ls", "-q").stdout.split()


def _stop_server(settings: hub.Settings, name: str) -> None:
    hub.api(settings, "DELETE", f"/users/{name}/server")
    wait.until(lambda: not server(settings, name), f"{name}'s server stopping", timeout=90)


def test_cron_su_and_logins_lead_nowhere_outside_the_cgroup(running: hub.Settings) -> None:
    # F3: other daemons would start a learner's programs outside the cgroup: cron, at, su, ssh
    name, other = LEARNERS[0], LEARNERS[1]
    assert shutil.which("crontab"), "the settings fixture installs cron (tests/hub/packages.py)"
    cron = as_learner(name, "sh", "-c", "echo '* * * * * id > $HOME/.probe-cron' | crontab -")
    assert cron.returncode != 0 and "not allowed" in cron.stderr, cron.stderr
    for path in (Path("/etc/cron.deny"), Path("/etc/at.deny")):
        assert name in path.read_text().split()
    assert subprocess.run(["getent", "passwd", name], capture_output=True, text=True).stdout.strip().endswith(
        ":/usr/sbin/nologin"
    )
    password = json.loads((running.state / "passwords.json").read_text())["passwords"][name]
    # su flushes what was typed before its prompt: the password comes 3 s later, through the terminal `script` makes
    typed = f"(sleep 3; echo '{password}') | script -qec \"su -c 'cat /proc/self/cgroup' {name}\" /dev/null"
    su = subprocess.run(
        ["sh", "-c", typed],
        user=rootless.learner(other).uid, group=rootless.learner(other).gid, extra_groups=[],
        capture_output=True, text=True, timeout=60, env=hub.learner_env(other),
    )  # fmt: skip
    assert "This account is currently not available" in su.stdout, su.stdout + su.stderr
    assert "memory:" not in su.stdout  # nothing ran as the learner
    # the learner's own work goes on: their server's terminals take SHELL from the server, /bin/bash
    assert as_learner(name, "docker", "run", "--rm", "busybox", "true").returncode == 0


def test_shared_memory_and_the_runtime_folder_end_with_the_server(running: hub.Settings) -> None:
    # F8: /dev/shm, System V shared memory and /run/user/<uid> would outlive the cgroup and its limit
    name = LEARNERS[1]
    user = rootless.learner(name)
    mount = subprocess.run(["findmnt", "-n", "-o", "FSTYPE,SIZE", str(user.runtime_dir)], capture_output=True,
                           text=True).stdout.split()  # fmt: skip
    assert mount and mount[0] == "tmpfs", mount  # a tmpfs of its own, not the host's /run
    probe = Path(f"/dev/shm/probe-{name}")
    made = as_learner(name, "sh", "-c", f"head -c 10000000 /dev/zero > {probe} && ipcmk -M 1048576")
    assert made.returncode == 0, made.stderr
    assert probe.stat().st_size == 10_000_000
    assert hub_confine.sysv_ids(Path("/proc/sysvipc/shm").read_text(), user.uid)
    _stop_server(running, name)
    assert not probe.exists()
    assert hub_confine.sysv_ids(Path("/proc/sysvipc/shm").read_text(), user.uid) == []
    assert not os.path.ismount(user.runtime_dir)
    start_server(running, name)


def test_a_learners_own_daemon_json_cannot_move_the_data_root_off_their_disk(running: hub.Settings) -> None:
    # F4: dockerd-rootless.sh would read ~/.config/docker/daemon.json, whose data-root moves images into the home
    name = LEARNERS[0]
    user = rootless.learner(name)
    moved = as_learner(name, "sh", "-c", 'mkdir -p ~/.config/docker && printf \'{"data-root": "%s/.probe-root"}\' '
                       '"$HOME" > ~/.config/docker/daemon.json')  # fmt: skip
    assert moved.returncode == 0, moved.stderr
    try:
        _stop_server(running, name)
        start_server(running, name)
        root = as_learner(name, "docker", "info", "--format", "{{.DockerRootDir}}").stdout.strip()
        assert root == str(disks.mount_point(user)), root
        assert not (user.home / ".probe-root").exists()
    finally:
        (user.home / ".config" / "docker" / "daemon.json").unlink(missing_ok=True)


def _metadata_rejections(settings: hub.Settings, uid: int) -> int:
    """Packets the metadata rule in the learner's network namespace rejected so far."""
    return netns.metadata_rejections(settings.instance, uid)


def test_no_learner_nor_their_container_reaches_the_cloud_metadata_service(running: hub.Settings) -> None:
    # F9: on a cloud VM 169.254.169.254 hands out the instance's credentials and user-data to whoever asks
    name = LEARNERS[0]
    uid = rootless.learner(name).uid
    before = _metadata_rejections(running, uid)
    probe = ("import socket\ntry:\n    socket.create_connection(('169.254.169.254', 80), timeout=5)\n"
             "    print('connected')\nexcept ConnectionRefusedError:\n    print('refused')\n"
             "except OSError as exc:\n    print('failed', exc)\n")  # fmt: skip
    asked = as_learner(name, "python3", "-c", probe)
    assert asked.stdout.strip() == "refused", asked.stdout + asked.stderr
    from_terminal = _metadata_rejections(running, uid)
    assert from_terminal > before  # refused by the rule in the learner's namespace, not by a missing route
    # a container's connection leaves through slirp4netns, a process of the learner's in their namespace: the same
    # rule rejects it there (its counter moves), and the container never connects (slirp4netns answers the
    # refusal with silence: the container's attempt times out). bash's /dev/tcp: the course's busybox, made from
    # Debian's static build, crashes in wget.
    box = as_learner(name, "docker", "run", "--rm", "debian:bookworm-slim", "bash", "-c",
                     "timeout 10 bash -c 'exec 3<>/dev/tcp/169.254.169.254/80' && echo connected")  # fmt: skip
    from_container = _metadata_rejections(running, uid)
    assert from_container > from_terminal, (from_terminal, from_container, box.returncode, box.stderr)
    assert box.returncode != 0 and "connected" not in box.stdout, box.stdout
    for other in LEARNERS[1:]:  # every learner's namespace has the rule
        uid = rootless.learner(other).uid
        listed = subprocess.run(["ip", "netns", "exec", netns.name(uid), "iptables", "-S", "OUTPUT"],
                                capture_output=True, text=True).stdout  # fmt: skip
        assert f"-d {netns.METADATA}/32" in listed and "no cloud metadata" in listed, listed


def test_a_learner_in_the_docker_group_gets_no_server(running: hub.Settings) -> None:
    # F13: a well-meant `usermod -aG docker` makes the learner root; the spawn refuses, the others work on
    name, other = LEARNERS[1], LEARNERS[0]
    _stop_server(running, name)
    subprocess.run(["gpasswd", "--add", name, "docker"], check=True, capture_output=True)
    try:
        try:
            hub.api(running, "POST", f"/users/{name}/server")
        except urllib.error.HTTPError as answer:  # the spawn failed at once: JupyterHub answers 500 with why
            assert answer.code == 500, answer
        wait.until(lambda: not server(running, name).get("pending"), f"{name}'s spawn to end", timeout=120)
        assert not server(running, name).get("ready")
        log = (running.logs / "jupyterhub.log").read_text(errors="replace")
        assert f"{name} is in the group(s) docker, which give root on this host" in log
        assert as_learner(other, "docker", "run", "--rm", "busybox", "true").returncode == 0
    finally:
        subprocess.run(["gpasswd", "--delete", name, "docker"], check=True, capture_output=True)
    start_server(running, name)
    pid = server(running, name)["state"]["pid"]
    groups = Path(f"/proc/{pid}/status").read_text().split("Groups:")[1].splitlines()[0].split()
    docker_gid = str(grp.getgrnam("docker").gr_gid)
    assert docker_gid not in groups  # the real server's groups, not a test process's (F13's tautology)


CULL_SECONDS = 30


def _command_lines() -> list[list[str]]:
    """Every process's argv on the host (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            raw = (entry / "cmdline").read_bytes() if entry.name.isdigit() else b""
        except OSError:
            continue
        if raw:
            found.append(raw.decode(errors="replace").rstrip("\0").split("\0"))
    return found


# F5: a learner's processes hold ports in their own network namespace only. Three processes (a process holds at
# most RLIMIT_NOFILE sockets) bind ('0.0.0.0', 0) until the kernel has no port left to give; the parent then
# tries a connection of its own, which needs a port too, and reports.
HOG = """
import errno, os, socket, sys, time
read, write = os.pipe()
for _ in range(3):
    if os.fork() == 0:
        held, why = [], ""
        try:
            while True:
                s = socket.socket()
                s.bind(("0.0.0.0", 0))
                s.listen()
                held.append(s)
        except OSError as exc:
            why = errno.errorcode.get(exc.errno, str(exc.errno))
        os.write(write, f"held {len(held)} {why}\\n".encode())
        time.sleep(600)
        os._exit(0)
reports = os.fdopen(read)
for _ in range(3):
    print(reports.readline().strip(), flush=True)
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
    print("connect ok", flush=True)
except OSError as exc:
    print("connect", errno.errorcode.get(exc.errno, str(exc.errno)), flush=True)
time.sleep(600)
"""


def _connect_from(name: str, host: str, port: int) -> str:
    """What a connection from the learner's namespace to ``host:port`` gives: ok, or the error's name."""
    probe = (f"import errno, socket\ntry:\n    socket.create_connection(({host!r}, {port}), timeout=5)\n"
             "    print('ok')\nexcept TimeoutError:\n    print('timed out')\n"
             "except OSError as exc:\n    print(errno.errorcode.get(exc.errno, exc.errno))\n")  # fmt: skip
    return as_learner(name, "python3", "-c", probe).stdout.strip()


def _serving(settings: hub.Settings, *names: str) -> None:
    """The learners' servers running (an earlier test may have stopped one)."""
    for name in names:
        if not server(settings, name).get("ready"):
            start_server(settings, name)


def test_a_learner_who_holds_every_port_holds_only_their_own(running: hub.Settings) -> None:
    a, b = LEARNERS[0], LEARNERS[1]
    _serving(running, a, b)
    low, high = map(int, Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    hub_api = (netns.HUB_ADDRESS, running.port + 1)
    hog = hub.run_confined(running, a, ["python3", "-c", HOG, *map(str, hub_api)], stdout=subprocess.PIPE,
                           start_new_session=True)  # fmt: skip
    try:
        assert hog.stdout is not None
        said = [hog.stdout.readline().decode().strip() for _ in range(4)]  # three holders, then A's own connection
        assert all(said), (said, hog.poll())  # the hog reported (it did not die before)
        held = sum(int(line.split()[1]) for line in said[:3])
        assert "EADDRINUSE" in " ".join(said[:3]), said  # the attack worked: no port left in A's namespace ...
        assert held > (high - low + 1) - 100, (held, said)  # (the whole range, less the ports already in use)
        assert said[3] == "connect EADDRNOTAVAIL", said  # ... and A cannot connect anywhere any more
        MEASURED["f5_ports_held_by_one_learner"] = held
        # ... while the hub answers through the proxy, B's daemon works and B reaches the hub's API
        assert hub.api(running, "GET", "/")["version"]
        assert _connect_from(b, *hub_api) == "ok"
        box = as_learner(b, "docker", "run", "--rm", "--label", f"{course.LABEL}={NS}", "busybox", "true")
        assert box.returncode == 0, box.stderr
    finally:
        os.killpg(hog.pid, 9)
        hog.wait()
    assert _connect_from(a, *hub_api) == "ok"  # the ports came back with the processes


def test_a_learner_reaches_neither_another_learners_server_nor_their_published_ports(running: hub.Settings) -> None:
    a, b = LEARNERS[0], LEARNERS[2]
    _serving(running, a, b)
    b_uid = rootless.learner(b).uid
    listening = subprocess.run(["ip", "netns", "exec", netns.name(b_uid), "ss", "-ltnH"], capture_output=True,
                               text=True, check=True).stdout  # fmt: skip
    address = netns.inside_address(b_uid)
    ports = [int(row.split()[3].rsplit(":", 1)[1]) for row in listening.splitlines() if f"{address}:" in row]
    assert ports, listening  # B's server listens on their namespace's address ...
    port = ports[0]
    socket.create_connection((address, port), timeout=5).close()  # ... which the host (the proxy's side) reaches
    dropped = _learner_to_learner_drops(running)
    assert _connect_from(a, address, port) == "timed out"  # from A's namespace: nothing comes back ...
    assert _learner_to_learner_drops(running) > dropped  # ... because the hub's rule dropped it, not a missing route
    # F10: a port B's container publishes on loopback is on B's loopback, which A's namespace does not share
    label = f"{course.LABEL}={NS}"
    web = as_learner(b, "docker", "run", "-d", "--label", label, "--name", "dmac-hub-web", "-p", "127.0.0.1::8080",
                     "busybox", "httpd", "-f", "-p", "8080")  # fmt: skip
    assert web.returncode == 0, web.stderr
    try:
        published = as_learner(b, "docker", "port", "dmac-hub-web", "8080").stdout.split()[0]
        host_port = int(published.rsplit(":", 1)[1])
        assert wait.until(lambda: _connect_from(b, "127.0.0.1", host_port) == "ok", "B's published port", timeout=30)
        assert _connect_from(a, "127.0.0.1", host_port) == "ECONNREFUSED"  # nothing listens on A's own loopback
    finally:
        as_learner(b, "docker", "rm", "-f", "dmac-hub-web")


def _learner_to_learner_drops(settings: hub.Settings) -> int:
    listed = subprocess.run(["iptables", "-L", "FORWARD", "-v", "-n", "-x"], capture_output=True, text=True).stdout
    rows = [line.split() for line in listed.splitlines() if f"{settings.instance}: no learner to learner" in line]
    assert rows, listed
    return sum(int(row[0]) for row in rows)


def test_the_idle_culler_stops_an_idle_learner_and_their_daemon(running: hub.Settings) -> None:
    """The real jupyterhub-idle-culler, not an API call standing in for it: the hub is restarted as
    `make hub CULL=30` would start it, one learner's server is left idle, and the culler stops it; the
    post-stop hook stops their daemon; starting again finds their work. (Last in the module: a hub that culls
    after 30 s would stop the servers the other tests drive from outside Jupyter.)"""
    name = LEARNERS[0]
    user = rootless.learner(name)
    hub.stop(running)  # the servers and daemons stop; accounts, disks and the hub's database stay
    culling = dataclasses.replace(running, cull_seconds=CULL_SECONDS)
    hub.start(culling)
    assert hub.load(culling.instance).cull_seconds == CULL_SECONDS
    culler = [argv for argv in _command_lines() if "jupyterhub_idle_culler" in argv]
    assert culler and f"--timeout={CULL_SECONDS}" in culler[0], culler
    start_server(culling, name)
    work = user.checkout / "notebooks" / "before-the-culler.txt"
    assert as_learner(name, "sh", "-c", f"echo kept > {work}").returncode == 0
    idle_from = time.monotonic()
    folders = cgroups.folders(culling.instance, name)
    wait.until(lambda: not server(culling, name), f"the idle culler to stop {name}", timeout=CULL_SECONDS * 5)
    MEASURED["culled_after_idle_s"] = round(time.monotonic() - idle_from, 1)
    wait.until(lambda: not cgroups.members(folders), f"{name}'s daemon and containers gone", timeout=60)
    assert not rootless.answers(user)
    log = (culling.logs / "jupyterhub.log").read_text(errors="replace")
    assert f"Culling server {name} (inactive" in log  # the culler's own words, in the hub's log
    start_server(culling, name)
    assert work.read_text() == "kept\n"
