"""Target sets as requests: backbone, ground-truth, question and two-audio sets, and question files."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from balsa_core.generation.target_sets import REQUEST_COLUMNS, TargetSet, read_questions, requests_for
from balsa_core.prompts import PromptTemplate

TEMPLATE = PromptTemplate()


def seeds_table(rows: list[tuple[str, str, str, str, str]]) -> pd.DataFrame:
    """Metadata rows from (seed_id, clip_id, corpus, split, seed_text); audio files are named after the clip."""
    return pd.DataFrame(
        {
            "seed_id": [row[0] for row in rows],
            "clip_id": [row[1] for row in rows],
            "corpus": [row[2] for row in rows],
            "split": [row[3] for row in rows],
            "audio_path": [f"/audio/{row[2]}/{row[1].split('/')[-1]}.wav" for row in rows],
            "seed_text": [row[4] for row in rows],
            "tags": [row[4].split(", ") for row in rows],
        }
    )


def metadata() -> pd.DataFrame:
    # Deliberately not in seed_id order, so sorting is observable.
    return seeds_table(
        [
            ("a/3", "a/c3", "a", "train", "thunder rumbles"),
            ("a/1", "a/c1", "a", "train", "rain falls on a roof"),
            ("a/2", "a/c2", "a", "test", "a dog barks"),
            ("a/4", "a/c4", "a", "val", "wind howls"),
            ("a/5", "a/c5", "a", "train", "speech, music"),
        ]
    )


def many_seeds(count: int) -> pd.DataFrame:
    return seeds_table([(f"m/{i:02d}", f"m/c{i:02d}", "m", "train", f"sound {i}") for i in range(count)])


def questions_frame(rows: list[tuple[str, str | None]]) -> pd.DataFrame:
    return pd.DataFrame({"question": [q for q, _ in rows], "clip_id": [c for _, c in rows]}, dtype=object)


GENERAL = [f"General question {i}?" for i in range(8)]


# --------------------------------------------------------------------------- backbone sets


def test_backbone_set_asks_each_training_seed_samples_per_seed_times_in_target_id_order():
    target_set = TargetSet("positive", prompt="Describe what you hear.", samples_per_seed=2)
    requests = requests_for(target_set, metadata(), TEMPLATE, ["train"])

    assert list(requests.columns) == REQUEST_COLUMNS
    assert list(requests["target_id"]) == [
        "a/1|positive|0",
        "a/1|positive|1",
        "a/3|positive|0",
        "a/3|positive|1",
        "a/5|positive|0",
        "a/5|positive|1",
    ]
    assert list(requests["target_id"]) == sorted(requests["target_id"])
    assert set(requests["split"]) == {"train"}, "the test and val seeds a/2 and a/4 are left out"
    assert list(requests["source_id"]) == ["a/1", "a/1", "a/3", "a/3", "a/5", "a/5"]
    assert list(requests["sample_index"]) == [0, 1, 0, 1, 0, 1]
    assert set(requests["target_set"]) == {"positive"}
    assert set(requests["corpus"]) == {"a"}

    first = requests.iloc[0]
    assert first["prompt"] == "[Begin of audio] rain falls on a roof [End of audio] Describe what you hear."
    assert first["instruction"] == "Describe what you hear."
    assert first["clip_ids"] == ["a/c1"]
    assert first["seed_ids"] == ["a/1"]
    assert first["reference"] is None
    for row in requests.itertuples():
        seed_text = metadata().set_index("seed_id").loc[row.source_id, "seed_text"]
        assert row.prompt == TEMPLATE.user_message([seed_text], "Describe what you hear.")
        assert row.seed_ids == [row.source_id]
        assert row.reference is None


def test_backbone_set_covers_every_chosen_split_and_uses_the_template_markers():
    template = PromptTemplate(begin_audio="<audio>", end_audio="</audio>")
    target_set = TargetSet("negative", prompt="What is absent?")
    requests = requests_for(target_set, metadata(), template, ["train", "val"])

    assert list(requests["source_id"]) == ["a/1", "a/3", "a/4", "a/5"]
    assert requests.set_index("source_id").loc["a/4", "split"] == "val"
    assert requests.set_index("source_id").loc["a/4", "prompt"] == "<audio> wind howls </audio> What is absent?"


def test_no_seed_in_the_chosen_splits_gives_no_requests():
    requests = requests_for(TargetSet("positive", prompt="Describe."), metadata(), TEMPLATE, ["unknown"])
    assert requests.empty
    assert list(requests.columns) == REQUEST_COLUMNS
    # Nor does a question file that asks only about other clips.
    only_others = questions_frame([("Is it thunder?", "a/c3")])
    asked = requests_for(
        TargetSet("openaqa", source="questions"), metadata(), TEMPLATE, ["test"], questions=only_others
    )
    assert asked.empty
    assert list(asked.columns) == REQUEST_COLUMNS


def test_ground_truth_set_copies_the_seed_under_the_fixed_instruction():
    target_set = TargetSet("template", source="ground_truth", prompt="Describe the audio.")
    assert not target_set.uses_backend
    requests = requests_for(target_set, metadata(), TEMPLATE, ["train"])

    assert list(requests["target_id"]) == ["a/1|template|0", "a/3|template|0", "a/5|template|0"]
    assert requests["prompt"].isna().all()
    assert set(requests["instruction"]) == {"Describe the audio."}
    assert list(requests["reference"]) == ["rain falls on a roof", "thunder rumbles", "speech, music"]
    assert list(requests["clip_ids"]) == [["a/c1"], ["a/c3"], ["a/c5"]]


def test_a_config_entry_with_its_name_and_samples_builds_the_target_set():
    entry = {"source": "questions", "questions": "q.csv", "backend": "fast", "audios": 1, "names_absent_sounds": False}
    target_set = TargetSet(**{**entry, "name": "openaqa", "samples_per_seed": 3})
    assert target_set == TargetSet("openaqa", source="questions", questions="q.csv", samples_per_seed=3, backend="fast")
    assert target_set.uses_backend and not TargetSet("rule_based", source="ground_truth").uses_backend


# --------------------------------------------------------------------------- question sets


def test_question_set_draws_distinct_general_questions_for_each_seed():
    target_set = TargetSet("openaqa", source="questions", samples_per_seed=3)
    questions = questions_frame([(q, None) for q in GENERAL])
    requests = requests_for(target_set, metadata(), TEMPLATE, ["train"], questions=questions)

    assert list(requests["target_id"]) == [f"{seed}|openaqa|{i}" for seed in ("a/1", "a/3", "a/5") for i in range(3)]
    for seed_id, group in requests.groupby("source_id"):
        assert len(set(group["instruction"])) == 3, f"{seed_id} was asked a question twice"
        assert set(group["instruction"]) <= set(GENERAL)
    text = metadata().set_index("seed_id")["seed_text"]
    for row in requests.itertuples():
        assert row.prompt == TEMPLATE.user_message([text[row.source_id]], row.instruction)
        assert row.clip_ids == [row.source_id.replace("/", "/c")]
        assert row.reference is None


def test_clip_specific_questions_replace_the_general_pool_for_their_clip():
    target_set = TargetSet("openaqa", source="questions", samples_per_seed=2)
    questions = questions_frame(
        [(q, None) for q in GENERAL] + [("Is the roof metal?", "a/c1"), ("How heavy is the rain?", "a/c1")]
    )
    requests = requests_for(target_set, metadata(), TEMPLATE, ["train"], questions=questions)
    asked = requests.groupby("source_id")["instruction"].agg(set).to_dict()

    assert asked["a/1"] == {"Is the roof metal?", "How heavy is the rain?"}
    assert asked["a/3"] <= set(GENERAL)
    assert asked["a/5"] <= set(GENERAL)
    assert "Is the roof metal?" not in asked["a/3"] | asked["a/5"], "clip questions are not in the general pool"


def test_with_fewer_candidates_than_samples_each_is_asked_once():
    target_set = TargetSet("openaqa", source="questions", samples_per_seed=5)
    questions = questions_frame([("What is heard?", None), ("Is it loud?", None), ("Only for c3?", "a/c3")])
    requests = requests_for(target_set, metadata(), TEMPLATE, ["train"], questions=questions)
    asked = requests.groupby("source_id")["instruction"].agg(list).to_dict()

    assert sorted(asked["a/1"]) == ["Is it loud?", "What is heard?"]
    assert sorted(asked["a/5"]) == ["Is it loud?", "What is heard?"]
    assert asked["a/3"] == ["Only for c3?"]
    assert list(requests.loc[requests["source_id"] == "a/1", "sample_index"]) == [0, 1]


def test_question_draw_is_per_seed_deterministic_and_independent_of_other_seeds():
    target_set = TargetSet("openaqa", source="questions", samples_per_seed=2)
    questions = questions_frame([(q, None) for q in GENERAL])
    everyone = many_seeds(12)

    def draws(seeds: pd.DataFrame, seed: int = 0) -> dict[str, list[str]]:
        requests = requests_for(target_set, seeds, TEMPLATE, ["train"], questions=questions, seed=seed)
        return requests.groupby("source_id")["instruction"].agg(list).to_dict()

    full = draws(everyone)
    assert draws(everyone) == full, "the same inputs give the same draw"
    alone = draws(everyone[everyone["seed_id"] == "m/05"])
    assert alone == {"m/05": full["m/05"]}
    some = draws(everyone.iloc[::3])
    assert some == {seed_id: full[seed_id] for seed_id in everyone["seed_id"].iloc[::3]}
    assert len({tuple(chosen) for chosen in full.values()}) > 1, "seeds do not all get the same questions"

    reseeded = draws(everyone, seed=1)
    assert reseeded.keys() == full.keys()
    assert any(reseeded[seed_id] != full[seed_id] for seed_id in full), "the seed argument changes some draws"


def test_question_set_without_questions_raises():
    with pytest.raises(ValueError, match="no question file given"):
        requests_for(TargetSet("openaqa", source="questions"), metadata(), TEMPLATE, ["train"])


# --------------------------------------------------------------------------- two-audio sets


def pair_metadata() -> pd.DataFrame:
    return pd.concat(
        [
            metadata(),
            seeds_table([("b/1", "b/c1", "b", "train", "a car horn"), ("b/2", "b/c2", "b", "test", "birds sing")]),
        ],
        ignore_index=True,
    )


def pairs_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "pair_id": ["p/2", "p/1"],
            "first_clip_id": ["a/c1", "a/c3"],
            "second_clip_id": ["b/c2", "a/c5"],
            "first_corpus": ["a", "a"],
            "second_corpus": ["b", "a"],
            "first_seed_id": ["a/1", "a/3"],
            "second_seed_id": ["b/2", "a/5"],
        }
    )


def test_pair_set_puts_both_seeds_in_numbered_spans_in_order():
    target_set = TargetSet("difference", prompt="Explain the difference.", audios=2, samples_per_seed=2)
    requests = requests_for(target_set, pair_metadata(), TEMPLATE, ["train"], pairs=pairs_table())

    assert list(requests["target_id"]) == [
        "p/1|difference|0",
        "p/1|difference|1",
        "p/2|difference|0",
        "p/2|difference|1",
    ]
    by_pair = requests.drop_duplicates("source_id").set_index("source_id")
    assert by_pair.loc["p/1", "clip_ids"] == ["a/c3", "a/c5"]
    assert by_pair.loc["p/1", "seed_ids"] == ["a/3", "a/5"]
    assert by_pair.loc["p/2", "clip_ids"] == ["a/c1", "b/c2"]
    assert by_pair.loc["p/2", "seed_ids"] == ["a/1", "b/2"]
    assert by_pair.loc["p/1", "corpus"] == "a"
    assert by_pair.loc["p/2", "corpus"] == "a+b"
    assert by_pair.loc["p/2", "prompt"] == (
        "[Begin of audio1] rain falls on a roof [End of audio1] "
        "[Begin of audio2] birds sing [End of audio2] Explain the difference."
    )
    assert by_pair.loc["p/1", "prompt"] == TEMPLATE.user_message(
        ["thunder rumbles", "speech, music"], "Explain the difference."
    )
    assert set(requests["instruction"]) == {"Explain the difference."}
    assert requests["reference"].isna().all()


def test_pair_naming_a_seed_missing_from_the_metadata_raises():
    pairs = pairs_table()
    pairs.loc[1, "second_seed_id"] = "a/ghost"
    target_set = TargetSet("both", prompt="Caption both.", audios=2)
    with pytest.raises(ValueError, match="a/ghost"):
        requests_for(target_set, pair_metadata(), TEMPLATE, ["train"], pairs=pairs)


def test_pair_set_without_pairs_raises():
    with pytest.raises(ValueError, match="no pairs table given"):
        requests_for(TargetSet("both", prompt="Caption both.", audios=2), pair_metadata(), TEMPLATE, ["train"])


# --------------------------------------------------------------------------- question files


def as_records(questions: pd.DataFrame) -> list[tuple[str, str | None]]:
    assert list(questions.columns) == ["question", "clip_id"]
    return list(questions.itertuples(index=False, name=None))


def test_csv_questions_with_blank_clip_ids_are_general(tmp_path):
    path = tmp_path / "questions.csv"
    path.write_text('question,clip_id\n"What is heard, and where?",\n  Is the roof metal?  ,a/c1\n')
    assert as_records(read_questions(path, metadata())) == [
        ("What is heard, and where?", None),
        ("Is the roof metal?", "a/c1"),
    ]


def test_csv_without_a_clip_column_gives_general_questions(tmp_path):
    path = tmp_path / "questions.csv"
    path.write_text("question\nWhat is heard?\nIs it loud?\n")
    assert as_records(read_questions(path)) == [("What is heard?", None), ("Is it loud?", None)]


def test_tsv_questions(tmp_path):
    path = tmp_path / "questions.tsv"
    path.write_text("clip_id\tquestion\na/c3\tIs it, really, thunder?\n\tWhat is heard?\n")
    assert as_records(read_questions(path, metadata())) == [
        ("Is it, really, thunder?", "a/c3"),
        ("What is heard?", None),
    ]


def test_openaqa_json_matches_audio_ids_to_clips_by_file_stem(tmp_path):
    audioset = seeds_table(
        [
            ("as/1", "as/Y8kZjC7oC6cH", "audioset", "train", "speech"),
            ("as/2", "as/YabcDEF", "audioset", "train", "music"),
        ]
    )
    assert audioset.loc[0, "audio_path"] == "/audio/audioset/Y8kZjC7oC6cH.wav"
    records = [
        {"instruction": "What is the speaker's mood?", "audio_id": "/data/audioset/Y8kZjC7oC6cH.wav", "output": "calm"},
        {"instruction": "Which instrument plays?", "audio_id": "/elsewhere/YabcDEF.flac", "output": "piano"},
        {"instruction": "About a clip we do not have?", "audio_id": "/data/audioset/Ynotours.wav", "output": "-"},
        {"instruction": "What sounds are present?", "audio_id": "", "output": "-"},
    ]
    path = tmp_path / "openaqa.json"
    path.write_text(json.dumps(records))
    assert as_records(read_questions(path, audioset)) == [
        ("What is the speaker's mood?", "as/Y8kZjC7oC6cH"),
        ("Which instrument plays?", "as/YabcDEF"),
        ("What sounds are present?", None),
    ], "the unmatched audio id is dropped, not asked of every clip"


def test_jsonl_questions(tmp_path):
    path = tmp_path / "questions.jsonl"
    lines = [{"question": "What is heard?"}, {"question": "Is it thunder?", "clip_id": "a/c3"}]
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n\n")
    assert as_records(read_questions(path, metadata())) == [("What is heard?", None), ("Is it thunder?", "a/c3")]


def test_questions_about_clips_outside_the_metadata_are_dropped(tmp_path):
    path = tmp_path / "questions.csv"
    path.write_text("question,clip_id\nAbout another corpus?,z/c9\nWhat is heard?,\nIs it thunder?,a/c3\n")
    assert as_records(read_questions(path, metadata())) == [("What is heard?", None), ("Is it thunder?", "a/c3")]
    # Without metadata, nothing is known to be outside it.
    assert [clip for _, clip in as_records(read_questions(path))] == ["z/c9", None, "a/c3"]


def test_read_questions_feeds_a_question_set(tmp_path):
    path = tmp_path / "questions.csv"
    path.write_text("question,clip_id\nOnly for another corpus?,z/c9\nWhat is heard?,\nIs it thunder?,a/c3\n")
    target_set = TargetSet("openaqa", source="questions", samples_per_seed=2)
    questions = read_questions(path, metadata())
    requests = requests_for(target_set, metadata(), TEMPLATE, ["train"], questions=questions)
    assert requests.groupby("source_id")["instruction"].agg(list).to_dict() == {
        "a/1": ["What is heard?"],
        "a/3": ["Is it thunder?"],
        "a/5": ["What is heard?"],
    }


def test_missing_question_file_raises_with_its_path(tmp_path):
    path = tmp_path / "nowhere" / "questions.csv"
    with pytest.raises(FileNotFoundError, match="nowhere"):
        read_questions(path)


def test_file_without_a_question_column_names_itself_and_its_columns(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("prompt,clip_id\nWhat is heard?,\n")
    with pytest.raises(ValueError, match="no 'question'") as raised:
        read_questions(path)
    assert str(path) in str(raised.value)
    assert "['prompt', 'clip_id']" in str(raised.value)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("blank.csv", "question,clip_id\nWhat is heard?,\n   ,a/c1\n"),
        ("blank.jsonl", '{"question": "What is heard?"}\n{"question": null}\n'),
    ],
)
def test_blank_question_names_its_row(tmp_path, name, content):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(ValueError, match="empty question in row 2") as raised:
        read_questions(path)
    assert str(path) in str(raised.value)


def test_unsupported_suffix_raises(tmp_path):
    path = tmp_path / "questions.txt"
    path.write_text("What is heard?\n")
    with pytest.raises(ValueError, match=r"\.csv, \.tsv, \.json or \.jsonl"):
        read_questions(path)
