"""Audio entailment: classify and select items from the AudioCaps and Clotho files."""

from __future__ import annotations

import pytest
from evaluation.loaders.benchmark_files import AUDIO, check_schema, write
from helpers import SHARED_FORMATS, uses_real_sample

from balsa_core.evaluation.loaders import ENTAILMENT_LABELS, BenchmarkFileError, load_audio_entailment

REAL_SAMPLES = SHARED_FORMATS / "audio_entailment"

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


@uses_real_sample(REAL_SAMPLES)
def test_real_audio_entailment():
    files = [REAL_SAMPLES / "audiocaps_entailment_test.csv", REAL_SAMPLES / "clotho_entailment_evaluation.csv"]
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


@uses_real_sample(REAL_SAMPLES)
def test_real_audio_entailment_select_as_the_journal_asks():
    """The journal's protocol: per row, which of the three hypotheses is the entailment; the
    options are shuffled per item by the suite and lettered (a)-(c)."""
    from balsa_core.evaluation.suite import AnswerInstructions, prepare_items

    files = [REAL_SAMPLES / "audiocaps_entailment_test.csv", REAL_SAMPLES / "clotho_entailment_evaluation.csv"]
    items = load_audio_entailment(files, AUDIO, mode="select")
    check_schema(items, "audio_entailment")
    assert len(items) == 400  # one item per row
    assert set(items["question"]) == {"Based on what you hear, which of the following hypotheses is entailment?"}
    assert (items["choices"].map(len) == 3).all()
    assert (items["label"] == "entailment").all()
    first = items[items["subset"] == "clotho"].iloc[0]
    assert first["audio_path"] == str(AUDIO / "Santa Motor.wav")
    assert first["answer"] == first["choices"][0] == first["hypothesis"]
    prepared = prepare_items(items, AnswerInstructions(), shuffle_seed=0)
    assert prepared["prompt"].iloc[0].splitlines()[1].startswith("(a) ")
    assert prepared["prompt"].iloc[0].splitlines()[3].startswith("(c) ")
    # Shuffled per item: the entailment is not always option (a).
    assert prepared["gold"].nunique() == 3
