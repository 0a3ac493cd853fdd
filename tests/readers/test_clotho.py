from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import pytest
from helpers import check_result_schema, clean_rows, write_csv, write_wav

from balsa_core.readers import clotho
from balsa_core.readers.common import AnnotationError

HEADER = ["file_name", "caption_1", "caption_2", "caption_3", "caption_4", "caption_5"]
SUBSETS = {"train": "development", "val": "validation", "test": "evaluation"}


def captions(stem: str) -> list[str]:
    return [f"{stem} caption {number}" for number in range(1, 6)]


def write_captions(root: Path, split: str, rows: Sequence[Sequence[str]], header: Sequence[str] = HEADER) -> Path:
    return write_csv(root / f"clotho_captions_{SUBSETS[split]}.csv", header, rows)


def make_clotho(root: Path, clips: dict[str, Sequence[str]]) -> Path:
    """One captions file per split, listing the given file names with five made-up captions each."""
    for split, file_names in clips.items():
        write_captions(root, split, [[name, *captions(Path(name).stem)] for name in file_names])
    return root


def test_reads_one_caption_seed_per_caption(tmp_path: Path) -> None:
    root = make_clotho(
        tmp_path,
        {
            "train": ["Rain, heavy on the roof.wav", "birds.wav"],
            "val": ["Radio Garble.wav"],
            "test": ["01 Ocean Waves.wav"],
        },
    )
    write_wav(root / "development" / "Rain, heavy on the roof.wav", seconds=1.0, sample_rate=44100)
    write_wav(root / "development" / "birds.wav", seconds=0.5, sample_rate=44100)
    write_wav(root / "validation" / "Radio Garble.wav", seconds=0.2, sample_rate=22050)
    write_wav(root / "evaluation" / "01 Ocean Waves.wav", seconds=0.5, sample_rate=44100)

    rows = clean_rows(clotho.read("clotho", root, {}))

    assert len(rows) == 20
    assert list(rows["seed_id"][:6]) == [
        "clotho/Rain, heavy on the roof#1",
        "clotho/Rain, heavy on the roof#2",
        "clotho/Rain, heavy on the roof#3",
        "clotho/Rain, heavy on the roof#4",
        "clotho/Rain, heavy on the roof#5",
        "clotho/birds#1",
    ]
    assert list(rows["seed_text"][:5]) == captions("Rain, heavy on the roof")
    assert list(rows["clip_id"].unique()) == [
        "clotho/Rain, heavy on the roof",
        "clotho/birds",
        "clotho/Radio Garble",
        "clotho/01 Ocean Waves",
    ]
    assert list(rows["split"]) == ["train"] * 10 + ["val"] * 5 + ["test"] * 5
    assert rows["audio_path"].iloc[0] == str(root / "development" / "Rain, heavy on the roof.wav")
    assert rows["audio_path"].iloc[10] == str(root / "validation" / "Radio Garble.wav")
    assert rows["audio_path"].iloc[15] == str(root / "evaluation" / "01 Ocean Waves.wav")
    assert set(rows["seed_kind"]) == {"caption"}
    assert set(rows["corpus"]) == {"clotho"}
    assert list(rows["tags"]) == [[]] * 20
    per_clip = rows.drop_duplicates("clip_id")
    assert list(per_clip["duration_s"]) == pytest.approx([1.0, 0.5, 0.2, 0.5])
    assert list(per_clip["sample_rate"]) == [44100, 44100, 22050, 44100]


def test_quoted_file_names_and_captions_are_read_verbatim(tmp_path: Path) -> None:
    name = 'Footsteps, "wet" gravel , 2.wav'
    texts = ["A person walks, slowly, on gravel", 'Someone says "hello"', "c3", "c4", "c5"]
    csv_path = write_captions(tmp_path, "train", [[name, *texts]])
    assert '"Footsteps, ""wet"" gravel , 2.wav"' in csv_path.read_text()

    rows = clotho.read("clotho", tmp_path, {"splits": ["train"], "probe_audio": False}).rows

    assert list(rows["clip_id"].unique()) == ['clotho/Footsteps, "wet" gravel , 2']
    assert list(rows["audio_path"].unique()) == [str(tmp_path / "development" / name)]
    assert list(rows["seed_text"]) == texts


