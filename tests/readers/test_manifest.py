from __future__ import annotations

import csv
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd
import pytest
import yaml
from helpers import check_result_schema, clean_rows, write_wav

from balsa_core.hygiene import HygieneSettings, apply_hygiene
from balsa_core.readers import AnnotationError, annotation_files, read_corpus

Record = Mapping[str, object]
README = Path(__file__).resolve().parents[2] / "README.md"


def write_manifest(path: Path, records: Sequence[Record], separator: str = ",") -> Path:
    """``records`` in the format ``path``'s suffix names; in CSV and TSV a tag list is joined."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(record) + "\n" for record in records))
    elif path.suffix == ".parquet":
        pd.DataFrame(records).to_parquet(path, index=False)
    else:
        columns = list(dict.fromkeys(key for record in records for key in record))
        with path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, columns, delimiter="\t" if path.suffix == ".tsv" else ",")
            writer.writeheader()
            for record in records:
                writer.writerow({k: separator.join(v) if isinstance(v, list) else v for k, v in record.items()})
    return path


def read(root: Path, **options: object):
    return read_corpus("mine", "manifest", root, options)


# The README's example manifest as records: captions only, tags only, both.
EXAMPLE = [
    {"audio": "birds/dawn.wav", "split": "train", "caption": "Birds sing at dawn", "tags": ["bird", "dawn_chorus"]},
    {"audio": "birds/dawn.wav", "split": "train", "caption": "A chorus of songbirds", "tags": []},
    {"audio": "street.wav", "split": "test", "caption": "", "tags": ["traffic", "car horn"]},
    {"audio": "kitchen.wav", "split": "val", "caption": "Someone chops vegetables", "tags": []},
]


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".parquet", ".jsonl"])
def test_every_format_reads_to_the_same_seeds(tmp_path: Path, suffix: str) -> None:
    write_manifest(tmp_path / f"manifest{suffix}", EXAMPLE)
    for name, seconds in (("birds/dawn.wav", 1.0), ("street.wav", 0.5), ("kitchen.wav", 0.25)):
        write_wav(tmp_path / name, seconds=seconds)

    rows = clean_rows(read(tmp_path, manifest=f"manifest{suffix}")).set_index("seed_id")

    assert list(rows.index) == ["mine/birds/dawn#1", "mine/birds/dawn#2", "mine/street", "mine/kitchen#1"]
    assert list(rows["clip_id"]) == ["mine/birds/dawn", "mine/birds/dawn", "mine/street", "mine/kitchen"]
    assert list(rows["split"]) == ["train", "train", "test", "val"]
    assert list(rows["seed_kind"]) == ["caption", "caption", "tags", "caption"]
    assert list(rows["seed_text"]) == [
        "Birds sing at dawn",
        "A chorus of songbirds",
        "traffic, car horn",
        "Someone chops vegetables",
    ]
    # Captions are the seeds and keep the clip's tags, as in MACS; underscores read as spaces.
    assert list(rows["tags"]) == [["bird", "dawn chorus"], ["bird", "dawn chorus"], ["traffic", "car horn"], []]
    assert list(rows["audio_path"]) == [str(tmp_path / name) for name in ("birds/dawn.wav",) * 2 + ("street.wav",)] + [
        str(tmp_path / "kitchen.wav")
    ]
    assert list(rows["duration_s"]) == pytest.approx([1.0, 1.0, 0.5, 0.25])
    assert set(rows["offset_s"]) == {0.0}


def test_the_readme_example_reads_as_documented(tmp_path: Path) -> None:
    section = README.read_text().split("### Bring your own audio", 1)[1]
    (manifest, config) = re.findall(r"```\w*\n(.*?)```", section, re.DOTALL)[:2]
    corpus = yaml.safe_load(config)["corpora"]["my_sounds"]
    (tmp_path / "manifest.csv").write_text(manifest)
    for name in ("birds/dawn.wav", "street.wav", "kitchen.wav"):
        write_wav(tmp_path / name)

    result = read_corpus("my_sounds", corpus["reader"], tmp_path, corpus["options"])

    assert result.rejects.empty
    assert list(result.rows["seed_kind"]) == ["caption", "caption", "tags", "caption"]
    assert list(result.rows["tags"]) == [["bird", "dawn chorus"]] * 2 + [["traffic", "car horn"], []]
    assert list(result.rows["split"]) == ["train", "train", "test", "val"]


def test_list_cells_give_several_captions_in_one_row(tmp_path: Path) -> None:
    write_manifest(tmp_path / "manifest.jsonl", [{"audio": "a.wav", "caption": ["A dog barks", " ", "Barking"]}])

    rows = read(tmp_path, manifest="manifest.jsonl", probe_audio=False).rows

    assert list(rows["seed_id"]) == ["mine/a#1", "mine/a#2"]
    assert list(rows["seed_text"]) == ["A dog barks", "Barking"]


def test_paths_are_relative_to_the_manifests_folder_or_absolute(tmp_path: Path) -> None:
    elsewhere = write_wav(tmp_path / "elsewhere" / "rain.wav")
    write_wav(tmp_path / "corpus" / "lists" / "clips" / "wind.wav")
    write_manifest(
        tmp_path / "corpus" / "lists" / "manifest.csv",
        [{"audio": "clips/wind.wav", "tags": "wind"}, {"audio": str(elsewhere), "tags": "rain"}],
    )

    result = read(tmp_path / "corpus", manifest="lists/manifest.csv")

    assert result.rejects.empty
    assert list(result.rows["audio_path"]) == [
        str(tmp_path / "corpus" / "lists" / "clips" / "wind.wav"),
        str(elsewhere),
    ]
    # An absolute path outside the manifest's folder keeps its folders in the clip id.
    assert list(result.rows["clip_id"]) == [
        "mine/clips/wind",
        "mine/" + elsewhere.with_suffix("").as_posix().lstrip("/"),
    ]


def test_absolute_manifest_option_replaces_the_root(tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path / "lists" / "manifest.tsv", [{"audio": "x.wav", "tags": "x"}])

    assert annotation_files("manifest", tmp_path / "unused", {"manifest": str(manifest)}) == [manifest]
    assert list(read(tmp_path / "unused", manifest=str(manifest), probe_audio=False).rows["audio_path"]) == [
        str(tmp_path / "lists" / "x.wav")
    ]


def test_annotation_files_name_the_manifest(tmp_path: Path) -> None:
    assert annotation_files("manifest", tmp_path, {}) == [tmp_path / "manifest.csv"]
    assert annotation_files("manifest", tmp_path, {"manifest": "my.JSONL"}) == [tmp_path / "my.JSONL"]


def test_split_defaults_to_the_default_split_option(tmp_path: Path) -> None:
    write_manifest(
        tmp_path / "manifest.csv",
        [{"audio": "a.wav", "split": "", "tags": "a"}, {"audio": "b.wav", "split": "test", "tags": "b"}],
    )

    assert list(read(tmp_path, probe_audio=False).rows["split"]) == ["train", "test"]
    assert list(read(tmp_path, probe_audio=False, default_split="val").rows["split"]) == ["val", "test"]


def test_clip_id_column_and_renamed_columns(tmp_path: Path) -> None:
    write_manifest(
        tmp_path / "manifest.csv",
        [{"file": "take1.wav", "id": "k-1", "c1": "A kettle whistles", "c2": "Steam", "labels": "kettle;steam"}],
    )
    columns = {"audio": "file", "clip_id": "id", "caption": ["c1", "c2"], "tags": "labels"}

    rows = read(tmp_path, columns=columns, tag_separator=";", probe_audio=False).rows

    assert list(rows["seed_id"]) == ["mine/k-1#1", "mine/k-1#2"]
    assert list(rows["seed_text"]) == ["A kettle whistles", "Steam"]
    assert list(rows["tags"]) == [["kettle", "steam"], ["kettle", "steam"]]


# --- bad rows: rejected with their row and reason, the rest read on ------------------------------


@pytest.mark.parametrize(("suffix", "line"), [(".csv", ":3"), (".jsonl", ":2"), (".parquet", ":row 2")])
def test_bad_rows_are_rejected_with_row_and_reason(tmp_path: Path, suffix: str, line: str) -> None:
    write_wav(tmp_path / "good.wav")
    write_wav(tmp_path / "bare.wav")
    manifest = write_manifest(
        tmp_path / f"manifest{suffix}",
        [
            {"audio": "good.wav", "caption": "A door slams", "tags": []},
            {"audio": "gone.wav", "caption": "A bell rings", "tags": []},
            {"audio": "bare.wav", "caption": "", "tags": []},
            {"audio": "", "caption": "No file named", "tags": []},
        ],
    )

    result = read(tmp_path, manifest=manifest.name)

    check_result_schema(result)
    assert list(result.rows["clip_id"]) == ["mine/good"]
    rejects = result.rejects.set_index("reason")
    assert set(rejects.index) == {"missing audio file", "no caption or tags", "no audio path"}
    assert rejects.loc["missing audio file", "source"] == f"{manifest}{line}"
    assert rejects.loc["missing audio file", "audio_path"] == str(tmp_path / "gone.wav")
    assert rejects.loc["no caption or tags", "audio_path"] == str(tmp_path / "bare.wav")
    assert rejects.loc["no caption or tags", "source"].startswith(str(manifest))
    assert set(result.rejects["corpus"]) == {"mine"}


def test_reject_reasons_reach_the_rejects_table_through_hygiene(tmp_path: Path) -> None:
    write_manifest(tmp_path / "manifest.csv", [{"audio": "gone.wav", "tags": "x"}, {"audio": "y.wav", "tags": ""}])

    result, _ = apply_hygiene(read(tmp_path), HygieneSettings())

    assert result.rows.empty
    assert list(result.rejects["reason"]) == ["no caption or tags", "missing audio file"]
    assert list(result.rejects["source"]) == [f"{tmp_path / 'manifest.csv'}:3", f"{tmp_path / 'manifest.csv'}:2"]


# --- windows ------------------------------------------------------------------------------------


def test_windows_set_offset_and_duration_and_name_the_clip(tmp_path: Path) -> None:
    write_wav(tmp_path / "long.wav", seconds=4.0)
    write_manifest(
        tmp_path / "manifest.csv",
        [
            {"audio": "long.wav", "offset_s": "1", "duration_s": "2", "tags": "a"},
            {"audio": "long.wav", "offset_s": "2.5", "duration_s": "", "tags": "b"},
            {"audio": "long.wav", "offset_s": "3", "duration_s": "1.005", "tags": "c"},
            {"audio": "long.wav", "offset_s": "3", "duration_s": "2", "tags": "d"},
            {"audio": "long.wav", "offset_s": "4", "duration_s": "", "tags": "e"},
        ],
    )

    result = read(tmp_path)

    check_result_schema(result)
    rows = result.rows
    assert list(rows["clip_id"]) == ["mine/long@1-3", "mine/long@2.5", "mine/long@3-4.005"]
    assert list(rows["offset_s"]) == pytest.approx([1.0, 2.5, 3.0])
    # A window overrunning the file by a rounding slip is cut to the file's end.
    assert list(rows["duration_s"]) == pytest.approx([2.0, 1.5, 1.0])
    assert list(result.rejects["reason"]) == [
        "window 3-5 s is past the end of the file (4.000 s)",
        "window 4-4 s is past the end of the file (4.000 s)",
    ]
    assert list(result.rejects["source"]) == [f"{tmp_path / 'manifest.csv'}:{line}" for line in (5, 6)]


def test_unprobed_windows_keep_what_the_manifest_says(tmp_path: Path) -> None:
    write_manifest(tmp_path / "manifest.csv", [{"audio": "a.wav", "offset_s": "5", "duration_s": "3", "tags": "a"}])

    rows = read(tmp_path, probe_audio=False).rows

    assert (rows.loc[0, "offset_s"], rows.loc[0, "duration_s"]) == (5.0, 3.0)


def test_hygiene_splits_a_window_from_its_offset(tmp_path: Path) -> None:
    write_wav(tmp_path / "long.wav", seconds=6.0)
    write_manifest(tmp_path / "manifest.csv", [{"audio": "long.wav", "offset_s": "2", "duration_s": "3", "tags": "a"}])

    result, _ = apply_hygiene(
        read(tmp_path), HygieneSettings(max_clip_seconds=1.0, long_clips="split", reject_silent=False)
    )

    assert list(result.rows["offset_s"]) == pytest.approx([2.0, 3.0, 4.0])
    assert list(result.rows["clip_id"]) == [f"mine/long@2-5#w{index}" for index in range(3)]


# --- what stops the read ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("records", "options", "message"),
    [
        ([{"file": "a.wav", "tags": "a"}], {}, r"missing column\(s\) \['audio'\]"),
        (
            [{"audio": "a.wav", "notes": "a"}],
            {},
            r"no caption or tags column \(expected one of \['caption', 'tags'\]\)",
        ),
        ([{"audio": "a.wav", "c1": "x"}], {"columns": {"caption": ["c1", "c2"]}}, r"missing column\(s\) \['c2'\]"),
        ([{"audio": "a.wav", "tags": "a"}], {"columns": {"split": "fold"}}, r"missing column\(s\) \['fold'\]"),
    ],
    ids=["audio", "caption-or-tags", "named-caption", "named-split"],
)
def test_a_missing_column_names_the_file_and_the_column(
    tmp_path: Path, records: list[Record], options: dict[str, object], message: str
) -> None:
    manifest = write_manifest(tmp_path / "manifest.csv", records)

    with pytest.raises(AnnotationError, match=message) as raised:
        read(tmp_path, **options)
    assert str(raised.value).startswith(f"{manifest}: ")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("manifest.csv", None, "annotation file not found"),
        ("manifest.csv", b"", "not a readable CSV file"),
        ("manifest.tsv", b"audio\ttags\n\xff\xfe\t\x00\n", "not a readable TSV file"),
        ("manifest.parquet", b"not parquet", "not a readable Parquet file"),
        ("manifest.jsonl", b'{"audio": "a.wav", "tags": "a"}\n{"audio": \n', r":2: not a JSON object"),
        ("manifest.jsonl", b'["a.wav", "a"]\n', r":1: not a JSON object, got list"),
    ],
)
def test_an_unreadable_manifest_names_the_file(tmp_path: Path, name: str, content: bytes | None, message: str) -> None:
    if content is not None:
        (tmp_path / name).write_bytes(content)

    with pytest.raises(AnnotationError, match=message) as raised:
        read(tmp_path, manifest=name)
    assert str(raised.value).startswith(str(tmp_path / name))


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"split": "valid"}, r":2: split 'valid' is not one of \('train', 'val', 'test'\)"),
        ({"offset_s": "soon"}, r":2: offset_s 'soon' is not a number of seconds"),
        ({"duration_s": "-1"}, r":2: duration_s '-1' is not a number of seconds"),
        ({"duration_s": "0"}, r":2: duration_s must be more than 0 seconds"),
    ],
)
def test_a_malformed_cell_stops_with_its_row(tmp_path: Path, record: dict[str, str], message: str) -> None:
    write_manifest(tmp_path / "manifest.csv", [{"audio": "a.wav", "tags": "a", **record}])

    with pytest.raises(AnnotationError, match=message):
        read(tmp_path, probe_audio=False)


def test_rows_of_one_clip_must_agree(tmp_path: Path) -> None:
    write_manifest(
        tmp_path / "manifest.csv",
        [{"audio": "a.wav", "split": "train", "tags": "a"}, {"audio": "a.wav", "split": "test", "tags": "b"}],
    )

    with pytest.raises(AnnotationError, match=r"manifest.csv:3: clip 'mine/a' has split test here but train in .*:2"):
        read(tmp_path, probe_audio=False)
    write_manifest(
        tmp_path / "manifest.csv",
        [
            {"audio": "a.wav", "clip_id": "x", "tags": "a"},
            {"audio": "a.wav", "clip_id": "x", "offset_s": 1, "tags": "b"},
        ],
    )
    with pytest.raises(AnnotationError, match=r"has window 1 s to the end here but 0 s to the end in .*:2"):
        read(tmp_path, probe_audio=False)


def test_text_cells_must_not_be_lists(tmp_path: Path) -> None:
    write_manifest(tmp_path / "manifest.jsonl", [{"audio": ["a.wav", "b.wav"], "tags": "a"}])

    with pytest.raises(AnnotationError, match=r"manifest.jsonl:1: 'audio' must be text"):
        read(tmp_path, manifest="manifest.jsonl", probe_audio=False)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"audio_dir": "audio"}, r"unknown option\(s\) \['audio_dir'\]"),
        ({"manifest": "list.xlsx"}, r"option 'manifest' must end in one of"),
        ({"default_split": "dev"}, r"option 'default_split' must be one of"),
        ({"tag_separator": ""}, r"option 'tag_separator' must be non-empty text"),
        ({"probe_audio": "no"}, r"option 'probe_audio' must be true or false"),
        ({"columns": ["audio"]}, r"option 'columns' must map roles to column names"),
        ({"columns": {"path": "file"}}, r"option 'columns' has unknown role\(s\) \['path'\]"),
        ({"columns": {"audio": ["a", "b"]}}, r"'audio' must be a column name, got"),
        ({"columns": {"caption": []}}, r"'caption' must be a column name or a list of them"),
    ],
)
def test_bad_options_are_refused_before_reading(tmp_path: Path, options: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        annotation_files("manifest", tmp_path, options)
    with pytest.raises(ValueError, match=message):
        read(tmp_path, **options)


def test_an_empty_manifest_is_an_empty_corpus(tmp_path: Path) -> None:
    (tmp_path / "manifest.csv").write_text("audio,caption\n")

    result = read(tmp_path)

    check_result_schema(result)
    assert result.rows.empty and result.rejects.empty
