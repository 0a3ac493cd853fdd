"""Pairs of training clips for the multi-audio prompts of BALSa-MA (two clips per prompt).

Pairing works on unique training clips; each clip brings one seed, its first ``seed_id``
in sorted order. The clips are sorted by ``clip_id`` and put in a seeded random order;
then each clip in turn, as *first*, takes up to ``pairs_per_clip`` partners by walking
that order cyclically from the position after its own and taking every clip that is
compatible (same corpus for ``within``, another corpus for ``across``), not yet paired
with it, and used in fewer than ``max_uses`` pairs. A use counter per clip keeps that
bound; clips that reach it are skipped in O(1) amortised by a next-open-position index.
With the defaults (one pair per clip, two uses) a corpus becomes one random cycle, so
every clip is in exactly two pairs. ``within`` pairs each corpus on its own.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

PAIR_COLUMNS = (
    "pair_id",
    "first_clip_id",
    "second_clip_id",
    "first_corpus",
    "second_corpus",
    "first_seed_id",
    "second_seed_id",
)
SCOPES = ("within", "across")


@dataclass(frozen=True)
class PairingConfig:
    scope: Literal["within", "across"] = "within"
    pairs_per_clip: int = 1  # pairs each clip starts as first; it may also be chosen as second
    max_uses: int = 2  # pairs a clip may be in at all, as first or second
    seed: int = 0

    def __post_init__(self) -> None:
        if self.scope not in SCOPES:
            raise ValueError(f"pairing scope {self.scope!r}; expected one of {SCOPES}")
        if self.pairs_per_clip < 1:
            raise ValueError(f"pairs_per_clip must be >= 1, got {self.pairs_per_clip}")
        if self.max_uses < 1:
            raise ValueError(f"max_uses must be >= 1, got {self.max_uses}")
        if self.max_uses < self.pairs_per_clip:
            raise ValueError(
                f"max_uses ({self.max_uses}) < pairs_per_clip ({self.pairs_per_clip}): "
                "a clip could never start all its pairs"
            )


class _OpenPositions:
    """Positions 0..n-1 that are still open, with the next open one at or after any position."""

    def __init__(self, size: int) -> None:
        self.size = size
        # _next[p] leads, through path compression, to the first open position >= p (size: none).
        self._next = list(range(size + 1))

    def close(self, position: int) -> None:
        self._next[position] = position + 1

    def at_or_after(self, position: int) -> int:
        root = position
        while self._next[root] != root:
            root = self._next[root]
        while self._next[position] != root:
            self._next[position], position = root, self._next[position]
        return root

    def cyclic_after(self, start: int) -> Iterator[int]:
        """Open positions after ``start``, wrapping around, ``start`` itself excluded."""
        position = self.at_or_after(start + 1)
        while position < self.size:
            yield position
            position = self.at_or_after(position + 1)
        position = self.at_or_after(0)
        while position < start:
            yield position
            position = self.at_or_after(position + 1)


def _greedy_pairs(
    corpora: Sequence[str], pairs_per_clip: int, max_uses: int, distinct_corpora: bool
) -> list[tuple[int, int]]:
    """(first, second) positions into ``corpora``, a list already in its random order."""
    uses = [0] * len(corpora)
    partners: list[set[int]] = [set() for _ in corpora]
    open_positions = _OpenPositions(len(corpora))
    open_per_corpus = Counter(corpora)
    pairs: list[tuple[int, int]] = []

    def use(position: int) -> None:
        uses[position] += 1
        if uses[position] == max_uses:
            open_positions.close(position)
            open_per_corpus[corpora[position]] -= 1

    for first, corpus in enumerate(corpora):
        started = 0
        for second in open_positions.cyclic_after(first):
            if started == pairs_per_clip or uses[first] == max_uses:
                break
            if distinct_corpora and open_per_corpus.total() == open_per_corpus[corpus]:
                break  # only clips of the own corpus are left open: stop before walking them all
            if second in partners[first] or (distinct_corpora and corpora[second] == corpus):
                continue
            pairs.append((first, second))
            partners[first].add(second)
            partners[second].add(first)
            use(first)
            use(second)
            started += 1
    return pairs


def _training_clips(metadata: pd.DataFrame) -> pd.DataFrame:
    """One row per training clip (clip_id, corpus, seed_id), sorted by clip_id."""
    train = metadata.loc[metadata["split"] == "train", ["clip_id", "corpus", "seed_id"]]
    first_seeds = train.sort_values(["clip_id", "seed_id"]).drop_duplicates("clip_id")
    return first_seeds.reset_index(drop=True)


def _empty_pairs() -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series(dtype="str") for name in PAIR_COLUMNS})


def make_pairs(metadata: pd.DataFrame, config: PairingConfig) -> pd.DataFrame:
    """Pairs of training clips, one row each; the algorithm is in the module docstring.

    The result depends only on the set of training rows and ``config.seed``, not on row order.
    """
    clips = _training_clips(metadata)
    shuffled = clips.iloc[np.random.default_rng(config.seed).permutation(len(clips))].reset_index(drop=True)
    if config.scope == "across":
        groups = [shuffled]
    else:
        groups = [group.reset_index(drop=True) for _, group in shuffled.groupby("corpus", sort=True)]

    halves: list[tuple[pd.Series, pd.Series]] = []
    for group in groups:
        positions = _greedy_pairs(
            group["corpus"].tolist(), config.pairs_per_clip, config.max_uses, config.scope == "across"
        )
        if positions:
            first, second = zip(*positions, strict=True)
            halves.append((group.iloc[list(first)], group.iloc[list(second)]))
    if not halves:
        return _empty_pairs()

    first = pd.concat([half for half, _ in halves], ignore_index=True)
    second = pd.concat([half for _, half in halves], ignore_index=True)
    return pd.DataFrame(
        {
            "pair_id": [f"pair-{index:06d}" for index in range(len(first))],
            "first_clip_id": first["clip_id"],
            "second_clip_id": second["clip_id"],
            "first_corpus": first["corpus"],
            "second_corpus": second["corpus"],
            "first_seed_id": first["seed_id"],
            "second_seed_id": second["seed_id"],
        },
        columns=list(PAIR_COLUMNS),
    )
