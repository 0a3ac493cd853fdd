"""The loader registry: load_benchmark dispatches by name and checks the options."""

from __future__ import annotations

import pandas as pd
import pytest
from evaluation.loaders.benchmark_files import AUDIO, CLOTHO_AQA_CSV, cochlscene_split, write

from balsa_core.evaluation.loaders import LOADERS, load_benchmark, load_clotho_aqa


def test_registry_and_load_benchmark(tmp_path):
    assert set(LOADERS) == {
        "clotho_aqa",
        "audio_hallucination",
        "mmau",
        "sakura",
        "audio_entailment",
        "nonspeech7k",
        "cochlscene",
        "edansa",
        "speech_ifeval",
    }
    path = write(tmp_path / "clotho_aqa_test.csv", CLOTHO_AQA_CSV)
    pd.testing.assert_frame_equal(load_benchmark("clotho_aqa", path, AUDIO), load_clotho_aqa(path, AUDIO))
    assert len(load_benchmark("clotho_aqa", str(path), str(AUDIO), min_annotators=1)) == 4
    split = cochlscene_split(tmp_path, clips=2)
    assert len(load_benchmark("cochlscene", split, None, clips_per_scene=1)) == 13
    with pytest.raises(ValueError, match=r"unknown benchmark 'clotho'; known benchmarks: \['audio_entailment'"):
        load_benchmark("clotho", path, AUDIO)
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['seed'\]; known options: \['min_annotators'\]"):
        load_benchmark("clotho_aqa", path, AUDIO, seed=1)
    with pytest.raises(ValueError, match="audio_dir is required"):
        load_benchmark("clotho_aqa", path, None)
