"""The evaluation stages up to the answers, on small tables: known clips, the items built from
held-out clips (hallucination, instruction following, grounding), clip columns and the features
of clips no corpus caches (the tables: test_evaluate_tables.py; answers: test_grounding.py)."""

from __future__ import annotations

import math
import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from balsa_core.evaluation.grounding import QUESTION_TYPE
from balsa_core.evaluation.instruction_following import KINDS, Constraint
from balsa_core.evaluation.loaders.common import ITEM_COLUMNS
from balsa_core.metadata import write_metadata
from balsa_core.settings import Grounding, Hallucination, InstructionFollowing
from balsa_core.stages.evaluate import (
    CLIP_COLUMNS,
    audiocaps_clips_with_labels,
    evaluation_clips,
    evaluation_feature_key,
    evaluation_features,
    evaluation_items,
    generated_hallucination_items,
    grounding_items,
    held_out,
    instruction_items,
    known_clips,
    read_evaluation_clips,
    subsample,
    with_clip_columns,
)


def seed_rows(corpus: str, clips: list[tuple]) -> pd.DataFrame:
    """Metadata rows from (clip, split, audio_path, seed_text, tags, seed_kind) tuples."""
    rows = []
    for index, (clip, split, audio_path, text, tags, kind) in enumerate(clips):
        rows.append(
            {
                "seed_id": f"{corpus}/{index}",
                "clip_id": f"{corpus}/{clip}",
                "corpus": corpus,
                "split": split,
                "audio_path": audio_path,
                "offset_s": 0.0 if clip != "long" else 30.0,
                "duration_s": 10.0 if clip != "long" else 5.0,
                "sample_rate": 16000,
                "channels": 1,
                "seed_kind": kind,
                "seed_text": text,
                "tags": tags,
            }
        )
    return pd.DataFrame(rows)


@pytest.fixture
def metadata_paths(tmp_path: Path) -> list[Path]:
    tagged = seed_rows(
        "esc",
        [
            ("dog", "test", "/data/esc/dog.wav", "dog, bark", ["dog", "bark"], "tags"),
            ("rain", "test", "/data/esc/rain.wav", "rain", ["rain"], "tags"),
            ("siren", "train", "/data/esc/siren.wav", "siren", ["siren"], "tags"),
            ("cat", "test", "/data/esc/./cat.wav", "cat", ["cat", "meow"], "tags"),
            ("long", "test", "/data/esc/long.wav", "wind", ["wind"], "tags"),
        ],
    )
    captioned = seed_rows(
        "caps",
        [
            ("Yaaa", "test", "/data/caps/Yaaa.wav", "A car passes by.", [], "caption"),
            ("Yaaa", "test", "/data/caps/Yaaa.wav", "A vehicle drives past.", [], "caption"),
            ("Ybbb", "test", "/data/caps/Ybbb.wav", "Birds sing at dawn.", [], "caption"),
        ],
    )
    paths = [tmp_path / "meta" / "esc.parquet", tmp_path / "meta" / "caps.parquet"]
    write_metadata(tagged, paths[0])
    write_metadata(captioned, paths[1])
    return paths


def write_truth(tmp_path: Path, audio_path: str, tags: str) -> Path:
    """A demo ground truth file: the clip's path relative to its folder, tags joined with ';'."""
    root = tmp_path / "demo"
    root.mkdir()
    truth = root / "events.csv"
    relative = os.path.relpath(audio_path, root)
    pd.DataFrame({"audio_path": [relative], "layout": ["audiocaps"], "tags": [tags]}).to_csv(truth, index=False)
    return truth


# --------------------------------------------------------------------------- known clips


def test_known_clips_describe_by_tags_else_first_caption(metadata_paths: list[Path]) -> None:
    clips = known_clips(metadata_paths, None).set_index("clip_id")
    assert list(clips.columns) == ["split", "audio_path", "path_key", "offset_s", "duration_s", "tags", "description"]
    # One row per clip, though the captioned clip has two seeds.
    assert len(clips) == 7
    assert clips.loc["esc/dog", "description"] == "dog, bark"
    assert clips.loc["esc/cat", "tags"] == ["cat", "meow"]
    assert clips.loc["caps/Yaaa", "description"] == "A car passes by."
    assert clips.loc["caps/Yaaa", "tags"] == []
    assert clips.loc["caps/Ybbb", "description"] == "Birds sing at dawn."
    assert clips.loc["esc/cat", "path_key"] == "/data/esc/cat.wav"
    assert clips.loc["esc/long", ["offset_s", "duration_s"]].tolist() == [30.0, 5.0]


