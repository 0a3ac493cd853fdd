"""Bad configs stop before any job; a killed job resumes from what it finished."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import yaml
from openai_server import OpenAIServer
from workflow_run import (
    REPO,
    SNAKEMAKE,
    snakemake,
    write_config,
)

from balsa_core.generation import read_targets

# The first test here runs the whole DAG (the session fixture): minutes, many on a loaded machine.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda c: c["training"].update(learning_rat=1e-3), "unknown key 'training.learning_rat'"),
        (lambda c: c["training"].update(epochs="two"), "'training.epochs' must be of type integer"),
        (
            lambda c: c["corpora"].update(esc50={"reader": "esc50", "root": "no/such/ESC-50"}),
            "corpora.esc50.root: directory not found: no/such/ESC-50",
        ),
    ],
)
def test_a_bad_config_stops_before_any_job(tmp_path, edit, message):
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    edit(config)
    write_config(tmp_path, config)
    result = snakemake(tmp_path, "--cores", "1", "results/table4.csv")
    assert result.returncode != 0
    assert message in result.stderr
    assert result.stderr.count(message) == 1
    assert not (tmp_path / "data").exists() and not (tmp_path / "logs").exists()


def test_lint_reports_nothing():
    result = snakemake(REPO, "--lint")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Congratulations, your workflow is in a good condition!" in result.stdout + result.stderr


def job_processes(script_name: str, workdir: Path) -> list[int]:
    """PIDs of the Snakemake script jobs of ``script_name`` running in ``workdir`` (and no
    other run's, such as a demo running beside the tests)."""
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            command = cmdline.read_bytes().decode(errors="replace")
            cwd = Path(os.readlink(cmdline.parent / "cwd"))
        except OSError:
            continue
        if script_name in command and ".snakemake/scripts" in command and cwd == workdir:
            pids.append(int(cmdline.parent.name))
    return pids


def test_a_killed_generation_job_resumes_from_its_finished_shards(tmp_path):
    """kill -9 of the job Snakemake runs: Snakemake deletes the job's declared outputs, the
    shards beside them survive, and the rerun asks the server only for the missing ones."""
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    config["demo_corpus"].update(n_clips=40)
    config["generation"].update(shard_size=4, max_new_tokens=8)
    config["targets"]["questions"]["questions"] = str(REPO / "config/questions/demo_questions.csv")
    target = "data/targets/demo_tags/positive.parquet"
    shards = tmp_path / "data/targets/demo_tags/positive.shards"
    with OpenAIServer(delay_s=0.1) as server:
        config["generation"]["backends"]["local"] = {
            "type": "openai",
            "base_url": server.base_url,
            "model": "m",
            "concurrency": 1,
        }
        write_config(tmp_path, config)
        run = subprocess.Popen(
            [str(SNAKEMAKE), "--snakefile", str(REPO / "Snakefile"), "--cores", "1", "--", target],
            cwd=tmp_path,
            env={**os.environ, "PATH": f"{SNAKEMAKE.parent}{os.pathsep}{os.environ['PATH']}"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 300
        while len(list(shards.glob("shard-*.parquet"))) < 2 and time.monotonic() < deadline:
            assert run.poll() is None, run.communicate()[1][-3000:]
            time.sleep(0.02)
        victims = job_processes("generate_targets.py", tmp_path)
        assert victims, "the generation job is running"
        for pid in victims:
            os.kill(pid, signal.SIGKILL)
        _, stderr = run.communicate(timeout=120)
        assert run.returncode != 0
        survivors = {p.name: p.stat().st_mtime_ns for p in shards.glob("shard-*.parquet")}
        total_shards = len(json.loads((shards / "manifest.json").read_text())["shards"])
        assert 2 <= len(survivors) < total_shards, stderr[-3000:]
        assert not (tmp_path / target).exists(), "Snakemake removed the failed job's output"
        asked = len(server.requests)

        result = snakemake(tmp_path, "--cores", "1", "--", target)
        assert result.returncode == 0, result.stderr[-3000:]
        asked_on_rerun = len(server.requests) - asked

    targets = read_targets(tmp_path / target)
    requests = json.loads((shards / "manifest.json").read_text())
    assert targets["target_id"].is_unique and len(targets) == requests["rows"] == requests["rows_finished"]
    after = {p.name: p.stat().st_mtime_ns for p in shards.glob("shard-*.parquet")}
    assert all(after[name] == mtime for name, mtime in survivors.items()), "finished shards were not rewritten"
    rows_per_shard = {entry["file"]: entry["rows"] for entry in requests["shards"]}
    assert asked_on_rerun == sum(rows for name, rows in rows_per_shard.items() if name not in survivors)
    assert f"{len(survivors)} already finished" in (tmp_path / "logs/generate/demo_tags/positive.log").read_text()
