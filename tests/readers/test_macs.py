from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
import yaml
from helpers import check_result_schema, clean_rows, write_wav

from balsa_core.readers import macs
from balsa_core.readers.common import AnnotationError

# The layout of the real MACS.yaml: annotator ids are numbers, tags snake_case words.
MACS_YAML = """\
files:
- filename: airport-barcelona-0-0-a.wav
  annotations:
  - annotator_id: 133
    sentence: Adults talking and footsteps in a large hall.
    tags:
    - adults_talking
    - footsteps
  - annotator_id: 35
    sentence: '  people walk, a child shouts: "hey"  '
    tags:
    - footsteps
    - children_voices
  - annotator_id: 7
    sentence: An announcement over a speaker
    tags:
    - announcement_speech
    - adults_talking
- filename: street_traffic-lyon-1160-44710-a.wav
  annotations:
  - annotator_id: 12
    sentence: Cars pass by
    tags:
    - traffic_noise
  - annotator_id: 133
    sentence: Traffic with a siren far away
    tags: []
"""


def write_yaml(root: Path, document: object) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    path = root / "MACS.yaml"
    path.write_text(document if isinstance(document, str) else yaml.safe_dump(document))
    return path


def annotation(sentence: str = "A dog barks", tags: list[str] | None = None) -> dict[str, object]:
    return {"annotator_id": 1, "sentence": sentence, "tags": tags or ["dog"]}


def test_reads_one_caption_seed_per_annotation_with_the_clips_tags(tmp_path: Path) -> None:
    path = write_yaml(tmp_path, MACS_YAML)
    # TAU Urban Acoustic Scenes clips are 48 kHz stereo.
    write_wav(tmp_path / "audio" / "airport-barcelona-0-0-a.wav", seconds=1.0, sample_rate=48000, channels=2)
    write_wav(tmp_path / "audio" / "street_traffic-lyon-1160-44710-a.wav", seconds=0.5, sample_rate=48000, channels=2)

    rows = clean_rows(macs.read("macs", tmp_path, {}))

    assert list(rows["seed_id"]) == [
        "macs/airport-barcelona-0-0-a#1",
        "macs/airport-barcelona-0-0-a#2",
        "macs/airport-barcelona-0-0-a#3",
        "macs/street_traffic-lyon-1160-44710-a#1",
        "macs/street_traffic-lyon-1160-44710-a#2",
    ]
    assert list(rows["clip_id"]) == ["macs/airport-barcelona-0-0-a"] * 3 + ["macs/street_traffic-lyon-1160-44710-a"] * 2
    assert list(rows["seed_text"]) == [
        "Adults talking and footsteps in a large hall.",
        'people walk, a child shouts: "hey"',
        "An announcement over a speaker",
        "Cars pass by",
        "Traffic with a siren far away",
    ]
    airport_tags = ["adults talking", "footsteps", "children voices", "announcement speech"]
    assert list(rows["tags"]) == [airport_tags] * 3 + [["traffic noise"]] * 2
    assert set(rows["seed_kind"]) == {"caption"}
    assert set(rows["split"]) == {"train"}
    assert rows["audio_path"].iloc[0] == str(tmp_path / "audio" / "airport-barcelona-0-0-a.wav")
    assert list(rows["duration_s"]) == pytest.approx([1.0] * 3 + [0.5] * 2)
    assert set(rows["sample_rate"]) == {48000}
    assert macs.annotation_files(tmp_path, {}) == [path]


def test_first_caption_gives_one_seed_per_clip(tmp_path: Path) -> None:
    write_yaml(tmp_path, MACS_YAML)

    result = macs.read("macs", tmp_path, {"captions": "first", "probe_audio": False})

    check_result_schema(result)
    rows = result.rows
    assert list(rows["seed_id"]) == ["macs/airport-barcelona-0-0-a#1", "macs/street_traffic-lyon-1160-44710-a#1"]
    assert list(rows["seed_text"]) == ["Adults talking and footsteps in a large hall.", "Cars pass by"]
    # Every annotator's tags still count, not only the first one's.
    assert list(rows["tags"]) == [
        ["adults talking", "footsteps", "children voices", "announcement speech"],
        ["traffic noise"],
    ]
    assert all(math.isnan(value) for value in rows["duration_s"])


def test_missing_audio_rejects_name_the_annotation(tmp_path: Path) -> None:
    path = write_yaml(tmp_path, MACS_YAML)
    write_wav(tmp_path / "audio" / "airport-barcelona-0-0-a.wav")

    result = macs.read("macs", tmp_path, {})

    check_result_schema(result)
    assert len(result.rows) == 3
    assert list(result.rejects["source"]) == [
        f"{path}:files[1] (street_traffic-lyon-1160-44710-a.wav).annotations[{n}]" for n in (0, 1)
    ]
    assert set(result.rejects["reason"]) == {"missing audio file"}