def test_demo_truth_gives_tags_by_path(tmp_path: Path, metadata_paths: list[Path]) -> None:
    truth = write_truth(tmp_path, "/data/caps/Yaaa.wav", "car;engine")
    assert pd.read_csv(truth).loc[0, "audio_path"].startswith("..")
    clips = known_clips(metadata_paths, truth).set_index("clip_id")
    assert clips.loc["caps/Yaaa", "tags"] == ["car", "engine"]
    assert clips.loc["caps/Yaaa", "description"] == "car, engine"
    # Clips the truth file does not name keep their own tags or caption.
    assert clips.loc["esc/dog", "tags"] == ["dog", "bark"]
    assert clips.loc["caps/Ybbb", "description"] == "Birds sing at dawn."


def test_held_out_keeps_tagged_test_clips(metadata_paths: list[Path]) -> None:
    clips = known_clips(metadata_paths, None)
    test = held_out(clips)
    assert test["clip_id"].tolist() == ["esc/dog", "esc/rain", "esc/cat", "esc/long"]
    assert held_out(clips, max_clips=2)["clip_id"].tolist() == ["esc/dog", "esc/rain"]


# --------------------------------------------------------------------------- generated items

HALLUCINATION = Hallucination(negatives_per_clip=1, sampling="random", seed=0)


def test_generated_hallucination_items(metadata_paths: list[Path]) -> None:
    clips = known_clips(metadata_paths, None)
    test = held_out(clips)
    items = generated_hallucination_items(test, clips, HALLUCINATION)
    assert list(items.columns) == [*ITEM_COLUMNS, "clip_id", "object"]
    assert items["item_id"].is_unique
    assert items["item_id"].str.startswith("hallucination|").all()
    assert (items["benchmark"] == "hallucination").all()
    assert (items["subset"] == "random").all()
    assert (items["question_type"] == "yes_no").all()
    assert set(items["answer"]) == {"yes", "no"}
    assert items["choices"].map(len).eq(0).all()
    assert set(items["clip_id"]) == set(test["clip_id"])
    tags = dict(zip(clips["clip_id"], clips["tags"]))
    vocabulary = {tag for tag_list in clips["tags"] for tag in tag_list}
    for row in items.itertuples(index=False):
        assert row.object in row.question
        assert (row.object in tags[row.clip_id]) == (row.answer == "yes")
        assert row.object in vocabulary
        assert row.audio_path == clips.set_index("clip_id").loc[row.clip_id, "audio_path"]
    # Four phrasings per (clip, object): the dog clip has two tags and one negative.
    assert (items["clip_id"] == "esc/dog").sum() == 4 * 3
    popular = generated_hallucination_items(test, clips, replace(HALLUCINATION, sampling="popular"))
    assert (popular["subset"] == "popular").all()


def test_instruction_items_one_per_clip_and_prompt(metadata_paths: list[Path]) -> None:
    test = held_out(known_clips(metadata_paths, None))
    settings = InstructionFollowing(base_prompts=["Describe the audio.", "What do you hear?"], per_prompt=2, seed=4)
    items = instruction_items(test, settings)
    assert list(items.columns) == [*ITEM_COLUMNS, "clip_id", "constraint_kind", "constraint"]
    assert len(items) == len(test) * 2
    assert items["item_id"].is_unique
    assert (items["question_type"] == "instruction").all()
    assert (items["subset"] == items["constraint_kind"]).all()
    assert (items["answer"] == items["constraint"]).all()
    assert items.groupby("clip_id").size().to_dict() == dict.fromkeys(test["clip_id"], 2)
    paths = dict(zip(test["clip_id"], test["audio_path"]))
    for position, row in enumerate(items.itertuples(index=False)):
        clip_index = position // 2
        assert row.clip_id == test.loc[clip_index, "clip_id"]
        assert row.audio_path == paths[row.clip_id]
        # Base prompts go to the clips in turn.
        assert row.question.startswith(settings.base_prompts[clip_index % 2])
        constraint = Constraint.from_json(row.constraint_kind, row.constraint)
        assert row.constraint_kind in KINDS
        assert row.question.endswith(constraint.instruction)
    # Two distinct kinds per clip.
    assert items.groupby("clip_id")["constraint_kind"].nunique().eq(2).all()
    limited = instruction_items(test, replace(settings, kinds=["lowercase", "no_comma"]))
    assert set(limited["constraint_kind"]) == {"lowercase", "no_comma"}


# --------------------------------------------------------------------------- subsample


def test_subsample_is_deterministic_and_keeps_order() -> None:
    items = pd.DataFrame({"item_id": [f"i{k}" for k in range(50)], "value": range(50)})
    first = subsample(items, 10, seed=1)
    assert len(first) == 10
    assert first["value"].is_monotonic_increasing
    pd.testing.assert_frame_equal(first, subsample(items, 10, seed=1))
    assert first["value"].tolist() != subsample(items, 10, seed=2)["value"].tolist()
    assert subsample(items, 50, seed=1) is items
    assert subsample(items, 80, seed=1) is items


