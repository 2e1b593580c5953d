"""What runs inside the cgroup v2 VM (:mod:`helpers.infra.cgroupvm`): the checks script and the unit that runs it
at boot.

``checks.sh`` starts once, after ``docker.service``; every check stores what it *measured* (a file's content, an
exit code, a line of ``docker stats``) in ``/run/dmac/results/<key>``, and a failure's stderr in ``error.<key>``.
The last thing it prints on ttyS0 is every value as one JSON object after :data:`MARKER`; then the unit powers
the VM off. The host's test asserts the values: nothing here decides pass or fail.
"""

from __future__ import annotations

MARKER = "DMAC-CGROUP2-RESULTS"
"""Starts the console line that carries the results (JSON)."""

PROGRESS = "[dmac-vm]"
"""Starts each progress line of the checks on the console (the host echoes them)."""

LIB = "/usr/local/lib/dmac"
ROOTLESS_USER = "dmac-rl"
ROOTLESS_SCRIPT = "/usr/share/docker.io/contrib/dockerd-rootless.sh"
"""Debian ships Docker's rootless script in docker.io's contrib folder (``dpkg -L docker.io | grep rootless``)."""

IO_MB = 32
"""MiB a container writes with ``oflag=direct`` for the I/O accounting check."""

UNIT = f"""\
[Unit]
Description=DMAC cgroup v2 lane: run the checks, print the results on ttyS0, power off
Wants=docker.service
After=docker.service dbus.service systemd-logind.service systemd-user-sessions.service
SuccessAction=poweroff-force
FailureAction=poweroff-force

[Service]
# exec, not oneshot: the boot counts as finished when the checks start (systemd-analyze time, at the end)
Type=exec
ExecStart={LIB}/checks.sh
StandardOutput=tty
StandardError=tty
TTYPath=/dev/ttyS0
TimeoutStartSec=900

[Install]
WantedBy=multi-user.target
"""

