"""Shards: deterministic plans, reuse of finished shards, atomic writes, and a real ``kill -9``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest
from openai_server import OpenAIServer

from balsa_core.generation import Completion, GenerationError, SamplingSettings
from balsa_core.generation.http_backend import OpenAICompatibleBackend
from balsa_core.generation.shards import MANIFEST, generate_in_shards, plan_shards

SETTINGS = SamplingSettings(max_new_tokens=16, temperature=0.7, top_p=0.9, seed=100)


def requests(count: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "target_id": [f"seed{i:03d}|positive|0" for i in range(count)],
            "prompt": [f"[Begin of audio] sound {i} [End of audio] Replay the audio." for i in range(count)],
        }
    )


class CountingBackend:
    model_name = "counting"
    identity = {"type": "counting"}

    def __init__(self, fail_on_call: int | None = None) -> None:
        self.calls = 0
        self.fail_on_call = fail_on_call

    def generate(self, user_messages, settings):
        self.calls += 1
        if self.calls == self.fail_on_call:
            raise ConnectionError("server went away")
        return [Completion(f"{m} / seed {settings.seed + i}", 3, True) for i, m in enumerate(user_messages)]


def shard_files(directory: Path) -> dict[str, tuple[int, int]]:
    return {path.name: (path.stat().st_ino, path.stat().st_mtime_ns) for path in directory.glob("shard-*.parquet")}


def written_manifest(shard_dir: Path) -> dict:
    """The manifest.json that generate_in_shards keeps beside the shards."""
    return json.loads((shard_dir / MANIFEST).read_text())


def test_plans_are_deterministic_and_seed_each_message_by_its_position():
    first = plan_shards(requests(10), 4, SETTINGS, {"type": "x"})
    again = plan_shards(requests(10), 4, SETTINGS, {"type": "x"})
    assert [s.file_name for s in first] == [s.file_name for s in again]
    assert [len(s.target_ids) for s in first] == [4, 4, 2]
    assert [s.settings.seed for s in first] == [100, 104, 108]


def test_a_changed_prompt_backend_or_setting_changes_only_the_affected_fingerprints():
    base = plan_shards(requests(8), 4, SETTINGS, {"type": "x"})
    edited = requests(8)
    edited.loc[5, "prompt"] = "something else"
    assert [s.fingerprint for s in plan_shards(edited, 4, SETTINGS, {"type": "x"})][0] == base[0].fingerprint
    assert plan_shards(edited, 4, SETTINGS, {"type": "x"})[1].fingerprint != base[1].fingerprint
    assert all(
        a.fingerprint != b.fingerprint for a, b in zip(base, plan_shards(requests(8), 4, SETTINGS, {"type": "y"}))
    )
    hotter = SamplingSettings(max_new_tokens=16, temperature=1.0, top_p=0.9, seed=100)
    assert all(a.fingerprint != b.fingerprint for a, b in zip(base, plan_shards(requests(8), 4, hotter, {"type": "x"})))


def test_a_rerun_reuses_every_finished_shard(tmp_path):
    backend = CountingBackend()
    first = generate_in_shards(requests(10), backend, SETTINGS, tmp_path, shard_size=4)
    files = shard_files(tmp_path)
    assert backend.calls == 3 and len(files) == 3
    again = generate_in_shards(requests(10), backend, SETTINGS, tmp_path, shard_size=4)
    assert backend.calls == 3, "nothing regenerated"
    assert shard_files(tmp_path) == files
    pd.testing.assert_frame_equal(first, again)
    manifest = written_manifest(tmp_path)
    assert (manifest["rows"], manifest["rows_finished"]) == (10, 10)
    assert [entry["rows"] for entry in manifest["shards"]] == [4, 4, 2]


def test_a_failure_names_the_shard_and_leaves_only_finished_shards(tmp_path):
    with pytest.raises(GenerationError, match=r"shard 2/3 \(.*shard-00001-.*\.parquet\) failed: server went away"):
        generate_in_shards(requests(10), CountingBackend(fail_on_call=2), SETTINGS, tmp_path, shard_size=4)
    assert [name[:11] for name in shard_files(tmp_path)] == ["shard-00000"]
    assert not list(tmp_path.glob(".*partial"))
    manifest = written_manifest(tmp_path)
    assert [entry["finished"] for entry in manifest["shards"]] == [True, False, False]

    resumed = CountingBackend()
    result = generate_in_shards(requests(10), resumed, SETTINGS, tmp_path, shard_size=4)
    assert resumed.calls == 2 and list(result["target_id"]) == list(requests(10)["target_id"])


def test_shards_of_earlier_settings_and_partial_writes_are_removed(tmp_path):
    generate_in_shards(requests(6), CountingBackend(), SETTINGS, tmp_path, shard_size=3)
    (tmp_path / ".shard-00001-0123456789abcdef.parquet.999.partial").write_bytes(b"half a file")
    edited = requests(6)
    edited.loc[4, "prompt"] = "changed"
    generate_in_shards(edited, CountingBackend(), SETTINGS, tmp_path, shard_size=3)
    plan = plan_shards(edited, 3, SETTINGS, CountingBackend.identity)
    assert set(shard_files(tmp_path)) == {shard.file_name for shard in plan}
    assert not list(tmp_path.glob(".*partial"))


def test_a_truncated_shard_is_regenerated(tmp_path):
    generate_in_shards(requests(6), CountingBackend(), SETTINGS, tmp_path, shard_size=3)
    victim = sorted(tmp_path.glob("shard-*.parquet"))[1]
    victim.write_bytes(victim.read_bytes()[:40])
    backend = CountingBackend()
    result = generate_in_shards(requests(6), backend, SETTINGS, tmp_path, shard_size=3)
    assert backend.calls == 1 and len(result) == 6


JOB = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    import pandas as pd
    from balsa_core.generation import SamplingSettings
    from balsa_core.generation.http_backend import OpenAICompatibleBackend
    from balsa_core.generation.shards import generate_in_shards

    base_url, shard_dir, count = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
    requests = pd.DataFrame({
        "target_id": [f"seed{i:03d}|positive|0" for i in range(count)],
        "prompt": [f"[Begin of audio] sound {i} [End of audio] Replay the audio." for i in range(count)],
    })
    backend = OpenAICompatibleBackend(base_url=base_url, model="m", concurrency=2)
    settings = SamplingSettings(max_new_tokens=16, temperature=0.7, top_p=0.9, seed=100)
    result = generate_in_shards(requests, backend, settings, shard_dir, shard_size=5)
    result.to_parquet(shard_dir.parent / "out.parquet")
    """
)