# --------------------------------------------------------------------------- clip columns


def loader_items(paths: list[str], clip_ids: list[str] | None = None) -> pd.DataFrame:
    items = pd.DataFrame(
        {
            "item_id": [f"b|{k}" for k in range(len(paths))],
            "benchmark": "b",
            "subset": "",
            "audio_path": paths,
            "question": "Is it?",
            "choices": [[] for _ in paths],
            "answer": "yes",
            "question_type": "yes_no",
            "extra": range(len(paths)),
        }
    )
    return items if clip_ids is None else items.assign(clip_id=clip_ids)


def test_with_clip_columns_for_known_and_unknown_clips(metadata_paths: list[Path]) -> None:
    clips = known_clips(metadata_paths, None)
    items = loader_items(["/data/esc/dog.wav", "/data/other/../esc/long.wav", "/bench/x//y.wav", "/data/esc/cat.wav"])
    out = with_clip_columns(items, clips)
    assert list(out.columns) == [*ITEM_COLUMNS, *CLIP_COLUMNS, "extra"]
    assert out["clip_id"].tolist() == ["/data/esc/dog.wav", "/data/esc/long.wav", "/bench/x/y.wav", "/data/esc/cat.wav"]
    assert out["description"].tolist()[:2] == ["dog, bark", "wind"]
    assert out["description"].isna().tolist() == [False, False, True, False]
    assert out["offset_s"].tolist() == [0.0, 30.0, 0.0, 0.0]
    assert out["duration_s"].tolist()[:2] == [10.0, 5.0]
    assert math.isnan(out.loc[2, "duration_s"])
    # The input is not modified.
    assert "clip_id" not in items.columns


def test_with_clip_columns_keeps_a_loader_clip_id(metadata_paths: list[Path]) -> None:
    clips = known_clips(metadata_paths, None)
    out = with_clip_columns(loader_items(["/data/caps/Yaaa.wav", "/x.wav"], ["own-a", "own-b"]), clips)
    assert out["clip_id"].tolist() == ["own-a", "own-b"]
    assert out.loc[0, "description"] == "A car passes by."
    assert pd.isna(out.loc[1, "description"])


# --------------------------------------------------------------------------- AudioCaps with AudioSet labels


def test_audiocaps_clips_with_labels(tmp_path: Path) -> None:
    captions = tmp_path / "test.csv"
    captions.write_text(
        "audiocap_id,youtube_id,start_time,caption\n"
        "1,abc,30,A dog barks\n"
        "2,abc,30,A dog is barking\n"
        "3,def,0,Rain falls\n"
        "4,ghi,10,Unlabelled clip\n"
    )
    segments = tmp_path / "eval_segments.csv"
    segments.write_text(
        "# Segments csv created Sun Mar  5 10:54:31 2017\n"
        "# num_ytids=2, num_segs=2, num_unique_labels=3, num_positive_labels=3\n"
        "# YTID, start_seconds, end_seconds, positive_labels\n"
        'abc, 30.000, 40.000, "/m/01,/m/02"\n'
        'def, 0.000, 10.000, "/m/03"\n'
        'zzz, 0.000, 10.000, "/m/04"\n'
    )
    audio = tmp_path / "audio"
    audio.mkdir()
    (audio / "Yabc.wav").write_bytes(b"")
    clips = audiocaps_clips_with_labels(captions, segments, audio)
    assert list(clips.columns) == ["clip_id", "audio_path", "tags"]
    assert clips["clip_id"].tolist() == ["Yabc", "Ydef"]
    assert clips["tags"].tolist() == [["/m/01", "/m/02"], ["/m/03"]]
    assert clips["audio_path"].tolist() == [str(audio / "Yabc.wav"), str(audio / "Ydef.wav")]

    captions.write_text("audiocap_id,youtube,start_time,caption\n1,abc,30,x\n")
    with pytest.raises(ValueError, match="youtube_id"):
        audiocaps_clips_with_labels(captions, segments, audio)


def test_known_clips_point_at_their_corpus_feature_cache(metadata_paths: list[Path]) -> None:
    clips = known_clips(metadata_paths, None)
    items = with_clip_columns(loader_items(["/data/esc/dog.wav", "/bench/x.wav"]), clips)
    dog = clips.loc[clips["path_key"] == "/data/esc/dog.wav", "clip_id"].item()
    assert items["corpus_clip_id"].tolist() == [dog, None]
    # The evaluation's own cache holds only what no corpus cache has.
    assert evaluation_feature_key(items).tolist() == [dog, "/bench/x.wav"]


