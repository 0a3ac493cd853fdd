"""Table III of the journal: how much training data each corpus gives.

"Duration" counts each clip once, however many captions (seeds) it has. "Equi. Duration" is the
duration times the targets one variant trains on per seed (the papers' 2N: two), as the journal's
figures are: each corpus's Equi. Duration is twice its Duration, Clotho's and MACS's too, whose
clips have several captions. "# Samples" is the training samples of one variant: seeds times the
targets per seed. The multi-audio columns (the table's blue numbers) count one BALSa-MA variant's
samples, pairs times the targets per pair, under the corpus of each pair's first clip, and their
equivalent duration: both clips' durations per sample.
"""

from __future__ import annotations

import logging

import pandas as pd

log = logging.getLogger(__name__)

HOUR_COLUMNS = ("duration_h", "equi_duration_h", "multi_audio_equi_duration_h")
COUNT_COLUMNS = ("training_samples", "multi_audio_samples", "clips", "seeds")
SUMMARY_COLUMNS = (
    "corpus",
    "duration_h",
    "equi_duration_h",
    "training_samples",
    "multi_audio_equi_duration_h",
    "multi_audio_samples",
    "clips",
    "seeds",
)
TOTAL_LABEL = "Total"


def _warn_unknown_durations(clips: pd.DataFrame) -> None:
    unknown = clips.loc[clips["duration_s"].isna(), "corpus"].value_counts().sort_index()
    if not unknown.empty:
        per_corpus = ", ".join(f"{corpus}: {count}" for corpus, count in unknown.items())
        log.warning(
            "%d training clip(s) have no duration (unprobed audio), counted as 0 h: %s", unknown.sum(), per_corpus
        )


def _single_audio(train: pd.DataFrame, samples_per_seed: int) -> pd.DataFrame:
    clips = train.drop_duplicates("clip_id")
    _warn_unknown_durations(clips)
    hours = clips.groupby("corpus")["duration_s"].sum() / 3600  # sum() skips NaN: unknown counts as 0
    seeds = train.groupby("corpus")["seed_id"].size()
    return pd.DataFrame(
        {
            "duration_h": hours.round(2),
            "equi_duration_h": (hours * samples_per_seed).round(2),
            "training_samples": seeds * samples_per_seed,
            "clips": clips.groupby("corpus")["clip_id"].size(),
            "seeds": seeds,
        }
    )


def _multi_audio(train: pd.DataFrame, pairs: pd.DataFrame, samples_per_pair: int) -> pd.DataFrame:
    seconds = train.drop_duplicates("clip_id").set_index("clip_id")["duration_s"].fillna(0.0)
    pair_seconds = pairs["first_clip_id"].map(seconds).fillna(0.0) + pairs["second_clip_id"].map(seconds).fillna(0.0)
    by_corpus = pair_seconds.groupby(pairs["first_corpus"])
    return pd.DataFrame(
        {
            "multi_audio_equi_duration_h": (by_corpus.sum() / 3600 * samples_per_pair).round(2),
            "multi_audio_samples": by_corpus.size() * samples_per_pair,
        }
    )


def data_summary(
    metadata: pd.DataFrame, samples_per_seed: int, pairs: pd.DataFrame | None = None, samples_per_pair: int = 0
) -> pd.DataFrame:
    """One row per corpus of the training split, then a "Total" row with the column sums.

    ``samples_per_seed`` is the targets one single-audio variant trains on per seed;
    ``pairs`` (``balsa_core.pairs.make_pairs``) and ``samples_per_pair`` give the multi-audio
    columns, zero without them.
    """
    train = metadata.loc[metadata["split"] == "train"]
    table = _single_audio(train, samples_per_seed)
    if pairs is not None and samples_per_pair:
        table = table.join(_multi_audio(train, pairs, samples_per_pair), how="outer")
    table = table.reindex(columns=list(SUMMARY_COLUMNS[1:])).fillna(0)
    table = table.rename_axis("corpus").reset_index().sort_values("corpus", ignore_index=True)
    # The sums of the rounded rows, so the printed table adds up.
    total = {"corpus": TOTAL_LABEL, **{column: table[column].sum() for column in SUMMARY_COLUMNS[1:]}}
    table = pd.concat([table, pd.DataFrame([total])], ignore_index=True)
    table[list(HOUR_COLUMNS)] = table[list(HOUR_COLUMNS)].astype("float64").round(2)
    return table.astype({column: "int64" for column in COUNT_COLUMNS})[list(SUMMARY_COLUMNS)]
