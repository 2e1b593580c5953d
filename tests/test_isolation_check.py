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
