"""EDANSA-2019: yes/no items per event and multiple-choice items per clip."""

from __future__ import annotations

import pytest
from evaluation.loaders.benchmark_files import AUDIO, check_schema, write

from balsa_core.evaluation.loaders import EDANSA_EVENTS, BenchmarkFileError, load_edansa

EDANSA_CSV = """Clip Path,Anth,Bio,Fly,Bird,Woof,Wind,Rain,Airc,Mach,set
anwr/35/a.flac,0,1,1.0,0.0,0,0,0,0,0,test
anwr/35/b.flac,1,1,0,1,0,1,0,1,0,test
anwr/35/c.flac,0,1,0,1,0,0,0,0,0,train
anwr/35/d.flac,0,0,,N/A,0,1,0,0,0,test
anwr/35/e.flac,0,1,0,1.0,0,0,0,0,0,test
"""


def test_edansa_yes_no_items(tmp_path):
    path = write(tmp_path / "labels.csv", EDANSA_CSV)
    items = load_edansa(path, AUDIO)
    check_schema(items, "edansa")
    # 5 clips x 7 events, less the 2 unlabelled cells of clip d.
    assert len(items) == 5 * 7 - 2
    first = items[items["item_id"].str.startswith("edansa|anwr/35/a.flac|")]
    assert first["event"].tolist() == list(EDANSA_EVENTS.values())
    assert first["answer"].tolist() == ["yes", "no", "no", "no", "no", "no", "no"]
    assert first["question"].iloc[0] == "Is there fly in the audio?"
    assert first["audio_path"].iloc[0] == str(AUDIO / "anwr" / "35" / "a.flac")
    assert (items["subset"] == items["event"]).all()
    tested = load_edansa(path, AUDIO, split="test", events=["Bird", "Wind"])
    assert tested["item_id"].tolist() == [
        "edansa|anwr/35/a.flac|bird",
        "edansa|anwr/35/a.flac|wind",
        "edansa|anwr/35/b.flac|bird",
        "edansa|anwr/35/b.flac|wind",
        "edansa|anwr/35/d.flac|wind",
        "edansa|anwr/35/e.flac|bird",
        "edansa|anwr/35/e.flac|wind",
    ]


def test_edansa_multiple_choice_items(tmp_path):
    path = write(tmp_path / "labels.csv", EDANSA_CSV)
    items = load_edansa(path, AUDIO, mode="multiple_choice")
    check_schema(items, "edansa")
    # b has bird, wind and aircraft: ambiguous, left out; d has wind only.
    assert items[["item_id", "answer"]].values.tolist() == [
        ["edansa|anwr/35/a.flac", "fly"],
        ["edansa|anwr/35/c.flac", "bird"],
        ["edansa|anwr/35/e.flac", "bird"],
        ["edansa|anwr/35/d.flac", "wind"],
    ]
    assert items["choices"].iloc[0] == list(EDANSA_EVENTS.values())
    sampled = load_edansa(path, AUDIO, mode="multiple_choice", clips_per_event=1, seed=3)
    assert sampled["answer"].tolist() == ["fly", "bird", "wind"]
    assert sampled.equals(load_edansa(path, AUDIO, mode="multiple_choice", clips_per_event=1, seed=3))


def test_edansa_errors(tmp_path):
    bad_value = write(tmp_path / "labels.csv", EDANSA_CSV.replace("1.0,0.0", "yes,0.0"))
    with pytest.raises(BenchmarkFileError, match=r"labels\.csv:2: 'Fly' must be 0 or 1, got 'yes'"):
        load_edansa(bad_value, AUDIO)
    no_machine = write(tmp_path / "labels.csv", EDANSA_CSV.replace(",Mach,", ",Machine,"))
    with pytest.raises(BenchmarkFileError, match=r"labels\.csv: no label 'Mach' column"):
        load_edansa(no_machine, AUDIO)
    no_clip = write(tmp_path / "labels.csv", EDANSA_CSV.replace("Clip Path", "Path"))
    with pytest.raises(BenchmarkFileError, match="no clip path column"):
        load_edansa(no_clip, AUDIO)
    with pytest.raises(BenchmarkFileError, match="missing column 'fold' to select split 'test'"):
        load_edansa(write(tmp_path / "ok.csv", EDANSA_CSV), AUDIO, split="test", split_column="fold")
