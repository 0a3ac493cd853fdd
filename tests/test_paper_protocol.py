"""config/paper.yaml trains on the papers' sample counts (LISTEN Sec. 4.3, journal Sec. IV-D) and
summarises them as the journal's Table III, on synthetic metadata of the eight corpora: N training
seeds give positive-only 2N, positive and negative N + N, combined N (the external-LLM rows the
same, and 2N for the rule-based row and both OpenAQA rows); M pairs give each BALSa-MA setting 2M."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
from paper_layout import write_official_layout

from balsa_core.config import load_config, samples_per_training_source, target_set_entry, variant_mix
from balsa_core.generation.target_sets import TargetSet, requests_for
from balsa_core.pairs import PairingConfig, make_pairs
from balsa_core.prompts import PromptTemplate
from balsa_core.summary import SUMMARY_COLUMNS, data_summary
from balsa_core.training import select_training_targets

PAPER_CONFIG = Path(__file__).resolve().parents[1] / "config/paper.yaml"
CAPTIONED = {"audiocaps": 1, "clotho": 5, "macs": 3}  # captions per clip; the tagged corpora have one tag list
CORPORA = ["audioset_20k", "audiocaps", "clotho", "macs", "fsd50k", "esc50", "urbansound8k", "vocalsound"]
PAIRED = {"audiocaps", "clotho", "fsd50k", "esc50"}  # Table III's multi-audio corpora
CLIPS_PER_CORPUS = 12


@pytest.fixture(scope="module")
def paper(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("paper")
    write_official_layout(root)
    return load_config(PAPER_CONFIG, base_dir=root)


@pytest.fixture(scope="module")
def metadata() -> pd.DataFrame:
    """Twelve 10 s training clips per corpus (captioned clips with their captions) and a test clip."""
    rows = []
    for corpus in CORPORA:
        for index in range(CLIPS_PER_CORPUS + 1):
            clip = f"{corpus}/{index:03d}"
            split = "test" if index == CLIPS_PER_CORPUS else "train"
            for seed in range(CAPTIONED.get(corpus, 1)):
                rows.append((f"{clip}#{seed}", clip, corpus, split, f"sound {index} ({seed})", 10.0))
    return pd.DataFrame(rows, columns=["seed_id", "clip_id", "corpus", "split", "seed_text", "duration_s"])


def training_seeds(metadata: pd.DataFrame) -> int:
    return int((metadata["split"] == "train").sum())


def generated(config: dict, target_set: str, metadata: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    """The set's requests, each as if answered (a target the training selection keeps); the
    question file answers its questions, for the set trained on those answers."""
    questions = pd.DataFrame(
        {
            "question": ["What is heard?", "Where is it?", "What happens?"],
            "clip_id": None,
            "answer": ["A bell.", "In a church.", "It rings."],
        }
    )
    requests = requests_for(
        TargetSet(**target_set_entry(config, target_set)),
        metadata,
        PromptTemplate(),
        config["generation"]["splits"],
        questions=questions,
        pairs=pairs,
        seed=config["generation"]["seed"],
    )
    return requests.assign(target="an answer")


def training_set_sizes(config: dict, metadata: pd.DataFrame, pairs: pd.DataFrame) -> dict[str, Counter[str]]:
    """Per variant, its training samples per target set."""
    sets = {name for entry in config["variants"].values() for name in variant_mix(entry)}
    targets = pd.concat([generated(config, name, metadata, pairs) for name in sorted(sets)], ignore_index=True)
    return {
        variant: Counter(select_training_targets(targets, variant_mix(entry))["target_set"])
        for variant, entry in config["variants"].items()
    }


def paper_pairs(config: dict, metadata: pd.DataFrame) -> pd.DataFrame:
    return make_pairs(metadata, PairingConfig.from_validated(config["pairs"]))


def test_each_variant_trains_on_the_papers_number_of_samples(paper, metadata):
    pairs = paper_pairs(paper, metadata)
    n, m = training_seeds(metadata), len(pairs)
    sizes = training_set_sizes(paper, metadata, pairs)
    assert sizes["positive_only"] == {"positive": 2 * n}
    assert sizes["positive_negative"] == {"positive": n, "negative": n}
    assert sizes["combined"] == {"combined": n}, "Under the combined setup, there are N data points"
    assert sizes["rule_based"] == {"rule_based": 2 * n}
    assert sizes["external_positive_only"] == {"external_positive": 2 * n}
    assert sizes["external_positive_negative"] == {"external_positive": n, "external_negative": n}
    assert sizes["external_combined"] == {"external_combined": n}
    assert sizes["openaqa"] == {"questions": 2 * n}
    assert sizes["openaqa_answers"] == {"openaqa_answers": 2 * n}
    assert sizes["ma_discrimination"] == {"difference": 2 * m}
    assert sizes["ma_captioning"] == {"caption_both": 2 * m}
    assert sizes["ma_mixed"] == {"difference": m, "caption_both": m}, "a balanced combination, 2M in all"


def test_pairs_come_from_table_iiis_four_corpora_with_several_per_esc50_clip(paper, metadata):
    pairs = paper_pairs(paper, metadata)
    assert set(pairs["first_corpus"]) == PAIRED and (pairs["first_corpus"] == pairs["second_corpus"]).all()
    per_corpus = pairs.groupby("first_corpus").size()
    # Under their caps here: AudioCaps and FSD50K one pair per clip, Clotho two, ESC-50 four.
    assert per_corpus.to_dict() == {"audiocaps": 12, "fsd50k": 12, "clotho": 24, "esc50": 48}
    esc50 = pairs[pairs["first_corpus"] == "esc50"]
    uses = Counter(esc50["first_clip_id"]) + Counter(esc50["second_clip_id"])
    assert min(uses.values()) > 2, "every ESC-50 clip is in several pairs"


def test_table_iii_counts_two_samples_per_seed_and_per_pair_with_equivalent_hours(paper, metadata):
    pairs = paper_pairs(paper, metadata)
    per_seed, per_pair = samples_per_training_source(paper, audios=1), samples_per_training_source(paper, audios=2)
    assert (per_seed, per_pair) == (2, 2), "the papers' 2N and 2M"
    table = data_summary(metadata, per_seed, pairs, per_pair).set_index("corpus")
    assert list(table.reset_index().columns) == list(SUMMARY_COLUMNS)
    rows = table.drop(index="Total")
    assert (rows["training_samples"] == 2 * rows["seeds"]).all()
    hours = CLIPS_PER_CORPUS * 10 / 3600
    assert rows["duration_h"].eq(round(hours, 2)).all() and rows["equi_duration_h"].eq(round(2 * hours, 2)).all()
    pairs_per_corpus = pairs.groupby("first_corpus").size()
    assert rows["multi_audio_samples"].to_dict() == {c: 2 * pairs_per_corpus.get(c, 0) for c in CORPORA}
    # Each multi-audio sample holds two 10 s clips.
    expected_hours = {c: round(2 * pairs_per_corpus.get(c, 0) * 20 / 3600, 2) for c in CORPORA}
    assert rows["multi_audio_equi_duration_h"].to_dict() == pytest.approx(expected_hours)
    assert table.loc["Total", "training_samples"] == 2 * training_seeds(metadata)
    assert table.loc["Total", "multi_audio_samples"] == 2 * len(pairs)
