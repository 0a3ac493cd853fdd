"""Evaluation benchmark loaders: fixtures in each release's own layout, plus the real samples in ../shared."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from balsa_core.evaluation.loaders import (
    COCHLSCENE_SCENES,
    EDANSA_EVENTS,
    ENTAILMENT_LABELS,
    ITEM_COLUMNS,
    LOADERS,
    NONSPEECH7K_CLASSES,
    QUESTION_TYPES,
    BenchmarkFileError,
    load_audio_entailment,
    load_audio_hallucination,
    load_benchmark,
    load_clotho_aqa,
    load_cochlscene,
    load_edansa,
    load_mmau,
    load_nonspeech7k,
    load_sakura,
)

SHARED_FORMATS = Path(__file__).resolve().parents[2] / "shared" / "formats"
needs_shared = pytest.mark.skipif(
    not SHARED_FORMATS.is_dir(), reason=f"real format samples not found at {SHARED_FORMATS}"
)
AUDIO = Path("/data/audio")


def check_schema(items: pd.DataFrame, benchmark: str) -> None:
    assert tuple(items.columns[: len(ITEM_COLUMNS)]) == ITEM_COLUMNS
    assert items["item_id"].is_unique
    assert (items["benchmark"] == benchmark).all()
    assert items["question_type"].isin(QUESTION_TYPES).all()
    for item in items.itertuples(index=False):
        assert isinstance(item.choices, list)
        assert item.question.strip() and item.answer.strip()
        assert item.audio_path.startswith(str(AUDIO))
        if item.question_type == "multiple_choice":
            assert item.answer in item.choices
        else:
            assert item.choices == []
        if item.question_type == "yes_no":
            assert item.answer in ("yes", "no")


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- Clotho-AQA

CLOTHO_AQA_CSV = """file_name,QuestionText,answer,confidence
river.wav,Are there waves?,yes,yes
river.wav,Are there waves?,Yes,yes
river.wav,Are there waves?,yes ,maybe
river.wav,Is it raining?,yes,yes
river.wav,Is it raining?,no,yes
river.wav,Is it raining?,yes,maybe
birds.wav,What size are the birds?,small,yes
birds.wav,What size are the birds?,small,yes
birds.wav,What size are the birds?,small,maybe
birds.wav,Is a dog barking?,no,yes
birds.wav,Is a dog barking?,no,yes
birds.wav,Is a dog barking?,no,yes
birds.wav,Is it night?,no,yes
"""


def test_clotho_aqa_keeps_unanimous_questions(tmp_path):
    path = write(tmp_path / "clotho_aqa_test.csv", CLOTHO_AQA_CSV)
    items = load_clotho_aqa(path, AUDIO)
    check_schema(items, "clotho_aqa")
    # "Is it raining?" is split 2-1 and "Is it night?" has one annotator only: both dropped.
    assert items["question"].tolist() == ["Are there waves?", "What size are the birds?", "Is a dog barking?"]
    assert items["answer"].tolist() == ["yes", "small", "no"]
    assert items["question_type"].tolist() == ["yes_no", "open", "yes_no"]
    assert items["audio_path"].tolist() == [
        str(AUDIO / "river.wav"),
        str(AUDIO / "birds.wav"),
        str(AUDIO / "birds.wav"),
    ]
    assert set(items["subset"]) == {"test"}
    assert items["annotators"].tolist() == [3, 3, 3]
    assert load_clotho_aqa(path, AUDIO, min_annotators=1)["question"].iloc[-1] == "Is it night?"


def test_clotho_aqa_several_files_and_errors(tmp_path):
    test = write(tmp_path / "clotho_aqa_test.csv", CLOTHO_AQA_CSV)
    other = write(tmp_path / "extra.csv", "file_name,QuestionText,answer,confidence\nx.wav,Is it loud?,no,yes\n" * 2)
    items = load_clotho_aqa([test, other], AUDIO)
    assert len(items) == 4 and items["subset"].tolist()[-1] == ""
    with pytest.raises(BenchmarkFileError, match="repeated item"):
        load_clotho_aqa([test, test], AUDIO)
    bad = write(tmp_path / "bad.csv", "file_name,Question,answer\nx.wav,Is it?,yes\n")
    with pytest.raises(BenchmarkFileError, match=r"bad\.csv: missing column\(s\) \['QuestionText'\]"):
        load_clotho_aqa(bad, AUDIO)
    with pytest.raises(BenchmarkFileError, match="nowhere.csv: annotation file not found"):
        load_clotho_aqa(tmp_path / "nowhere.csv", AUDIO)


# --------------------------------------------------------------------------- audio hallucination

HALLUCINATION_HEADER = """# Random Sampling - Test Split
# Total samples: 30220
# Columns: ['entry_id', 'audio_index', 'prompt_text', 'object', 'attribute', 'label', 'sampling']