def test_first_caption_gives_one_seed_per_clip(tmp_path: Path) -> None:
    root = make_clotho(tmp_path, {"train": ["a.wav", "b, c.wav"], "val": ["d.wav"], "test": ["e.wav"]})

    result = clotho.read("cl", root, {"captions": "first", "probe_audio": False})

    check_result_schema(result)
    rows = result.rows
    assert list(rows["seed_id"]) == ["cl/a#1", "cl/b, c#1", "cl/d#1", "cl/e#1"]
    assert list(rows["seed_text"]) == ["a caption 1", "b, c caption 1", "d caption 1", "e caption 1"]
    assert list(rows["split"]) == ["train", "train", "val", "test"]


def test_without_probe_keeps_rows_of_missing_audio(tmp_path: Path) -> None:
    root = make_clotho(tmp_path, {"test": ["gone.wav"]})

    rows = clean_rows(clotho.read("clotho", root, {"splits": ["test"], "probe_audio": False}))

    assert len(rows) == 5
    assert all(math.isnan(value) for value in rows["duration_s"])
    assert set(rows["sample_rate"]) == {0}


def test_missing_audio_rejects_every_caption_of_the_clip(tmp_path: Path) -> None:
    root = make_clotho(tmp_path, {"train": ["here.wav", "gone.wav"]})
    write_wav(root / "development" / "here.wav")

    result = clotho.read("clotho", root, {"splits": ["train"]})

    check_result_schema(result)
    assert set(result.rows["clip_id"]) == {"clotho/here"}
    assert len(result.rejects) == 5
    assert set(result.rejects["reason"]) == {"missing audio file"}
    assert set(result.rejects["audio_path"]) == {str(root / "development" / "gone.wav")}
    assert set(result.rejects["source"]) == {f"{root / 'clotho_captions_development.csv'}:3"}


def test_splits_option_reads_only_the_listed_files(tmp_path: Path) -> None:
    # No validation file exists: it is not asked for.
    root = make_clotho(tmp_path, {"train": ["a.wav"], "test": ["b.wav"]})

    rows = clotho.read("clotho", root, {"splits": ["test", "train"], "probe_audio": False}).rows

    assert list(rows["clip_id"].unique()) == ["clotho/b", "clotho/a"]
    assert clotho.annotation_files(root, {"splits": ["test"]}) == [root / "clotho_captions_evaluation.csv"]
    assert clotho.annotation_files(root, {}) == [
        root / "clotho_captions_development.csv",
        root / "clotho_captions_validation.csv",
        root / "clotho_captions_evaluation.csv",
    ]


def test_missing_captions_file_names_it(tmp_path: Path) -> None:
    make_clotho(tmp_path, {"train": ["a.wav"], "test": ["b.wav"]})

    with pytest.raises(AnnotationError) as raised:
        clotho.read("clotho", tmp_path, {"probe_audio": False})

    assert str(tmp_path / "clotho_captions_validation.csv") in str(raised.value)


def test_missing_caption_column_names_file_and_column(tmp_path: Path) -> None:
    csv_path = write_captions(tmp_path, "val", [["a.wav", "1", "2", "3", "4"]], header=HEADER[:-1])

    with pytest.raises(AnnotationError) as raised:
        clotho.read("clotho", tmp_path, {"splits": ["val"], "captions": "first"})

    assert str(csv_path) in str(raised.value)
    assert "caption_5" in str(raised.value)


@pytest.mark.parametrize(("captions_option", "empty_column"), [("all", "caption_4"), ("first", "caption_1")])
def test_empty_caption_names_file_line_and_column(tmp_path: Path, captions_option: str, empty_column: str) -> None:
    row = ["b.wav", "one", "two", "three", "four", "five"]
    row[HEADER.index(empty_column)] = "  "
    csv_path = write_captions(tmp_path, "train", [["a.wav", *captions("a")], row])

    with pytest.raises(AnnotationError, match=empty_column) as raised:
        clotho.read("clotho", tmp_path, {"splits": ["train"], "captions": captions_option})

    assert f"{csv_path}:3" in str(raised.value)


def test_an_empty_caption_beyond_the_first_is_ignored_with_first(tmp_path: Path) -> None:
    write_captions(tmp_path, "train", [["a.wav", "one", "", "", "", ""]])

    rows = clotho.read("clotho", tmp_path, {"splits": ["train"], "captions": "first", "probe_audio": False}).rows

    assert list(rows["seed_text"]) == ["one"]
