"""The demo benchmarks: written from the demo corpus's test clips, read back by the project's own loaders."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pytest

from balsa_core.demo.benchmarks import (
    ANNOTATORS,
    CLASS_FACTS,
    DISSENT_EVERY,
    HYPERNYM_GROUPS,
    KINDS,
    N_OPTIONS,
    SAKURA_TRACK,
    write_demo_benchmarks,
)
from balsa_core.demo.corpus import DemoCorpusConfig, demo_vocabulary, generate_demo_corpus
from balsa_core.evaluation.loaders import load_benchmark
from balsa_core.evaluation.synonym_hypernym import GENERIC_HYPERNYMS, build_synonym_hypernym_items
from balsa_core.ontology import Ontology, load_ontology
from balsa_core.readers import read_corpus

CONFIG = DemoCorpusConfig(n_clips=60, seed=3, clip_seconds=1.0, multi_event_fraction=0.4, test_fraction=0.25)


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    generate_demo_corpus(CONFIG, out)
    return out


@pytest.fixture(scope="module")
def written(demo_dir: Path, tmp_path_factory) -> dict[str, list[Path]]:
    return write_demo_benchmarks(demo_dir, tmp_path_factory.mktemp("benchmarks"), seed=5)


@pytest.fixture(scope="module")
def truth(demo_dir: Path) -> pd.DataFrame:
    """events.csv's test clips, with tags as lists."""
    with (demo_dir / "events.csv").open(newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["split"] == "test"]
    frame = pd.DataFrame(rows)
    return frame.assign(tags=frame["tags"].str.split(";"))


def clips_of(truth: pd.DataFrame, layout: str) -> pd.DataFrame:
    return truth[truth["layout"] == layout]


def tags_by_path(demo_dir: Path, truth: pd.DataFrame) -> dict[str, list[str]]:
    """Absolute audio path -> the clip's tags."""
    return {str(demo_dir / path): tags for path, tags in zip(truth["audio_path"], truth["tags"])}


def sound_tag(text: str) -> list[str]:
    """The demo tags whose sound phrase the text mentions."""
    return [tag for tag, facts in CLASS_FACTS.items() if facts.sound in text]


def test_both_layouts_have_test_clips(truth: pd.DataFrame) -> None:
    assert len(clips_of(truth, "esc50")) >= 5
    assert len(clips_of(truth, "audiocaps")) >= 3


def test_class_tables_cover_every_demo_class() -> None:
    assert list(CLASS_FACTS) == demo_vocabulary()
    for facts in CLASS_FACTS.values():
        assert facts.parent in HYPERNYM_GROUPS
        assert facts.kind is None or facts.kind in KINDS
    assert all(parent is None or parent in HYPERNYM_GROUPS for parent in HYPERNYM_GROUPS.values())


def test_files_written(written: dict[str, list[Path]]) -> None:
    assert set(written) == {"clotho_aqa", "mmau", "sakura", "audio_entailment", "synonym_hypernym"}
    names = {name: [path.name for path in paths] for name, paths in written.items()}
    assert names["sakura"] == [f"{SAKURA_TRACK}_metadata.csv"]
    assert names["audio_entailment"] == ["clotho_entailment_test.csv", "audiocaps_entailment_test.csv"]
    assert names["synonym_hypernym"] == ["ontology.json", "eval_segments.csv", "synonyms.json"]
    assert all(path.is_file() for paths in written.values() for path in paths)


def test_clotho_aqa_keeps_the_unanimous_questions(written, demo_dir: Path, truth: pd.DataFrame) -> None:
    (path,) = written["clotho_aqa"]
    raw = pd.read_csv(path, dtype=str)
    assert list(raw.columns) == ["file_name", "QuestionText", "answer", "confidence"]
    assert (raw.groupby(["file_name", "QuestionText"]).size() == ANNOTATORS).all()
    single = clips_of(truth, "esc50")
    n_questions = 2 * len(single)
    items = load_benchmark("clotho_aqa", path, demo_dir / "esc50" / "audio")
    assert len(items) == n_questions - n_questions // DISSENT_EVERY
    assert (items["question_type"] == "yes_no").all()
    assert set(items["subset"]) == {"test"}
    tags = tags_by_path(demo_dir, single)
    for audio_path, question, answer in zip(items["audio_path"], items["question"], items["answer"]):
        assert Path(audio_path).is_file()
        (asked,) = sound_tag(question)
        assert answer == ("yes" if asked in tags[audio_path] else "no")
    assert set(items["answer"]) == {"yes", "no"}


def check_source_choices(choices: list[str], answer: str, present: list[str]) -> None:
    assert len(choices) == N_OPTIONS == len(set(choices))
    assert set(choices) <= set(CLASS_FACTS)
    assert [choice for choice in choices if choice in present] == [answer]


def test_mmau_asks_for_the_clip_source(written, demo_dir: Path, truth: pd.DataFrame) -> None:
    (path,) = written["mmau"]
    entries = json.loads(path.read_text())
    assert all(entry["audio_id"].startswith("./esc50/audio/") for entry in entries)
    single = clips_of(truth, "esc50")
    items = load_benchmark("mmau", path, demo_dir)
    assert len(items) == len(single)
    tags = tags_by_path(demo_dir, single)
    for audio_path, choices, answer in zip(items["audio_path"], items["choices"], items["answer"]):
        assert Path(audio_path).is_file()
        assert [answer] == tags[audio_path]
        check_source_choices(choices, answer, tags[audio_path])


