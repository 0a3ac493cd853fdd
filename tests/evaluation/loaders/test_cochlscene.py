"""CochlScene: a seeded sample of clips per scene folder."""

from __future__ import annotations

import pandas as pd
import pytest
from evaluation.loaders.benchmark_files import AUDIO, check_schema, cochlscene_split

from balsa_core.evaluation.loaders import COCHLSCENE_SCENES, BenchmarkFileError, load_cochlscene


def test_cochlscene_draws_a_seeded_sample_per_scene(tmp_path):
    split = cochlscene_split(tmp_path, clips=5)
    items = load_cochlscene(split, AUDIO, clips_per_scene=3, seed=7)
    check_schema(items, "cochlscene")
    assert len(items) == 13 * 3
    assert items.groupby("scene").size().eq(3).all()
    assert items["choices"].iloc[0] == list(COCHLSCENE_SCENES.values())
    station = items[items["scene"] == "SubwayStation"]
    assert set(station["answer"]) == {"Subway Station"}
    assert station["audio_path"].iloc[0].startswith(str(AUDIO / "SubwayStation" / "SubwayStation_"))
    again = load_cochlscene(split, AUDIO, clips_per_scene=3, seed=7)
    pd.testing.assert_frame_equal(items, again)
    draws = {tuple(load_cochlscene(split, AUDIO, clips_per_scene=3, seed=seed)["item_id"]) for seed in range(4)}
    assert len(draws) > 1
    everything = load_cochlscene(split, clips_per_scene=None)
    assert len(everything) == 13 * 5  # notes.txt is not audio
    assert everything["audio_path"].iloc[0] == str(split / "Bus" / "Bus_000.wav")


def test_cochlscene_checks_scene_folders(tmp_path):
    split = cochlscene_split(tmp_path, clips=1)
    (split / "Beach").mkdir()
    (split / "Park" / "Park_000.wav").unlink()
    (split / "Park").rmdir()
    with pytest.raises(BenchmarkFileError, match=r"unknown \['Beach'\], missing \['Park'\]"):
        load_cochlscene(split, AUDIO)
    with pytest.raises(BenchmarkFileError, match="split folder not found"):
        load_cochlscene(tmp_path / "Val", AUDIO)
