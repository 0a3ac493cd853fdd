"""What every reader does alike, through balsa_core.readers.common: option checks and audio probing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from helpers import check_result_schema, esc50_row, make_esc50, write_wav

from balsa_core.readers import annotation_files, read_corpus

# Per reader, options whose value is wrong; the error must name the option (the first key).
BAD_OPTION_VALUES = {
    "audiocaps": [{"splits": "train"}, {"splits": ["train", "dev"]}, {"splits": ["train", "train"]}, {"audio_dir": 3}],
    "audioset": [
        {"split": "dev"},
        {"segments": 3},
        {"audio_dir": ["audio"]},
        {"class_labels": None},
        {"probe_audio": "no"},
    ],
    "clotho": [
        {"captions": "some"},
        {"captions": ["first"]},
        {"splits": "train"},
        {"splits": ["development"]},
        {"splits": ["val", "val"]},
        {"probe_audio": "no"},
    ],
    "esc50": [{"test_folds": "5"}, {"test_folds": [True]}, {"val_folds": [5]}, {"probe_audio": "false"}],
    "fsd50k": [
        {"include_eval": "yes"},
        {"leaf_labels_only": 1},
        {"ontology": 3},
        {"probe_audio": None},
        {"labels": []},
    ],
    "macs": [{"captions": "every"}, {"split": "development"}, {"audio_dir": 5}, {"probe_audio": "true"}],
    "urbansound8k": [
        {"test_folds": "10"},
        {"test_folds": [11]},
        {"val_folds": [0]},
        {"val_folds": [10]},
        {"val_folds": [True]},
        {"probe_audio": "false"},
    ],
    "vocalsound": [
        {"split_files": ["datafiles/tr.json"]},
        {"split_files": {"dev": "datafiles/tr.json"}},
        {"split_files": {"train": 3}},
        {"audio_dir": None},
        {"probe_audio": 1},
    ],
}
# Per reader, an option it does not know, close to one it does.
UNKNOWN_OPTIONS = {
    "audiocaps": {"test_fold": [5]},
    "audioset": {"splits": ["train"]},
    "clotho": {"caption": "first"},
    "esc50": {"test_fold": [5]},
    "macs": {"splits": ["train"]},
    "vocalsound": {"split_lists": {}},
}


@pytest.mark.parametrize(
    ("reader", "options"), [(reader, options) for reader, cases in BAD_OPTION_VALUES.items() for options in cases]
)
def test_bad_option_values_name_the_option(tmp_path: Path, reader: str, options: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=next(iter(options))):
        annotation_files(reader, tmp_path, options)
    with pytest.raises(ValueError, match=next(iter(options))):
        read_corpus("x", reader, tmp_path, options)


@pytest.mark.parametrize(("reader", "options"), UNKNOWN_OPTIONS.items())
def test_unknown_option_names_the_key(tmp_path: Path, reader: str, options: dict[str, object]) -> None:
    key = next(iter(options))
    with pytest.raises(ValueError, match=f"'{key}'"):
        read_corpus("x", reader, tmp_path, options)
    with pytest.raises(ValueError, match=f"'{key}'"):
        annotation_files(reader, tmp_path, options)


def test_audio_path_is_joined_from_root_not_resolved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    make_esc50(tmp_path / "corpus", [esc50_row("1-1-A-0.wav", 1, "dog")])
    write_wav(tmp_path / "corpus" / "audio" / "1-1-A-0.wav")

    rows = read_corpus("esc50", "esc50", "corpus").rows

    assert list(rows["audio_path"]) == [str(Path("corpus") / "audio" / "1-1-A-0.wav")]


@pytest.mark.parametrize(
    ("write_empty", "empty_reason"),
    [
        (lambda path: path.write_bytes(b""), "empty audio file (0 bytes)"),
        (
            lambda path: sf.write(path, np.zeros(0, np.float32), 16000),
            "empty audio file (0 frames)",
        ),
    ],
    ids=["zero-bytes", "zero-frames"],
)
def test_corrupt_and_empty_files_become_rejects(tmp_path: Path, write_empty, empty_reason) -> None:
    names = ["1-1-A-0.wav", "1-2-A-0.wav", "2-3-A-0.wav", "2-4-A-0.wav"]
    root = make_esc50(tmp_path, [esc50_row(name, 1, "dog") for name in names])
    write_wav(root / "audio" / names[0])
    write_wav(root / "audio" / names[3])
    (root / "audio" / names[1]).write_bytes(np.random.default_rng(0).bytes(4096))
    write_empty(root / "audio" / names[2])

    result = read_corpus("esc50", "esc50", root)

    check_result_schema(result)
    assert list(result.rows["clip_id"]) == ["esc50/1-1-A-0", "esc50/2-4-A-0"]
    rejects = result.rejects.set_index("audio_path")
    corrupt = rejects.loc[str(root / "audio" / names[1])]
    empty = rejects.loc[str(root / "audio" / names[2])]
    assert len(rejects) == 2
    assert corrupt["reason"].startswith("unreadable audio file")
    assert empty["reason"] == empty_reason
    assert corrupt["source"] == f"{root / 'meta' / 'esc50.csv'}:3"
    assert empty["source"] == f"{root / 'meta' / 'esc50.csv'}:4"
    assert set(rejects["corpus"]) == {"esc50"}


def test_missing_audio_is_rejected_with_reason(tmp_path: Path) -> None:
    root = make_esc50(tmp_path, [esc50_row("1-1-A-0.wav", 1, "dog")])

    result = read_corpus("esc50", "esc50", root)

    assert result.rows.empty
    check_result_schema(result)
    assert list(result.rejects["reason"]) == ["missing audio file"]


@pytest.mark.parametrize("probe", [True, False])
def test_header_only_annotation_gives_empty_tables(tmp_path: Path, probe: bool) -> None:
    root = make_esc50(tmp_path, [])

    result = read_corpus("esc50", "esc50", root, {"probe_audio": probe})

    assert result.rows.empty and result.rejects.empty
    check_result_schema(result)