def test_split_and_audio_dir_options(tmp_path: Path) -> None:
    write_yaml(tmp_path / "macs", MACS_YAML)
    audio_dir = tmp_path / "TAU-urban-acoustic-scenes-2019-development" / "audio"
    write_wav(audio_dir / "airport-barcelona-0-0-a.wav")
    write_wav(audio_dir / "street_traffic-lyon-1160-44710-a.wav")

    result = macs.read("macs", tmp_path / "macs", {"split": "test", "audio_dir": str(audio_dir)})

    assert result.rejects.empty
    assert set(result.rows["split"]) == {"test"}
    assert result.rows["audio_path"].iloc[0] == str(audio_dir / "airport-barcelona-0-0-a.wav")


def test_relative_audio_dir_is_inside_the_root(tmp_path: Path) -> None:
    write_yaml(tmp_path, {"files": [{"filename": "a.wav", "annotations": [annotation()]}]})

    rows = macs.read("macs", tmp_path, {"audio_dir": "tau/audio", "probe_audio": False}).rows

    assert list(rows["audio_path"]) == [str(tmp_path / "tau" / "audio" / "a.wav")]


def test_missing_annotation_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(AnnotationError) as raised:
        macs.read("macs", tmp_path, {})

    assert str(tmp_path / "MACS.yaml") in str(raised.value)


@pytest.mark.parametrize(
    ("document", "key", "where"),
    [
        ({"clips": []}, "files", "the document"),
        ({"files": [{"annotations": [annotation()]}]}, "filename", "files[0]"),
        ({"files": [{"filename": "a.wav"}]}, "annotations", "files[0] (a.wav)"),
        (
            {"files": [{"filename": "a.wav", "annotations": [annotation(), {"annotator_id": 2, "tags": ["dog"]}]}]},
            "sentence",
            "files[0] (a.wav).annotations[1]",
        ),
        (
            {"files": [{"filename": "a.wav", "annotations": [{"annotator_id": 2, "sentence": "A dog barks"}]}]},
            "tags",
            "files[0] (a.wav).annotations[0]",
        ),
    ],
    ids=["files", "filename", "annotations", "sentence", "tags"],
)
def test_missing_key_names_file_place_and_key(tmp_path: Path, document: object, key: str, where: str) -> None:
    path = write_yaml(tmp_path, document)

    with pytest.raises(AnnotationError) as raised:
        macs.read("macs", tmp_path, {"probe_audio": False})

    message = str(raised.value)
    assert str(path) in message
    assert f"{where} has no {key!r}" in message


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ("files: [unclosed\n", "not a readable YAML file"),
        ("- just a list\n", "expected a mapping with a 'files' list"),
        ({"files": {"a.wav": []}}, "'files' must be a list"),
        ({"files": ["a.wav"]}, "files[0] is not a mapping"),
        ({"files": [{"filename": "a.wav", "annotations": []}]}, "'annotations' is empty"),
        ({"files": [{"filename": "a.wav", "annotations": [annotation(sentence="  ")]}]}, "'sentence' must be"),
        ({"files": [{"filename": 7, "annotations": [annotation()]}]}, "'filename' must be"),
        ({"files": [{"filename": "a.wav", "annotations": [annotation(tags="dog")]}]}, "'tags' must be a list"),
        ("files:\n- filename: a.wav\n  annotations:\n  - sentence: x\n    tags: [dog, no]\n", "'tags' must list"),
    ],
    ids=[
        "yaml",
        "not-mapping",
        "files-not-list",
        "file-not-mapping",
        "no-annotations",
        "blank",
        "number",
        "tags",
        "bool-tag",
    ],
)
def test_malformed_yaml_names_the_file_and_problem(tmp_path: Path, document: object, problem: str) -> None:
    path = write_yaml(tmp_path, document)

    with pytest.raises(AnnotationError, match=re.escape(problem)) as raised:
        macs.read("macs", tmp_path, {"probe_audio": False})

    assert str(path) in str(raised.value)


def test_duplicate_sentences_stay_separate_seeds(tmp_path: Path) -> None:
    same = annotation(sentence="Traffic")
    write_yaml(tmp_path, {"files": [{"filename": "a.wav", "annotations": [same, same]}]})

    result = macs.read("macs", tmp_path, {"probe_audio": False})

    check_result_schema(result)
    assert list(result.rows["seed_id"]) == ["macs/a#1", "macs/a#2"]
    assert list(result.rows["tags"]) == [["dog"], ["dog"]]