entry_id\taudio_index\tprompt_text\tobject\tattribute\tlabel\tsampling
"""


def hallucination_file(path: Path, sampling: str, rows: list[tuple[str, ...]]) -> Path:
    body = "".join("\t".join(row) + "\n" for row in rows)
    return write(path, HALLUCINATION_HEADER.replace("Random", sampling.capitalize()) + body)


def test_audio_hallucination_reads_the_released_files(tmp_path):
    random_file = hallucination_file(
        tmp_path / "random_test.txt",
        "random",
        [
            ("0", "Y7fmOlUlwoNg", "Is there a sound of speech in the audio?", "speech", "positive", "Yes", "random"),
            ("1", "Y7fmOlUlwoNg", 'Is there a sound of "sheep" in the audio?', "sheep", "negative", "No", "random"),
        ],
    )
    popular_file = hallucination_file(
        tmp_path / "popular_test.txt",
        "popular",
        [("0", "YZ0IrCa4MvOA", "Can you hear the pump (liquid)?", "pump (liquid)", "negative", "No", "popular")],
    )
    items = load_audio_hallucination([random_file, popular_file], AUDIO)
    check_schema(items, "audio_hallucination")
    assert items["item_id"].tolist() == [
        "audio_hallucination|random|0",
        "audio_hallucination|random|1",
        "audio_hallucination|popular|0",
    ]
    assert items["subset"].tolist() == ["random", "random", "popular"]
    assert items["answer"].tolist() == ["yes", "no", "no"]
    assert items["object"].tolist() == ["speech", "sheep", "pump (liquid)"]
    assert items["question"].iloc[1] == 'Is there a sound of "sheep" in the audio?'  # quotes kept verbatim
    assert items["audio_path"].iloc[2] == str(AUDIO / "YZ0IrCa4MvOA.wav")
    assert set(items["question_type"]) == {"yes_no"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            HALLUCINATION_HEADER + "0\tY1\tIs there x?\tx\tpositive\tMaybe\trandom\n",
            r"bad\.txt:6: label must be Yes or No",
        ),
        (HALLUCINATION_HEADER + "0\tY1\tIs there x?\tx\tYes\trandom\n", r"bad\.txt:6: expected 7 tab-separated fields"),
        ("# only comments\n\n", r"bad\.txt: no header line"),
        ("entry_id\taudio_index\tprompt_text\tlabel\tsampling\n", r"missing column\(s\) \['object'\]"),
    ],
)
def test_audio_hallucination_errors_name_file_and_line(tmp_path, text, message):
    with pytest.raises(BenchmarkFileError, match=message):
        load_audio_hallucination(write(tmp_path / "bad.txt", text), AUDIO)


# --------------------------------------------------------------------------- MMAU


def mmau_entry(ident: str, task: str, choices: list, answer: str, **extra) -> dict:
    return {
        "id": ident,
        "audio_id": f"./test-mini-audios/{ident}.wav",
        "question": f"Question {ident}?",
        "choices": choices,
        "answer": answer,
        "dataset": "AudioSet",
        "task": task,
        "split": "test-mini",
        "category": "Reasoning",
        "sub-category": "Acoustic Source Inference",
        "difficulty": "easy",
        **extra,
    }


def test_mmau_keeps_sound_items_with_released_choice_order(tmp_path):
    entries = [
        mmau_entry("a1", "sound", ["Man", "Woman", "Child", "Robot"], "Woman"),
        mmau_entry("m1", "music", ["Piano", "Guitar"], "Piano"),
        mmau_entry("a2", "sound", ["A dog barking ", "A cat", "A cat"], "A dog barking", category="['Reasoning']"),
        mmau_entry("s1", "speech", ["one", "two"], "two"),
    ]
    path = write(tmp_path / "mmau-test-mini.json", json.dumps(entries))
    items = load_mmau(path, AUDIO)
    check_schema(items, "mmau")
    assert items["item_id"].tolist() == ["mmau|a1", "mmau|a2"]
    assert items["choices"].tolist() == [["Man", "Woman", "Child", "Robot"], ["A dog barking", "A cat"]]
    assert items["audio_path"].iloc[0] == str(AUDIO / "test-mini-audios" / "a1.wav")
    assert items["subset"].tolist() == ["sound", "sound"]
    assert items["category"].tolist() == ["Reasoning", "Reasoning"]
    assert items["sub_category"].iloc[0] == "Acoustic Source Inference"
    assert load_mmau(path, AUDIO, tasks=("sound", "speech"))["subset"].tolist() == ["sound", "sound", "speech"]


def test_mmau_errors_name_the_key(tmp_path):
    entry = mmau_entry("a1", "sound", ["x", "y"], "x")
    del entry["audio_id"]
    with pytest.raises(BenchmarkFileError, match=r"question #0 \(a1\) lacks key\(s\) \['audio_id'\]"):
        load_mmau(write(tmp_path / "m.json", json.dumps([entry])), AUDIO)
    wrong = mmau_entry("a2", "sound", ["x", "y"], "z")
    with pytest.raises(BenchmarkFileError, match="answer 'z' is not among the choices"):
        load_mmau(write(tmp_path / "m.json", json.dumps([wrong])), AUDIO)
    escaping = mmau_entry("a3", "sound", ["x", "y"], "x", audio_id="../elsewhere/a3.wav")
    with pytest.raises(BenchmarkFileError, match="not a relative path inside the release"):
        load_mmau(write(tmp_path / "m.json", json.dumps([escaping])), AUDIO)
    with pytest.raises(BenchmarkFileError, match="expected a JSON list"):
        load_mmau(write(tmp_path / "m.json", "{}"), AUDIO)


# --------------------------------------------------------------------------- SAKURA

SAKURA_CSV = (
    "file,attribute_label,single_instruction,single_answer,multi_instruction,multi_answer\n"
    "dog28.wav,dog,Which animal makes the sound? (a) dog (b) crow (c) cow (d) rooster,(a) dog,"
    "What feature does the animal have? (a) Feathers (b) Scales (c) Claws (d) Horns,(c) Claws\n"
    '1078_ANG.wav,angry,What is the tone? (a) disgust (b) angry,  (b) angry,"Which reply suits (a) them? '
    '(a) Reassure them and   move on. (b) Calmly, acknowledge it.","(b) Calmly,  acknowledge it."\n'
)


def test_sakura_parses_options_and_answers(tmp_path):
    path = write(tmp_path / "Animal_metadata.csv", SAKURA_CSV)
    items = load_sakura(path, AUDIO)
    check_schema(items, "sakura")
    assert items["subset"].tolist() == ["single", "multi", "single", "multi"]
    assert set(items["track"]) == {"Animal"}
    first = items.iloc[0]
    assert first["question"] == "Which animal makes the sound?"
    assert first["choices"] == ["dog", "crow", "cow", "rooster"]
    assert (first["answer"], first["answer_letter"], first["attribute_label"]) == ("dog", "a", "dog")
    assert items.iloc[1]["answer"] == "Claws" and items.iloc[1]["answer_letter"] == "c"
    assert items.iloc[2]["answer"] == "angry"  # a leading space before "(b)" as in the Emotion track
    multi = items.iloc[3]
    # "(a)" inside the stem is not an option list: the last run (a), (b) is; spaces squashed.
    assert multi["question"] == "Which reply suits (a) them?"
    assert multi["choices"] == ["Reassure them and move on.", "Calmly, acknowledge it."]
    assert items["item_id"].iloc[0] == "sakura|Animal|dog28.wav|single"
    assert items["audio_path"].iloc[0] == str(AUDIO / "dog28.wav")


def test_sakura_errors(tmp_path):
    mismatch = write(
        tmp_path / "Emotion_metadata.csv", SAKURA_CSV.replace('"(b) Calmly,  acknowledge it."', "(b) Calm")
    )
    with pytest.raises(
        BenchmarkFileError, match=r"Emotion_metadata\.csv:3: 'multi_answer' says \(b\) 'Calm' but option"
    ):
        load_sakura(mismatch, AUDIO)
    no_options = SAKURA_CSV.replace("Which animal makes the sound? (a) dog (b) crow (c) cow (d) rooster", "Which?")
    with pytest.raises(BenchmarkFileError, match=r":2: 'single_instruction' lists no options"):
        load_sakura(write(tmp_path / "Animal_metadata.csv", no_options), AUDIO)
    out_of_range = SAKURA_CSV.replace(",(a) dog,", ",(e) dog,")
    with pytest.raises(BenchmarkFileError, match=r"names option \(e\) but only 4 are listed"):
        load_sakura(write(tmp_path / "Animal_metadata.csv", out_of_range), AUDIO)
    with pytest.raises(BenchmarkFileError, match=r"missing column\(s\) \['multi_answer'\]"):
        load_sakura(
            write(tmp_path / "Gender_metadata.csv", "file,single_instruction,single_answer,multi_instruction\n"), AUDIO
        )


# --------------------------------------------------------------------------- audio entailment

ENTAILMENT_HEADER = "Dataset,Audio file,Caption,Entailment,Neutral,Contradiction\n"
AUDIOCAPS_ENTAILMENT = ENTAILMENT_HEADER + (
    "Audiocaps,Y7fmOlUlwoNg,Constant rattling noise,There is a mechanical noise.,A vehicle moves.,A quiet library.\n"
    'Audiocaps,Y7fmOlUlwoNg,"Rattling, then a thud","A noise, then a thud.",A truck unloads.,Silence.\n'
)
CLOTHO_ENTAILMENT = ENTAILMENT_HEADER + (
    "ClothoV2,Santa Motor.wav,\"['A machine whines.', 'Someone trims bushes.', \"\"It's a pump.\"\", 'Clippers.', "
    "'A machine squeals.']\",A machine runs.,A gardener works.,A silent room.\n"
)


def test_audio_entailment_classify_items(tmp_path):
    audiocaps = write(tmp_path / "audiocaps_entailment_test.csv", AUDIOCAPS_ENTAILMENT)
    clotho = write(tmp_path / "clotho_entailment_evaluation.csv", CLOTHO_ENTAILMENT)
    items = load_audio_entailment([audiocaps, clotho], AUDIO)
    check_schema(items, "audio_entailment")
    assert len(items) == 9  # 3 rows x 3 hypotheses
    assert items["subset"].tolist() == ["audiocaps"] * 6 + ["clotho"] * 3
    assert items["answer"].tolist() == list(ENTAILMENT_LABELS) * 3
    assert all(choices == ["entailment", "neutral", "contradiction"] for choices in items["choices"])
    assert items["hypothesis"].iloc[3] == "A noise, then a thud."
    assert items["question"].iloc[3].endswith("Hypothesis: A noise, then a thud.")
    # The same clip twice (AudioCaps has several captions per clip) still gives distinct item ids.
    assert items["audio_path"].iloc[0] == items["audio_path"].iloc[3] == str(AUDIO / "Y7fmOlUlwoNg.wav")
    assert items["audio_path"].iloc[6] == str(AUDIO / "Santa Motor.wav")
    assert items["captions"].iloc[6] == [
        "A machine whines.",
        "Someone trims bushes.",
        "It's a pump.",
        "Clippers.",
        "A machine squeals.",
    ]
    assert items["captions"].iloc[3] == ["Rattling, then a thud"]


def test_audio_entailment_select_mode(tmp_path):
    clotho = write(tmp_path / "clotho_entailment_evaluation.csv", CLOTHO_ENTAILMENT)
    items = load_audio_entailment(clotho, AUDIO, mode="select", select_labels=("entailment", "contradiction"))
    check_schema(items, "audio_entailment")
    assert items["question"].tolist() == [
        "Based on what you hear, which of the following hypotheses is entailment?",
        "Based on what you hear, which of the following hypotheses is contradiction?",
    ]
    assert items["choices"].iloc[0] == ["A machine runs.", "A gardener works.", "A silent room."]
    assert items["answer"].tolist() == ["A machine runs.", "A silent room."]


def test_audio_entailment_errors(tmp_path):
    unsafe = CLOTHO_ENTAILMENT.replace("\"['A machine whines.'", "\"[__import__('os').getcwd(), 'A machine whines.'")
    with pytest.raises(BenchmarkFileError, match=r"clotho\.csv:2: 'Caption' is not a valid list literal"):
        load_audio_entailment(write(tmp_path / "clotho.csv", unsafe), AUDIO)
    other = AUDIOCAPS_ENTAILMENT.replace("Audiocaps,", "VGGSound,")
    with pytest.raises(BenchmarkFileError, match="'Dataset' must name Clotho or AudioCaps, got 'VGGSound'"):
        load_audio_entailment(write(tmp_path / "other.csv", other), AUDIO)
    blank = ENTAILMENT_HEADER + "Audiocaps,Y1,cap,hyp,,c\n"
    with pytest.raises(BenchmarkFileError, match=r"empty hypothesis column\(s\) \['Neutral'\]"):
        load_audio_entailment(write(tmp_path / "blank.csv", blank), AUDIO)
    with pytest.raises(ValueError, match="mode must be"):
        load_audio_entailment(write(tmp_path / "ok.csv", AUDIOCAPS_ENTAILMENT), AUDIO, mode="guess")


# --------------------------------------------------------------------------- Nonspeech7k


def test_nonspeech7k_metadata(tmp_path):
    path = write(
        tmp_path / "metadata of test set.csv",
        "Filename,File ID,Duration in ms,Class ID,Classname\n"
        "cough_1.wav,1,4000,1,Cough\n"
        "yawn_7.wav,7,3000,6,yawm\n"
        "cry_2.wav,2,5000,2,crying\n",
    )
    items = load_nonspeech7k(path, AUDIO)
    check_schema(items, "nonspeech7k")
    assert items["answer"].tolist() == ["cough", "yawn", "crying"]
    assert items["choices"].iloc[0] == list(NONSPEECH7K_CLASSES)
    assert set(items["question"]) == {"What is the sound?"}
    assert items["audio_path"].iloc[0] == str(AUDIO / "cough_1.wav")
    other_names = write(tmp_path / "m.csv", "file_name,class_name\nx.wav,laugh\n")
    assert load_nonspeech7k(other_names, AUDIO, question="Which sound?")["question"].tolist() == ["Which sound?"]


def test_nonspeech7k_errors(tmp_path):
    with pytest.raises(BenchmarkFileError, match=r"m\.csv:2: 'Classname' 'whistle' is not one of"):
        load_nonspeech7k(write(tmp_path / "m.csv", "Filename,Classname\nx.wav,whistle\n"), AUDIO)
    with pytest.raises(BenchmarkFileError, match=r"m\.csv: no class name column"):
        load_nonspeech7k(write(tmp_path / "m.csv", "Filename,Class ID\nx.wav,1\n"), AUDIO)


# --------------------------------------------------------------------------- CochlScene


def cochlscene_split(root: Path, clips: int) -> Path:
    split = root / "Test"
    for scene in COCHLSCENE_SCENES:
        (split / scene).mkdir(parents=True)
        for number in range(clips):
            (split / scene / f"{scene}_{number:03d}.wav").touch()
    (split / "Bus" / "notes.txt").touch()
    return split


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


# --------------------------------------------------------------------------- EDANSA-2019

EDANSA_CSV = (
    "Clip Path,Anth,Bio,Fly,Bird,Woof,Wind,Rain,Airc,Mach,set\n"
    "anwr/35/a.flac,0,1,1.0,0.0,0,0,0,0,0,test\n"
    "anwr/35/b.flac,1,1,0,1,0,1,0,1,0,test\n"
    "anwr/35/c.flac,0,1,0,1,0,0,0,0,0,train\n"
    "anwr/35/d.flac,0,0,,N/A,0,1,0,0,0,test\n"
    "anwr/35/e.flac,0,1,0,1.0,0,0,0,0,0,test\n"
)


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
    assert items["item_id"].tolist() == [
        "edansa|anwr/35/a.flac",
        "edansa|anwr/35/c.flac",
        "edansa|anwr/35/e.flac",
        "edansa|anwr/35/d.flac",
    ]
    assert items["answer"].tolist() == ["fly", "bird", "bird", "wind"]
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


# --------------------------------------------------------------------------- registry


def test_registry_and_load_benchmark(tmp_path):
    assert set(LOADERS) == {
        "clotho_aqa",
        "audio_hallucination",
        "mmau",
        "sakura",
        "audio_entailment",
        "nonspeech7k",
        "cochlscene",
        "edansa",
    }
    path = write(tmp_path / "clotho_aqa_test.csv", CLOTHO_AQA_CSV)
    pd.testing.assert_frame_equal(load_benchmark("clotho_aqa", path, AUDIO), load_clotho_aqa(path, AUDIO))
    assert len(load_benchmark("clotho_aqa", str(path), str(AUDIO), min_annotators=1)) == 4
    split = cochlscene_split(tmp_path, clips=2)
    assert len(load_benchmark("cochlscene", split, None, clips_per_scene=1)) == 13
    with pytest.raises(ValueError, match=r"unknown benchmark 'clotho'; known benchmarks: \['audio_entailment'"):
        load_benchmark("clotho", path, AUDIO)
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['seed'\]; known options: \['min_annotators'\]"):
        load_benchmark("clotho_aqa", path, AUDIO, seed=1)
    with pytest.raises(ValueError, match="audio_dir is required"):
        load_benchmark("clotho_aqa", path, None)


# --------------------------------------------------------------------------- real samples


@pytest.mark.shared
@needs_shared
@pytest.mark.parametrize(
    ("split", "total", "yes_no"),
    # Each sample is its file's first 300 rows = 100 questions x 3 annotators (each question's rows are
    # consecutive); answers compared stripped and lower-cased. test: 52 unanimous = 48 yes/no + 4 open
    # ("small", "cheer", "five", "paper"); train: 48 = 42 + 6; val: 42 = 37 + 5.
    [("test", 52, 48), ("train", 48, 42), ("val", 42, 37)],
)
def test_real_clotho_aqa(split, total, yes_no):
    items = load_clotho_aqa(SHARED_FORMATS / "clotho_aqa" / f"clotho_aqa_{split}.csv", AUDIO)
    check_schema(items, "clotho_aqa")
    assert len(items) == total
    assert (items["question_type"] == "yes_no").sum() == yes_no
    assert (items["annotators"] == 3).all()
    assert set(items["subset"]) == {split}


@pytest.mark.shared
@needs_shared
def test_real_clotho_aqa_test_open_answers():
    items = load_clotho_aqa(SHARED_FORMATS / "clotho_aqa" / "clotho_aqa_test.csv", AUDIO)
    assert items.loc[items["question_type"] == "open", "answer"].tolist() == ["small", "cheer", "five", "paper"]
    assert items["answer"].value_counts()[["yes", "no"]].tolist() == [32, 16]


@pytest.mark.shared
@needs_shared
def test_real_audio_hallucination():
    folder = SHARED_FORMATS / "audio_hallucination"
    files = [folder / f"{name}_test.txt" for name in ("random", "popular", "adversarial")]
    items = load_audio_hallucination(files, AUDIO)
    check_schema(items, "audio_hallucination")
    # Each sample has 3 '#' lines, a blank line, the header and entries 0..595: 596 questions per file.
    # Labels (awk on column 6): random 299 Yes / 297 No, popular 319 / 277, adversarial 316 / 280.
    counts = items.groupby(["subset", "answer"]).size().to_dict()
    assert counts == {
        ("random", "yes"): 299,
        ("random", "no"): 297,
        ("popular", "yes"): 319,
        ("popular", "no"): 277,
        ("adversarial", "yes"): 316,
        ("adversarial", "no"): 280,
    }
    assert len(items) == 3 * 596
    assert items["item_id"].iloc[0] == "audio_hallucination|random|0"
    assert items["audio_path"].iloc[0] == str(AUDIO / "Y7fmOlUlwoNg.wav")
    assert items["question"].iloc[0] == "Is there a sound of speech in the audio?"
    assert items["object"].iloc[0] == "speech"


@pytest.mark.shared
@needs_shared
def test_real_mmau_sound_items():
    path = SHARED_FORMATS / "mmau" / "mmau-test-mini.json"
    items = load_mmau(path, AUDIO)
    check_schema(items, "mmau")
    # All 1000 test-mini questions: 333 sound, 334 music, 333 speech. Sound: 332 with 4 options, 1 with 8.
    assert len(items) == 333
    assert items["choices"].map(len).value_counts().to_dict() == {4: 332, 8: 1}
    first = items.iloc[0]
    assert first["item_id"] == "mmau|3fe64f3d-282c-4bc8-a753-68f8f6c35652"
    assert first["audio_path"] == str(AUDIO / "test-mini-audios" / "3fe64f3d-282c-4bc8-a753-68f8f6c35652.wav")
    assert (first["choices"], first["answer"]) == (["Man", "Woman", "Child", "Robot"], "Man")
    # 13 sound items store their category as "['Reasoning']".
    assert items["category"].value_counts().to_dict() == {"Reasoning": 240, "Information Extraction": 93}
    every_task = load_mmau(path, AUDIO, tasks=("sound", "music", "speech"))
    assert every_task["subset"].value_counts().to_dict() == {"music": 334, "sound": 333, "speech": 333}


@pytest.mark.shared
@needs_shared
def test_real_sakura_tracks():
    folder = SHARED_FORMATS / "sakura"
    animal = load_sakura(folder / "Animal_metadata.csv", AUDIO)
    check_schema(animal, "sakura")
    # 100 rows (68 dog, 32 cat clips) x (single, multi) = 200 items, every one with 4 parsed options.
    assert len(animal) == 200
    assert animal["subset"].value_counts().to_dict() == {"single": 100, "multi": 100}
    assert (animal["choices"].map(len) == 4).all()
    assert animal.iloc[0][["question", "answer", "answer_letter"]].tolist() == [
        "From the options provided, which animal do you believe is the source of the sound in the recording?",
        "dog",
        "a",
    ]
    tracks = load_sakura(
        [folder / f"{track}_metadata.csv" for track in ("Animal", "Emotion", "Gender", "Language")], AUDIO
    )
    # 4 tracks x 100 rows x 2 hops; Gender questions have 2 options, the others 4.
    assert len(tracks) == 800
    assert tracks.groupby("track")["choices"].apply(lambda column: sorted(set(column.map(len)))).to_dict() == {
        "Animal": [4],
        "Emotion": [4],
        "Gender": [2],
        "Language": [4],
    }


@pytest.mark.shared
@needs_shared
def test_real_audio_entailment():
    folder = SHARED_FORMATS / "audio_entailment"
    files = [folder / "audiocaps_entailment_test.csv", folder / "clotho_entailment_evaluation.csv"]
    items = load_audio_entailment(files, AUDIO)
    check_schema(items, "audio_entailment")
    # 200 rows per file, 3 hypotheses per row (no blanks): 600 AudioCaps + 600 Clotho items.
    # AudioCaps repeats 16 clips (one row per caption), so ids come from the row, not the clip.
    assert items["subset"].value_counts().to_dict() == {"audiocaps": 600, "clotho": 600}
    assert items["answer"].value_counts().to_dict() == {"entailment": 400, "neutral": 400, "contradiction": 400}
    clotho = items[items["subset"] == "clotho"]
    assert (clotho["captions"].map(len) == 5).all()
    assert clotho["audio_path"].iloc[0] == str(AUDIO / "Santa Motor.wav")
    assert items["audio_path"].iloc[0] == str(AUDIO / "Y7fmOlUlwoNg.wav")
    selected = load_audio_entailment(files, AUDIO, mode="select")
    assert selected["subset"].value_counts().to_dict() == {"audiocaps": 200, "clotho": 200}
