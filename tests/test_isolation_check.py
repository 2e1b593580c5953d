"""The suite's isolation check itself can fail: it notices a removed, replaced or stopped decoy."""

from __future__ import annotations

from tests import isolation


def test_the_decoy_check_notices_harm(dc) -> None:
    decoys = isolation.create()
    try:
        assert isolation.problems(decoys) == []
        dc.containers.get(decoys.names["running"]).stop(timeout=0)
        dc.volumes.get(decoys.names["volume"]).remove()
        found = isolation.problems(decoys)
        assert "the learner's running container was stopped" in found
        assert "the learner's volume decoy was removed" in found
    finally:
        isolation.remove(decoys)


def test_the_decoy_check_notices_a_lost_volume_file(dc) -> None:
    decoys = isolation.create()
    try:
        volume = decoys.names["volume"]
        dc.containers.run("busybox", "rm /v/notes.txt", volumes={volume: {"bind": "/v"}}, remove=True)
        assert isolation.problems(decoys) == ["the learner's volume decoy lost its file"]
    finally:
        isolation.remove(decoys)


def test_the_host_fingerprint_notices_a_changed_file(tmp_path, monkeypatch) -> None:
    canary = tmp_path / "passwd"
    canary.write_text("root:x:0:0::/root:/bin/sh\n")
    monkeypatch.setattr(isolation, "HOST_FILES", (str(canary), str(tmp_path / "missing")))
    before = isolation.host_fingerprint()
    assert before[str(tmp_path / "missing")] == "absent"
    assert isolation.host_fingerprint() == before
    canary.write_text("root:x:0:0::/root:/bin/sh\nintruder:x:0:0::/:/bin/sh\n")
    assert isolation.host_fingerprint() != before


def test_a_changed_account_file_is_reported_by_its_lines() -> None:
    before = ["root:x:0:", "docker:x:998:"]
    after = ["root:x:0:", "docker:x:998:", "postgres:x:120:"]
    said = isolation.what_changed("/etc/group", before, after)
    assert said == "host file /etc/group changed: '+ postgres:x:120:'"
    assert isolation.what_changed("/etc/group", before, before[:1]) == "host file /etc/group changed: '- docker:x:998:'"
    assert isolation.what_changed("/etc/group", before, before[::-1]).endswith("no line added or removed)")


def test_shadow_lines_never_carry_a_hash(monkeypatch) -> None:
    lines = isolation.host_lines()
    assert all("$" not in ln for ln in lines.get("/etc/shadow", []))
    monkeypatch.setenv("DMAC_HOST_FILES", "0")
    assert isolation.host_fingerprint() == {}
    assert isolation.host_lines() == {}


def test_the_course_accounts_come_and_go_but_any_other_account_change_is_seen(tmp_path, monkeypatch) -> None:
    # CI runs the rootless lane and the hub (accounts dmac-…) beside make test, whose fingerprint must hold
    passwd, group = tmp_path / "passwd", tmp_path / "group"
    passwd.write_text("root:x:0:0::/root:/bin/sh\n")
    group.write_text("root:x:0:\ndocker:x:998:\n")
    monkeypatch.setattr(isolation, "HOST_FILES", (str(passwd), str(group)))
    monkeypatch.setattr(isolation, "ACCOUNT_FILES", (str(passwd), str(group)))
    real = isolation._without_course_accounts
    as_group = lambda path, lines: real(path.replace(str(group), "/etc/group"), lines)  # noqa: E731
    monkeypatch.setattr(isolation, "_without_course_accounts", as_group)
    before = isolation.host_fingerprint()
    passwd.write_text("root:x:0:0::/root:/bin/sh\ndmac-t01:x:1001:1001::/home/dmac-t01:/bin/bash\n")
    group.write_text("root:x:0:\ndocker:x:998:dmac-t01\ndmac-t01:x:1001:\n")
    assert isolation.host_fingerprint() == before
    group.write_text("root:x:0:\ndocker:x:998:dmac-t01,mallory\ndmac-t01:x:1001:\n")
    assert isolation.host_fingerprint()[str(group)] != before[str(group)]
    passwd.write_text("root:x:0:0::/root:/bin/sh\ndmac-t01:x:0:0::/:/bin/sh\n")  # root's uid: no course account
    assert isolation.host_fingerprint()[str(passwd)] != before[str(passwd)]
