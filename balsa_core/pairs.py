"""Pairs of training clips for the multi-audio prompts of BALSa-MA (two clips per prompt).

Pairing works on unique training clips; each clip brings one seed, its first ``seed_id``
in sorted order. The clips are sorted by ``clip_id`` and put in a seeded random order;
then each clip in turn, as *first*, takes up to ``pairs_per_clip`` partners: the clips
nearest after it in that order (cyclically) that are compatible (same corpus for
``within``, another corpus for ``across``), not yet paired with it, and in fewer than
``max_uses`` pairs so far. A use counter per clip keeps that bound, and each corpus keeps
an index of its clips still under it, so a walk never crosses full or incompatible clips:
100k clips pair in seconds. With the defaults (one pair per clip, two uses)
each corpus becomes one random cycle in ``within``, every clip in exactly two pairs.

``corpora`` narrows the pairing to the named corpora, each with its own ``pairs_per_clip`` and
``max_uses`` (a clip's own corpus sets its limits) and an optional ``max_pairs``: the pairs a
corpus's clips start, cut to that many by a seeded draw. The journal's Table III pairs AudioCaps,
Clotho, FSD50K and ESC-50 only, with several pairs per ESC-50 clip and under one per AudioCaps
clip, which one setting for every corpus cannot give.
"""

from __future__ import annotations

import heapq
from bisect import bisect_right
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

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


def _check_limits(where: str, pairs_per_clip: int, max_uses: int) -> None:
    if pairs_per_clip < 1:
        raise ValueError(f"{where}pairs_per_clip must be >= 1, got {pairs_per_clip}")
    if max_uses < 1:
        raise ValueError(f"{where}max_uses must be >= 1, got {max_uses}")
    if max_uses < pairs_per_clip:
        raise ValueError(
            f"{where}max_uses ({max_uses}) < pairs_per_clip ({pairs_per_clip}): a clip could never start all its pairs"
        )


@dataclass(frozen=True)
class CorpusPairing:
    """One corpus's own limits (``pairs.corpora.<corpus>``)."""

    pairs_per_clip: int
    max_uses: int
    max_pairs: int | None = None  # at most this many pairs started by the corpus's clips (seeded draw)

    def __post_init__(self) -> None:
        if self.max_pairs is not None and self.max_pairs < 1:
            raise ValueError(f"max_pairs must be >= 1, got {self.max_pairs}")


@dataclass(frozen=True)
class PairingConfig:
    scope: Literal["within", "across"] = "within"
    pairs_per_clip: int = 1  # pairs each clip starts as first; it may also be chosen as second
    max_uses: int = 2  # pairs a clip may be in at all, as first or second
    seed: int = 0
    # The corpora paired, each with its own limits; empty: every corpus under the limits above.
    corpora: Mapping[str, CorpusPairing] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.scope not in SCOPES:
            raise ValueError(f"pairing scope {self.scope!r}; expected one of {SCOPES}")
        _check_limits("pairs: ", self.pairs_per_clip, self.max_uses)
        for corpus, limits in self.corpora.items():
            _check_limits(f"pairs.corpora.{corpus}: ", limits.pairs_per_clip, limits.max_uses)

    @classmethod
    def from_validated(cls, pairs: Mapping[str, Any]) -> PairingConfig:
        """The ``pairs`` config section; a corpus entry's missing limits are the section's own."""
        corpora = {
            corpus: CorpusPairing(
                pairs_per_clip=entry.get("pairs_per_clip", pairs["pairs_per_clip"]),
                max_uses=entry.get("max_uses", pairs["max_uses"]),
                max_pairs=entry.get("max_pairs"),
            )
            for corpus, entry in pairs.get("corpora", {}).items()
        }
        return cls(**{**pairs, "corpora": corpora})

    def limits(self, corpus: str) -> CorpusPairing:
        return self.corpora.get(corpus, CorpusPairing(self.pairs_per_clip, self.max_uses))