def test_sakura_single_and_multi_hop(written, demo_dir: Path, truth: pd.DataFrame) -> None:
    (path,) = written["sakura"]
    single = clips_of(truth, "esc50")
    tags = tags_by_path(demo_dir, single)
    asked = [path for path, clip_tags in tags.items() if CLASS_FACTS[clip_tags[0]].kind is not None]
    items = load_benchmark("sakura", path, demo_dir / "esc50" / "audio")
    assert len(items) == 2 * len(asked)
    assert set(items["track"]) == {SAKURA_TRACK}
    hops = {hop: items[items["subset"] == hop] for hop in ("single", "multi")}
    for hop in hops.values():
        assert list(hop["audio_path"]) == asked
    for audio_path, choices, answer in zip(*(hops["single"][c] for c in ("audio_path", "choices", "answer"))):
        assert Path(audio_path).is_file()
        assert [answer] == tags[audio_path]
        check_source_choices(choices, answer, tags[audio_path])
    for audio_path, choices, answer in zip(*(hops["multi"][c] for c in ("audio_path", "choices", "answer"))):
        assert sorted(choices) == sorted(KINDS)
        assert answer == CLASS_FACTS[tags[audio_path][0]].kind


def test_audio_entailment_both_datasets(written, demo_dir: Path, truth: pd.DataFrame) -> None:
    clotho_path, audiocaps_path = written["audio_entailment"]
    parts = [
        load_benchmark("audio_entailment", clotho_path, demo_dir / "esc50" / "audio"),
        load_benchmark("audio_entailment", audiocaps_path, demo_dir / "audiocaps" / "audio"),
    ]
    items = pd.concat(parts, ignore_index=True)
    assert [set(part["subset"]) for part in parts] == [{"clotho"}, {"audiocaps"}]
    assert len(items) == 3 * len(truth)
    tags = tags_by_path(demo_dir, truth)
    assert set(items["audio_path"]) == set(tags)
    for audio_path, label, hypothesis in zip(items["audio_path"], items["label"], items["hypothesis"]):
        named = sound_tag(hypothesis)
        if label == "contradiction":
            assert not set(named) & set(tags[audio_path])
        else:
            assert len(named) == 1 and named[0] in tags[audio_path]
    assert all(len(captions) == 5 for captions in parts[0]["captions"])
    with (demo_dir / "audiocaps" / "test.csv").open(newline="") as handle:
        captions = {f"Y{row['youtube_id']}.wav": row["caption"] for row in csv.DictReader(handle)}
    for audio_path, premise in zip(parts[1]["audio_path"], parts[1]["captions"]):
        assert premise == [captions[Path(audio_path).name]]
    selected = load_benchmark("audio_entailment", clotho_path, demo_dir / "esc50" / "audio", mode="select")
    assert len(selected) == len(clips_of(truth, "esc50"))


@pytest.fixture(scope="module")
def ontology(written) -> Ontology:
    return load_ontology(written["synonym_hypernym"][0])


def test_ontology_names_the_demo_tags(ontology: Ontology) -> None:
    for tag in demo_vocabulary():
        ancestors = [ontology.names[mid] for mid in ontology.ancestors_of(ontology.mid_of(tag))]
        assert set(ancestors) - GENERIC_HYPERNYMS, tag
    assert max(len(ontology.ancestors_of(ontology.mid_of(tag))) for tag in demo_vocabulary()) >= 3


def test_synonym_hypernym_items_from_the_segments(written, demo_dir: Path, truth, ontology) -> None:
    ontology_path, segments, synonyms_path = written["synonym_hypernym"]
    assert segments.read_text().splitlines()[2] == "# YTID, start_seconds, end_seconds, positive_labels"
    options = {"segments": segments.name, "audio_dir": str(demo_dir / "audiocaps" / "audio"), "split": "test"}
    clips = read_corpus("demo_audioset", "audioset", segments.parent, options).rows
    multi = clips_of(truth, "audiocaps")
    assert dict(zip(clips["audio_path"], clips["tags"])) == tags_by_path(demo_dir, multi)
    synonyms = json.loads(synonyms_path.read_text())
    items = build_synonym_hypernym_items(clips, ontology, synonyms, negatives_per_clip=3, seed=0)
    assert set(items["clip_id"]) == set(clips["clip_id"])
    assert all(Path(path).is_file() for path in items["audio_path"])
    positives = items[items["answer"] == "yes"]
    assert set(positives["subset"]) == {"hypernym", "synonym"}
    for subset, word, tag in zip(positives["subset"], positives["object"], positives["tag"]):
        if subset == "hypernym":
            assert word in {ontology.names[mid] for mid in ontology.ancestors_of(ontology.mid_of(tag))}
        else:
            assert word in synonyms[tag]
    assert (items.groupby("clip_id")["answer"].apply(lambda answers: (answers == "no").sum()) == 3).all()
    by_mid = clips.assign(tags=clips["tags"].map(lambda names: [ontology.mid_of(name) for name in names]))
    same = build_synonym_hypernym_items(by_mid, ontology, synonyms, negatives_per_clip=3, seed=0)
    pd.testing.assert_frame_equal(same, items)


def test_same_inputs_give_identical_files(written, demo_dir: Path, tmp_path: Path) -> None:
    again = write_demo_benchmarks(demo_dir, tmp_path / "again", seed=5)
    for name, paths in written.items():
        assert [path.read_bytes() for path in paths] == [path.read_bytes() for path in again[name]], name
    other = write_demo_benchmarks(demo_dir, tmp_path / "other", seed=6)
    assert other["mmau"][0].read_bytes() != written["mmau"][0].read_bytes()
