"""Table III of the papers: how much training data each corpus gives.

Durations count each clip once, however many captions (seeds) it has, as the papers'
"Duration" column does; training samples grow with the seeds, one target per prompt kind.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import pandas as pd

log = logging.getLogger(__name__)

SUMMARY_COLUMNS = ("corpus", "duration_h", "clips", "seeds", "training_samples")
TOTAL_LABEL = "Total"


def _warn_unknown_durations(clips: pd.DataFrame) -> None:
    unknown = clips.loc[clips["duration_s"].isna(), "corpus"].value_counts().sort_index()
    if not unknown.empty:
        per_corpus = ", ".join(f"{corpus}: {count}" for corpus, count in unknown.items())
        log.warning(
            "%d training clip(s) have no duration (unprobed audio), counted as 0 h: %s", unknown.sum(), per_corpus
        )


def _per_corpus(train: pd.DataFrame, samples_per_seed_total: int) -> pd.DataFrame:
    clips = train.drop_duplicates("clip_id")
    _warn_unknown_durations(clips)
    hours = clips.groupby("corpus")["duration_s"].sum() / 3600  # sum() skips NaN: unknown counts as 0
    table = pd.DataFrame(
        {
            "duration_h": hours.round(2),
            "clips": clips.groupby("corpus")["clip_id"].size(),
            "seeds": train.groupby("corpus")["seed_id"].size(),
        }
    )
    table["training_samples"] = table["seeds"] * samples_per_seed_total
    return table.rename_axis("corpus").reset_index().sort_values("corpus", ignore_index=True)


def data_summary(metadata: pd.DataFrame, samples_per_seed: Mapping[str, int]) -> pd.DataFrame:
    """One row per corpus of the training split, then a "Total" row with the column sums.

    ``samples_per_seed`` maps a prompt kind (e.g. positive, negative) to the targets generated
    per seed, so a seed yields the sum of its values as training samples.
    """
    train = metadata.loc[metadata["split"] == "train"]
    table = _per_corpus(train, sum(samples_per_seed.values()))
    total = {
        "corpus": TOTAL_LABEL,
        # The sum of the rounded rows, so the printed table adds up.
        "duration_h": round(float(table["duration_h"].sum()), 2),
        "clips": int(table["clips"].sum()),
        "seeds": int(table["seeds"].sum()),
        "training_samples": int(table["training_samples"].sum()),
    }
    table = pd.concat([table, pd.DataFrame([total])], ignore_index=True)
    return table.astype({"duration_h": "float64", "clips": "int64", "seeds": "int64", "training_samples": "int64"})[
        list(SUMMARY_COLUMNS)
    ]
