from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import pytest
from helpers import check_result_schema, clean_rows, reject, write_json, write_wav

from balsa_core.readers import vocalsound
from balsa_core.readers.common import AnnotationError

# The release's datafiles hold absolute paths on its authors' machine and AudioSet mids.
AUTHORS_AUDIO_DIR = "/data/sls/scratch/yuangong/vocalsound/data/audio_16k"
SPLIT_FILE_NAMES = {"train": "tr.json", "val": "val.json", "test": "te.json"}


def make_audio(root: Path, file_names: Sequence[str], audio_dir: str = "audio_16k") -> Path:
    for file_name in file_names:
        write_wav(root / audio_dir / file_name)
    return root


def datafile(file_names: Sequence[str]) -> dict[str, object]:
    return {"data": [{"wav": f"{AUTHORS_AUDIO_DIR}/{name}", "labels": "/m/01b_21"} for name in file_names]}


def write_datafiles(root: Path, splits: dict[str, Sequence[str]]) -> dict[str, Path]:
    return {
        split: write_json(root / "datafiles" / SPLIT_FILE_NAMES[split], datafile(names))
        for split, names in splits.items()
    }


def test_without_split_files_every_recording_is_train(tmp_path: Path) -> None:
    names = [
        "m0100_1_throatclearing.wav",
        "f0003_0_sniff.wav",
        "f0003_0_cough.wav",
        "f0003_0_laughter.wav",
        "m0100_0_sigh.wav",
        "f0004_0_sneeze.wav",
    ]
    root = make_audio(tmp_path, names)
    write_wav(root / "audio_16k" / "f0004_0_sneeze.wav", seconds=1.0, sample_rate=44100)
    (root / "audio_16k" / "readme.txt").write_text("not audio")

    rows = clean_rows(vocalsound.read("vs", root, {}))

    # Sorted by file name, whatever order the directory lists them in.
    assert list(rows["seed_id"]) == [f"vs/{Path(name).stem}" for name in sorted(names)]
    assert list(rows["clip_id"]) == list(rows["seed_id"])
    assert list(rows["tags"]) == [["cough"], ["laughter"], ["sniff"], ["sneeze"], ["sigh"], ["throat clearing"]]
    assert list(rows["seed_text"]) == ["cough", "laughter", "sniff", "sneeze", "sigh", "throat clearing"]
    assert set(rows["seed_kind"]) == {"tags"}
    assert set(rows["split"]) == {"train"}
    assert rows["audio_path"].iloc[0] == str(root / "audio_16k" / "f0003_0_cough.wav")
    assert list(rows["duration_s"]) == pytest.approx([0.5, 0.5, 0.5, 1.0, 0.5, 0.5])
    assert list(rows["sample_rate"]) == [16000, 16000, 16000, 44100, 16000, 16000]
    assert vocalsound.annotation_files(root, {}) == []


@pytest.mark.parametrize("probe", [True, False])
def test_unrecognised_file_names_become_rejects(tmp_path: Path, probe: bool) -> None:
    bad_names = ["f0003_0_yawn.wav", "notes.wav", "f0003_cough.wav", "f0003_0_Cough.wav", "f0003_0_cough_2.wav"]
    root = make_audio(tmp_path, ["f0003_0_cough.wav", *bad_names])

    result = vocalsound.read("vs", root, {"probe_audio": probe})

    check_result_schema(result)
    assert list(result.rows["seed_id"]) == ["vs/f0003_0_cough"]
    rejects = result.rejects
    assert sorted(rejects["audio_path"]) == sorted(str(root / "audio_16k" / name) for name in bad_names)
    assert set(rejects["reason"]) == {"unrecognised file name"}
    assert list(rejects["source"]) == list(rejects["audio_path"])
    assert set(rejects["corpus"]) == {"vs"}


def test_official_datafiles_give_the_split(tmp_path: Path) -> None:
    root = make_audio(
        tmp_path,
        ["f0001_0_cough.wav", "f0002_0_sigh.wav", "m0003_0_sniff.wav", "m0004_0_sneeze.wav", "m0005_0_sigh.wav"],
    )
    split_files = write_datafiles(
        root,
        {
            "train": ["f0001_0_cough.wav", "f0002_0_sigh.wav"],
            "val": ["m0003_0_sniff.wav"],
            "test": ["m0004_0_sneeze.wav", "m0009_0_cough.wav"],
        },
    )

    unlisted = root / "audio_16k" / "m0005_0_sigh.wav"

    result = vocalsound.read("vs", root, {})

    check_result_schema(result)
    rows = result.rows.set_index("seed_id")
    assert list(rows.index) == ["vs/f0001_0_cough", "vs/f0002_0_sigh", "vs/m0003_0_sniff", "vs/m0004_0_sneeze"]
    assert list(rows["split"]) == ["train", "train", "val", "test"]
    assert result.rejects.to_dict("records") == [
        reject("vs", unlisted, str(unlisted), "listed in no split file"),
        # Listed but not unpacked: kept, so the probe reports it.
        reject("vs", root / "audio_16k" / "m0009_0_cough.wav", f"{split_files['test']}:data[1]"),
    ]
    assert vocalsound.annotation_files(root, {}) == [split_files["train"], split_files["val"], split_files["test"]]