_CHECKS_SH = r"""#!/bin/bash
# The cgroup v2 lane's checks (helpers/infra/cgroupvm.py), run once at boot by dmac-checks.service, which then
# powers the VM off. Each value measured goes to $R/<key>, a failure's stderr to $R/error.<key>; the last line
# is all of them as JSON after the marker. One rootful dockerd (docker.service) serves every rootful check.
set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
R=/run/dmac/results
LIB=@LIB@
RL_USER=@ROOTLESS_USER@
mkdir -p "$R"

centis() { local up _; read -r up _ </proc/uptime; echo $((10#${up/./})); }
seconds() { printf '%d.%d' $(($1 / 100)) $(($1 % 100 / 10)); }
say() { printf '@PROGRESS@ %6s s since boot: %s\n' "$(seconds "$(centis)")" "$*"; }
put() { printf '%s' "$2" >"$R/$1"; }
fail() { put "error.$1" "$(tail -c 400 "$R/.stderr" 2>/dev/null)"; }
wait_for() {  # wait_for SECONDS TEST-ARGS...: poll a test(1) every half second
  local tries=$(($1 * 2)); shift
  until test "$@"; do tries=$((tries - 1)); [ "$tries" -gt 0 ] || return 1; sleep 0.5; done
}
check() {  # check NAME: run check_NAME, record its seconds
  local start; start=$(centis)
  "check_$1"
  put "seconds.$1" "$(seconds $(($(centis) - start)))"
}

check_engine() {
  say "engine: docker info"
  put vm.kernel "$(uname -r)"
  put vm.cgroup_fs "$(stat -fc %T /sys/fs/cgroup)"
  local out version cgroup driver
  out=$(docker info --format '{{.ServerVersion}} {{.CgroupVersion}} {{.CgroupDriver}}' 2>"$R/.stderr") \
    || fail engine
  read -r version cgroup driver <<<"$out"
  put engine.version "${version-}"
  put engine.cgroup_version "${cgroup-}"
  put engine.cgroup_driver "${driver-}"
  say "engine: busybox image from busybox-static's files (docker import)"
  docker import "$LIB/busybox.tar" busybox:latest >/dev/null 2>"$R/.stderr" || fail busybox
}

check_limits() {
  say "limits: docker run -m 64m --cpus 0.5 --pids-limit 100"
  local out lines
  out=$(docker run --rm --network none -m 64m --cpus 0.5 --pids-limit 100 busybox \
    cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/cpu.max /sys/fs/cgroup/pids.max 2>"$R/.stderr") || fail limits
  mapfile -t lines <<<"$out"
  put limits.memory_max "${lines[0]-}"
  put limits.cpu_max "${lines[1]-}"
  put limits.pids_max "${lines[2]-}"
}

# An OOM kill reaches `docker inspect` as an event of its own: containerd's shim reads memory.events when the kernel
# counts the kill. With the systemd driver, systemd removes a scope's cgroup as soon as it is empty, so when the killed
# process was the container's only one the read can come too late and OOMKilled stays false (containerd skips its own
# OOMKilled test with systemd for this reason, containerd@bdff34ef). So the allocation runs as a child of the
# container's shell, which outlives it by 3 s and exits with its status; it starts a second after the container, so
# that the shim already watches (containerd#8180); and inspect is asked up to 10 s.
check_oom() {
  say "oom: 128 MiB allocated under -m 64m"
  docker run --name dmac-oom --network none -m 64m busybox sh -c \
    'sleep 1; dd if=/dev/zero of=/dev/null bs=128M count=1; code=$?; echo "dd exit $code"; sleep 3; exit $code' \
    >"$R/oom.logs" 2>"$R/.stderr"
  put oom.exit_code $?
  local out killed=false code asked=0
  while [ "$killed" != true ] && [ "$asked" -lt 20 ]; do
    [ "$asked" -eq 0 ] || sleep 0.5
    asked=$((asked + 1))
    out=$(docker inspect --format '{{.State.OOMKilled}} {{.State.ExitCode}}' dmac-oom 2>"$R/.stderr") || fail oom
    read -r killed code <<<"$out"
  done
  put oom.oom_killed "${killed-}"
  put oom.inspect_exit_code "${code-}"
  put oom.inspect_asked "$asked"
  docker rm dmac-oom >/dev/null 2>&1
}

# One running container for I/O, stats and update: it writes @IO_MB@ MiB with O_DIRECT, then sleeps (dd's report on
# stdout, so that `docker logs` keeps its order).
check_live() {
  say "io: a container writes @IO_MB@ MiB with dd oflag=direct"
  local id scope field total=0
  id=$(docker run -d --name dmac-live --network none -m 64m busybox \
    sh -c 'dd if=/dev/zero of=/io.bin bs=1M count=@IO_MB@ oflag=direct 2>&1; echo "dd exit $?"; exec sleep 600' \
    2>"$R/.stderr") || { fail live; return; }
  scope=/sys/fs/cgroup/system.slice/docker-$id.scope
  put io.scope "$scope"
  local tries=240
  until docker logs dmac-live 2>&1 | grep -q 'dd exit'; do
    tries=$((tries - 1)); [ "$tries" -gt 0 ] || { put error.io "dd did not finish in 120 s"; break; }; sleep 0.5
  done
  put io.dd "$(docker logs dmac-live 2>&1)"
  local out
  out=$(cat "$scope/io.stat" 2>"$R/.stderr") || fail io
  put io.stat "$out"
  for field in $out; do  # "254:0 rbytes=… wbytes=… …" per device
    [[ $field == wbytes=* ]] && total=$((total + ${field#wbytes=}))
  done
  put io.wbytes "$total"

  say "stats: docker stats --no-stream"
  out=$(docker stats --no-stream --format '{{.MemUsage}}' dmac-live 2>"$R/.stderr") || fail stats
  put stats.mem_usage "$out"

  say "exporter: the course's exporter (notebook 11) reads the container's cgroup v2 files"
  local read='import runpy, sys; print(runpy.run_path(sys.argv[1], run_name="exporter")["metrics"](sys.argv[2]))'
  out=$(python3 -c "$read" "$LIB/exporter.py" "$scope" 2>"$R/.stderr") || fail exporter
  put exporter.metrics "$out"
  put exporter.memory_limit "$(printf '%s\n' "$out" | sed -n 's/^cgroup_memory_limit_bytes //p')"
  put exporter.cpu_seconds "$(printf '%s\n' "$out" | sed -n 's/^cgroup_cpu_seconds_total //p')"

  say "update: docker update -m 128m on the running container"
  put update.memory_max_before "$(cat "$scope/memory.max")"
  docker update -m 128m dmac-live >/dev/null 2>"$R/.stderr" || fail update
  put update.memory_max_host "$(cat "$scope/memory.max")"
  out=$(docker exec dmac-live cat /sys/fs/cgroup/memory.max 2>"$R/.stderr") || fail update_exec
  put update.memory_max "$out"
  docker rm -f dmac-live >/dev/null 2>&1
}

check_hub() {
  say "hub: a learner's cgroup made by helpers/infra/cgroups.py, and an OOM kill in it"
  (cd "$LIB" && python3 -m helpers.infra.cgroupvm_hub "$R") 2>"$R/.stderr" || [ -e "$R/error.hub" ] || fail hub
}

as_user() {  # the rootless user's environment, as a login session would give it
  runuser -u "$RL_USER" -- env HOME="/home/$RL_USER" XDG_RUNTIME_DIR="/run/user/$uid" \
    DBUS_SESSION_BUS_ADDRESS="unix:path=/run/user/$uid/bus" DOCKER_HOST="unix:///run/user/$uid/docker.sock" "$@"
}

start_rootless() {  # start_rootless UNIT: 0 once the daemon answers, 1 if the unit stops first or 180 s pass
  as_user systemd-run --user --unit "$1" \
    --setenv PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "@ROOTLESS_SCRIPT@" \
    >/dev/null 2>"$R/.stderr" || return 2
  local deadline=$((SECONDS + 180)) state
  until as_user timeout 20 docker version --format '{{.Server.Version}}' >/dev/null 2>&1; do
    state=$(as_user systemctl --user is-active "$1" 2>&1)
    if [ "$SECONDS" -ge "$deadline" ] || { [ "$state" != active ] && [ "$state" != activating ]; }; then
      last="service $state: $(journalctl _UID="$uid" -n 30 --no-pager 2>&1 | tail -c 2000)"
      as_user systemctl --user stop "$1" >/dev/null 2>&1  # and what it left: a stale socket, rootlesskit's state
      rm -rf "/run/user/$uid/docker.sock" "/run/user/$uid/docker.pid" "/run/user/$uid/dockerd-rootless"
      return 1
    fi
    sleep 1
  done
}

check_rootless() {
  say "rootless: user $RL_USER with subordinate ids, lingering (systemd --user)"
  useradd --create-home --shell /bin/bash "$RL_USER" 2>"$R/.stderr" || fail rootless_user
  grep -q "^$RL_USER:" /etc/subuid || usermod --add-subuids 100000-165535 --add-subgids 100000-165535 "$RL_USER"
  put rootless.subuid "$(grep "^$RL_USER:" /etc/subuid)"
  uid=$(id -u "$RL_USER")
  loginctl enable-linger "$RL_USER" 2>"$R/.stderr" || fail rootless_linger
  wait_for 120 -S "/run/user/$uid/bus" || { put error.rootless "no user bus in 120 s"; return; }
  put rootless.delegate "$(systemctl show --property DelegateControllers --value "user@$uid.service")"
  put rootless.controllers "$(cat "/sys/fs/cgroup/user.slice/user-$uid.slice/user@$uid.service/cgroup.controllers")"
  put rootless.script "@ROOTLESS_SCRIPT@"

  say "rootless: dockerd-rootless.sh as a systemd --user service of $RL_USER"
  local last=""
  start_rootless dmac-dockerd-rootless
  case $? in
    0) ;;
    2) fail rootless_start; return ;;
    *)  # a socket is not a daemon: under a busy emulated CPU its containerd may time out and dockerd exit
      put rootless.first_start "$last"
      say "rootless: the daemon stopped before it answered; starting it once more"
      start_rootless dmac-dockerd-rootless-2 || { put error.rootless "no daemon answering: $last"; return; } ;;
  esac
  local out driver cgroup security
  out=$(as_user timeout 120 docker info \
    --format '{{.CgroupDriver}} {{.CgroupVersion}} {{json .SecurityOptions}}' 2>"$R/.stderr") || fail rootless_info
  read -r driver cgroup security <<<"$out"
  put rootless.cgroup_driver "${driver-}"
  put rootless.cgroup_version "${cgroup-}"
  put rootless.security "${security-}"
  say "rootless: docker run -m 64m busybox cat /sys/fs/cgroup/memory.max (as $RL_USER)"
  as_user docker import "$LIB/busybox.tar" busybox:latest >/dev/null 2>"$R/.stderr" || fail rootless_import
  out=$(as_user docker run --rm --network none -m 64m busybox cat /sys/fs/cgroup/memory.max 2>"$R/.stderr") \
    || fail rootless_run
  put rootless.memory_max "$out"
}

checks="engine limits oom live hub rootless"
for word in $(</proc/cmdline); do  # dmac.checks=engine,rootless on the kernel's command line: only those
  [[ $word == dmac.checks=* ]] && checks=${word#dmac.checks=} && checks=${checks//,/ }
done
say "checks start: $checks"
for name in $checks; do check "$name"; done
put vm.uptime_at_end "$(seconds "$(centis)")"
say "checks done; the boot's time (systemd-analyze)"
put vm.startup "$(systemd-analyze time 2>&1 | head -1)"
python3 - "$R" <<'EOF'
import json, os, pathlib, sys
values = {p.name: p.read_text().strip() for p in sorted(pathlib.Path(sys.argv[1]).iterdir()) if p.name[0] != "."}
line = ("@MARKER@ " + json.dumps(values, sort_keys=True) + "\n").encode()
while line:
    line = line[os.write(1, line):]
EOF
"""


def checks_sh() -> str:
    """The checks script, with this module's constants filled in."""
    values = {"LIB": LIB, "ROOTLESS_USER": ROOTLESS_USER, "ROOTLESS_SCRIPT": ROOTLESS_SCRIPT, "PROGRESS": PROGRESS,
              "MARKER": MARKER, "IO_MB": str(IO_MB)}  # fmt: skip
    text = _CHECKS_SH
    for name, value in values.items():
        text = text.replace(f"@{name}@", value)
    return text
