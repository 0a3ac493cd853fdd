"""The demo stages write the corpus in the readers' layouts and exactly the benchmark files the
rule declares (``DEMO_BENCHMARK_FILES``)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from balsa_core.demo.benchmarks import DEMO_BENCHMARK_FILES
from balsa_core.stages.demo import demo_benchmarks, demo_corpus


def test_the_demo_corpus_and_its_benchmark_files(tmp_path: Path, make_config) -> None:
    config = make_config(lambda config: config["demo_corpus"].update(n_clips=30))
    truth = tmp_path / "demo" / "events.csv"
    demo_corpus(config, truth)
    assert truth.is_file() and (tmp_path / "demo/esc50/meta/esc50.csv").is_file()
    assert all((tmp_path / "demo/audiocaps" / f"{split}.csv").is_file() for split in ("train", "val", "test"))

    demo_benchmarks(config, truth)
    benchmarks = tmp_path / "demo" / "benchmarks"
    written = {path.relative_to(benchmarks).as_posix() for path in benchmarks.rglob("*") if path.is_file()}
    assert written == set(DEMO_BENCHMARK_FILES)


def test_without_a_demo_section_the_demo_stages_refuse(tmp_path: Path, make_config) -> None:
    config = dataclasses.replace(make_config(), demo_corpus=None)
    for stage in (demo_corpus, demo_benchmarks):
        with pytest.raises(ValueError, match="no demo_corpus section"):
            stage(config, tmp_path / "events.csv")
