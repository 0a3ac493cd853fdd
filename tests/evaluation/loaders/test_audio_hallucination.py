"""The audio hallucination release's commented TSV files, from fixtures and the real samples."""

from __future__ import annotations

from pathlib import Path

import pytest
from evaluation.loaders.benchmark_files import AUDIO, check_schema, write
from helpers import SHARED_FORMATS, uses_real_sample

from balsa_core.evaluation.loaders import BenchmarkFileError, load_audio_hallucination

REAL_SAMPLES = SHARED_FORMATS / "audio_hallucination"

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


@uses_real_sample(REAL_SAMPLES)
def test_real_audio_hallucination():
    files = [REAL_SAMPLES / f"{name}_test.txt" for name in ("random", "popular", "adversarial")]
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