def test_the_clips_table_reads_back_as_written(tmp_path: Path, metadata_paths: list[Path], make_config) -> None:
    evaluation_clips(make_config(), metadata_paths, None, tmp_path / "clips.parquet")
    clips = read_evaluation_clips(tmp_path / "clips.parquet")
    expected = known_clips(metadata_paths, None)
    assert clips["tags"].map(type).eq(list).all()
    pd.testing.assert_frame_equal(clips, expected)
    assert len(held_out(clips)) == len(held_out(expected))


def test_evaluation_features_encode_only_clips_no_corpus_caches(
    tmp_path: Path, tiny_whisper_dir: Path, make_config
) -> None:
    import soundfile as sf

    from balsa_core.backbones import ModelManifest
    from balsa_core.features import FeatureStore

    rng = np.random.default_rng(0)
    for name in ("benchmark.wav", "training.wav"):
        sf.write(tmp_path / name, 0.1 * rng.standard_normal(16000).astype("float32"), 16000)
    items = pd.DataFrame(
        {
            "clip_id": [str(tmp_path / "benchmark.wav"), str(tmp_path / "training.wav")],
            "audio_path": [str(tmp_path / "benchmark.wav"), str(tmp_path / "training.wav")],
            "offset_s": [0.0, 0.0],
            "duration_s": [float("nan"), 1.0],
            "corpus_clip_id": [None, "corpus-clip-7"],
        }
    )
    items.to_parquet(tmp_path / "items.parquet", index=False)
    ModelManifest("encoder", "test", str(tiny_whisper_dir)).write(tmp_path / "encoder.json")
    settings = {"layers": [1, 2], "batch_size": 4, "shard_size": 8, "window": "clip", "trim": True}
    config = make_config(lambda config: config.update(features=settings))
    evaluation_features(config, tmp_path / "items.parquet", tmp_path / "encoder.json", tmp_path / "eval/index.parquet")
    store = FeatureStore([tmp_path / "eval/index.parquet"])
    assert len(store) == 1 and str(tmp_path / "benchmark.wav") in store
    assert store.get(str(tmp_path / "benchmark.wav")).shape[0] == 2


# --------------------------------------------------------------------------- grounding items

GROUNDING = Grounding(prompt="Replay the audio.", seed=0)


def test_grounding_items_are_held_out_clips_whose_tags_name_a_sound(
    tmp_path: Path, clip_table: pd.DataFrame, make_config
) -> None:
    out, clips = tmp_path / "grounding.parquet", tmp_path / "clips.parquet"
    clip_table.to_parquet(clips, index=False)
    # Grounding's items do not depend on evaluation.prompting.
    config = make_config(lambda config: config["evaluation"]["prompting"].update(yes_no_instruction="Yes or no?"))
    evaluation_items(config, "grounding", clips, out)
    items = pd.read_parquet(out)

    assert list(items.columns[: len(ITEM_COLUMNS) + len(CLIP_COLUMNS)]) == [*ITEM_COLUMNS, *CLIP_COLUMNS]
    assert items["clip_id"].tolist() == ["esc/dog", "esc/rain", "caps/Ysiren", "caps/Ycat"]
    assert (items["prompt"] == "Replay the audio.").all() and (items["question_type"] == QUESTION_TYPE).all()
    assert (items["control_clip_id"] != items["clip_id"]).all()
    assert set(items["control_clip_id"]) == set(items["clip_id"])
    # Each clip is cached with its corpus, and the text ceiling reads its tags.
    assert (items["corpus_clip_id"] == items["clip_id"]).all()
    assert items.loc[0, "description"] == "Dog, Bark"
    # Precision is over the tags of every clip, training clips' too.
    assert {"bird", "chirp", "dog", "siren"} <= set(items.loc[0, "vocabulary"])


def test_grounding_max_clips_draws_across_corpora_with_the_seed(clip_table: pd.DataFrame) -> None:
    clips = clip_table
    drawn = {
        seed: grounding_items(clips, replace(GROUNDING, max_clips=2, seed=seed))["clip_id"].tolist()
        for seed in range(6)
    }
    assert all(len(chosen) == 2 for chosen in drawn.values())
    assert drawn[0] == grounding_items(clips, replace(GROUNDING, max_clips=2, seed=0))["clip_id"].tolist()
    assert len({tuple(chosen) for chosen in drawn.values()}) > 1
    assert any(clip.startswith("caps/") for chosen in drawn.values() for clip in chosen)


def test_grounding_needs_two_clips_or_names_the_key(clip_table: pd.DataFrame) -> None:
    clips = clip_table
    with pytest.raises(ValueError, match="evaluation.grounding: 1 held-out clip"):
        grounding_items(clips[clips["clip_id"].isin(["esc/dog", "esc/bird"])], GROUNDING)
