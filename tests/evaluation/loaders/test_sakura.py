"""SAKURA: options and answers parsed out of each track's instructions."""

from __future__ import annotations

import pytest
from evaluation.loaders.benchmark_files import AUDIO, check_schema, write
from helpers import SHARED_FORMATS, uses_real_sample

from balsa_core.evaluation.loaders import BenchmarkFileError, load_sakura

REAL_SAMPLES = SHARED_FORMATS / "sakura"

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


@uses_real_sample(REAL_SAMPLES)
def test_real_sakura_tracks():
    animal = load_sakura(REAL_SAMPLES / "Animal_metadata.csv", AUDIO)
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
        [REAL_SAMPLES / f"{track}_metadata.csv" for track in ("Animal", "Emotion", "Gender", "Language")], AUDIO
    )
    # 4 tracks x 100 rows x 2 hops; Gender questions have 2 options, the others 4.
    assert len(tracks) == 800
    assert tracks.groupby("track")["choices"].apply(lambda column: sorted(set(column.map(len)))).to_dict() == {
        "Animal": [4],
        "Emotion": [4],
        "Gender": [2],
        "Language": [4],
    }