class _OpenSlots:
    """Slots 0..size-1 (one corpus's clips in random order), closed once a clip is used up."""

    def __init__(self, size: int) -> None:
        self.size = size
        # _next[s] leads, through path compression, to the first open slot >= s (size: none).
        self._next = list(range(size + 1))

    def close(self, slot: int) -> None:
        self._next[slot] = slot + 1

    def _at_or_after(self, slot: int) -> int:
        root = slot
        while self._next[root] != root:
            root = self._next[root]
        while self._next[slot] != root:
            self._next[slot], slot = root, self._next[slot]
        return root

    def cyclic_from(self, start: int) -> Iterator[int]:
        """Open slots from ``start`` on, wrapping around once; slots closed meanwhile are skipped."""
        for begin, stop in ((start, self.size), (0, start)):
            slot = self._at_or_after(begin)
            while slot < stop:
                yield slot
                slot = self._at_or_after(slot + 1)


def _greedy_pairs(
    corpora: Sequence[str], scope: Literal["within", "across"], limits: Mapping[str, CorpusPairing]
) -> list[tuple[int, int]]:
    """(first, second) positions into ``corpora``, the clips' corpora already in random order;
    each clip starts and joins as many pairs as its corpus's ``limits`` allow."""
    size = len(corpora)
    positions: dict[str, list[int]] = {}
    slot_of: list[int] = []
    for position, corpus in enumerate(corpora):
        slot_of.append(len(positions.setdefault(corpus, [])))
        positions[corpus].append(position)
    open_slots = {corpus: _OpenSlots(len(members)) for corpus, members in positions.items()}
    uses = [0] * size
    partners: list[set[int]] = [set() for _ in corpora]

    def open_after(corpus: str, first: int) -> Iterator[int]:
        members = positions[corpus]
        for slot in open_slots[corpus].cyclic_from(bisect_right(members, first)):
            yield members[slot]

    def candidates(first: int) -> Iterator[int]:
        """Still-open clips of the corpora ``first`` may pair with, nearest after it first."""
        own = corpora[first]
        compatible = [own] if scope == "within" else [corpus for corpus in positions if corpus != own]
        # Each stream runs cyclically from ``first``; ``first`` itself, in its own corpus, comes last.
        return heapq.merge(
            *(open_after(corpus, first) for corpus in compatible), key=lambda position: (position - first - 1) % size
        )

    def use(position: int) -> None:
        uses[position] += 1
        if uses[position] == limits[corpora[position]].max_uses:
            open_slots[corpora[position]].close(slot_of[position])

    pairs: list[tuple[int, int]] = []
    for first in range(size):
        started = 0
        own = limits[corpora[first]]
        for second in candidates(first):
            if started == own.pairs_per_clip or uses[first] == own.max_uses:
                break
            if second == first or second in partners[first]:
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


def _capped(
    positions: list[tuple[int, int]], corpora: Sequence[str], config: PairingConfig, rng: np.random.Generator
) -> list[tuple[int, int]]:
    """The pairs with each capped corpus's (by its first clip) cut to ``max_pairs``, a seeded
    draw that keeps the pairs' order."""
    keep = np.ones(len(positions), dtype=bool)
    started_by = np.array([corpora[first] for first, _ in positions])
    for corpus in sorted(config.corpora):
        cap = config.corpora[corpus].max_pairs
        started = np.flatnonzero(started_by == corpus)
        if cap is not None and len(started) > cap:
            keep[rng.choice(started, size=len(started) - cap, replace=False)] = False
    return [pair for pair, kept in zip(positions, keep, strict=True) if kept]


def make_pairs(metadata: pd.DataFrame, config: PairingConfig) -> pd.DataFrame:
    """Pairs of training clips, one row each; the algorithm is in the module docstring.

    The result depends only on the set of training rows and ``config.seed``, not on row order.
    """
    clips = _training_clips(metadata)
    if config.corpora:
        clips = clips[clips["corpus"].isin(config.corpora)].reset_index(drop=True)
    rng = np.random.default_rng(config.seed)
    shuffled = clips.iloc[rng.permutation(len(clips))].reset_index(drop=True)
    corpora = shuffled["corpus"].tolist()
    limits = {corpus: config.limits(corpus) for corpus in set(corpora)}
    positions = _capped(_greedy_pairs(corpora, config.scope, limits), corpora, config, rng)
    if not positions:
        return _empty_pairs()

    first_positions, second_positions = (list(side) for side in zip(*positions, strict=True))
    first = shuffled.iloc[first_positions].reset_index(drop=True)
    second = shuffled.iloc[second_positions].reset_index(drop=True)
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