def run_job(base_url: str, shard_dir: Path, count: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", JOB, base_url, str(shard_dir), str(count)])


def test_kill_9_midway_then_rerun_gives_the_uninterrupted_rows_and_regenerates_only_missing_shards(tmp_path):
    count, shard_size = 60, 5
    with OpenAIServer() as server:
        reference = run_job(server.base_url, tmp_path / "reference" / "shards", count)
        assert reference.wait(timeout=120) == 0
    expected = pd.read_parquet(tmp_path / "reference" / "out.parquet")

    shard_dir = tmp_path / "killed" / "shards"
    with OpenAIServer(delay_s=0.05) as server:
        job = run_job(server.base_url, shard_dir, count)
        deadline = time.monotonic() + 120
        while len(shard_files(shard_dir)) < 3 and time.monotonic() < deadline and job.poll() is None:
            time.sleep(0.01)
        os.kill(job.pid, signal.SIGKILL)
        job.wait()
        assert job.returncode == -signal.SIGKILL
        survivors = shard_files(shard_dir)
        assert 3 <= len(survivors) < count // shard_size, "killed midway"
        asked_before_kill = len(server.requests)

        rerun = run_job(server.base_url, shard_dir, count)
        assert rerun.wait(timeout=120) == 0
        asked_on_rerun = len(server.requests) - asked_before_kill

    result = pd.read_parquet(tmp_path / "killed" / "out.parquet")
    assert result["target_id"].is_unique and len(result) == count
    pd.testing.assert_frame_equal(result, expected)
    after = shard_files(shard_dir)
    assert all(after[name] == identity for name, identity in survivors.items()), "finished shards untouched"
    assert asked_on_rerun == count - shard_size * len(survivors), "only the missing shards were asked for"


def test_an_endpoint_that_keeps_failing_stops_the_job_naming_the_shard(tmp_path):
    with OpenAIServer(failures=lambda number: 500) as server:
        backend = OpenAICompatibleBackend(base_url=server.base_url, model="m", max_retries=2, backoff_s=0.01)
        with pytest.raises(
            GenerationError, match=r"shard 1/2 \(.*shard-00000-.*\) failed: .*after 3 attempts: HTTP 500"
        ):
            generate_in_shards(requests(8), backend, SETTINGS, tmp_path, shard_size=4)
    assert not list(tmp_path.glob("shard-*")) and not list(tmp_path.glob(".*partial"))
    assert not any(entry["finished"] for entry in written_manifest(tmp_path)["shards"])