def test_listed_recordings_keep_their_split_without_probe(tmp_path: Path) -> None:
    root = make_audio(tmp_path, ["f0001_0_cough.wav"])
    write_datafiles(root, {"train": ["f0001_0_cough.wav"], "val": [], "test": ["m0009_0_cough.wav"]})

    rows = clean_rows(vocalsound.read("vs", root, {"probe_audio": False}))

    assert list(rows["split"]) == ["train", "test"]
    assert all(math.isnan(value) for value in rows["duration_s"])


def test_windows_paths_in_datafiles_reduce_to_file_names(tmp_path: Path) -> None:
    root = make_audio(tmp_path, ["f0001_0_cough.wav"])
    write_json(root / "datafiles" / "tr.json", {"data": [{"wav": r"D:\vocalsound\audio_16k\f0001_0_cough.wav"}]})
    write_datafiles(root, {"val": [], "test": []})

    rows = vocalsound.read("vs", root, {"probe_audio": False}).rows

    assert list(rows["audio_path"]) == [str(root / "audio_16k" / "f0001_0_cough.wav")]
    assert list(rows["split"]) == ["train"]


def test_some_official_datafiles_missing_names_the_missing_one(tmp_path: Path) -> None:
    root = make_audio(tmp_path, ["f0001_0_cough.wav"])
    write_datafiles(root, {"train": ["f0001_0_cough.wav"], "test": []})

    with pytest.raises(AnnotationError) as raised:
        vocalsound.read("vs", root, {"probe_audio": False})

    assert str(root / "datafiles" / "val.json") in str(raised.value)


def test_split_files_option(tmp_path: Path) -> None:
    root = make_audio(tmp_path, ["f0001_0_cough.wav", "f0002_0_sigh.wav"])
    write_datafiles(root, {"train": ["f0001_0_cough.wav"], "val": [], "test": ["f0002_0_sigh.wav"]})
    mine = write_json(tmp_path / "mine" / "eval.json", datafile(["f0001_0_cough.wav", "f0002_0_sigh.wav"]))

    custom = vocalsound.read("vs", root, {"split_files": {"test": "mine/eval.json"}, "probe_audio": False})
    no_split = vocalsound.read("vs", root, {"split_files": {}, "probe_audio": False})

    assert list(custom.rows["split"]) == ["test", "test"]
    assert list(no_split.rows["split"]) == ["train", "train"]
    assert vocalsound.annotation_files(root, {"split_files": {"test": str(mine)}}) == [mine]
    assert vocalsound.annotation_files(root, {"split_files": {}}) == []


def test_audio_dir_option(tmp_path: Path) -> None:
    root = make_audio(tmp_path, ["f0001_0_cough.wav"], audio_dir="audio_44k")

    rows = vocalsound.read("vs", root, {"audio_dir": "audio_44k"}).rows

    assert list(rows["audio_path"]) == [str(root / "audio_44k" / "f0001_0_cough.wav")]


def test_missing_audio_dir_names_it(tmp_path: Path) -> None:
    with pytest.raises(AnnotationError) as raised:
        vocalsound.read("vs", tmp_path, {})

    assert str(tmp_path / "audio_16k") in str(raised.value)


def test_recording_in_two_split_files_names_both(tmp_path: Path) -> None:
    root = make_audio(tmp_path, ["f0001_0_cough.wav"])
    files = write_datafiles(root, {"train": ["f0001_0_cough.wav"], "val": [], "test": ["f0001_0_cough.wav"]})

    with pytest.raises(AnnotationError, match="f0001_0_cough.wav") as raised:
        vocalsound.read("vs", root, {"probe_audio": False})

    assert str(files["train"]) in str(raised.value)
    assert str(files["test"]) in str(raised.value)


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ({"items": []}, "'data'"),
        ([], "'data'"),
        ({"data": [{"wav": "a/f0001_0_cough.wav"}, {"labels": "/m/01b_21"}]}, "data[1] has no 'wav'"),
        ("{not json", "not a readable JSON file"),
    ],
    ids=["no-data", "list", "no-wav", "not-json"],
)
def test_malformed_split_file_names_file_and_key(tmp_path: Path, document: object, problem: str) -> None:
    root = make_audio(tmp_path, ["f0001_0_cough.wav"])
    path = root / "lists" / "train.json"
    if isinstance(document, str):
        path.parent.mkdir(parents=True)
        path.write_text(document)
    else:
        write_json(path, document)

    with pytest.raises(AnnotationError) as raised:
        vocalsound.read("vs", root, {"split_files": {"train": "lists/train.json"}})

    assert str(path) in str(raised.value)
    assert problem in str(raised.value)


def test_listed_split_file_missing_names_it(tmp_path: Path) -> None:
    root = make_audio(tmp_path, ["f0001_0_cough.wav"])

    with pytest.raises(AnnotationError, match="split file not found") as raised:
        vocalsound.read("vs", root, {"split_files": {"train": "lists/tr.json"}})

    assert str(root / "lists" / "tr.json") in str(raised.value)
