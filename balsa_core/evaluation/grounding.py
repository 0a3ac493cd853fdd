"""Grounding: does a model's description of a clip name what the clip holds?

A yes/no or multiple-choice evaluation says nothing about a backbone as small as SmolLM2-135M:
it answers at chance even when given the clip's tags as text. What it can do is describe. Each
held-out tagged clip is asked a description prompt (by default the papers' P_pos, "Replay the
audio.", the prompt the positive targets were written with) and the reply is scored by the tag
words it names, with the stems and stop words of the generation quality check
(:mod:`balsa_core.generation.quality`):

``recall``
    the share of the clip's tag content words the reply names;
``precision``
    of the corpus tag vocabulary's words the reply names, the share that are the clip's own
    (undefined for a reply naming none of them, so averaged over the replies that name some).

A model that names the same common sounds whatever it hears earns some recall by luck. The
control measures that luck: the same reply scored against another held-out clip's tags, the
clips paired by a seeded derangement (:func:`control_pairing`: no clip with itself, and a clip
with other tag words wherever one can be found). ``grounding`` is the own-clip recall minus the
control recall of each item; its mean over the items has a 95% interval from a paired bootstrap
over items (:func:`balsa_core.evaluation.intervals.paired_difference`). Zero means the replies
are no more about their own clip than about any other. The untrained adapter (the architecture
at initialisation) gives the floor; the text ceiling, the backbone reading the tags, what an
adapter standing in for them could reach. Recall rather than precision makes the difference:
it is defined for every reply, and listing the whole vocabulary scores the same on both sides.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from balsa_core.evaluation.intervals import CONFIDENCE, RESAMPLES, paired_difference
from balsa_core.evaluation.registry import GROUNDING
from balsa_core.generation.quality import content_stems, sound_terms

QUESTION_TYPE = "description"
SCORE_COLUMNS = ["named", "recall", "precision", "control_recall", "control_precision", "grounding"]
# Per-item scores averaged into percentages; precision over the replies that name a vocabulary word.
METRICS = ("recall", "precision", "control_recall", "control_precision", "grounding")
TABLE_COLUMNS = ["model", "items", *METRICS, "grounding_low", "grounding_high", "p_value"]


def control_pairing(terms: Sequence[frozenset[str]], seed: int) -> np.ndarray:
    """For each clip, the index of its control clip: a seeded derangement (no clip is its own
    control) in which a clip's control has other tag terms wherever the clips allow it.

    A random cycle through all clips (Sattolo's permutation) is a derangement; each clip whose
    control has the same terms then trades controls with the first clip, in a seeded order, for
    which the trade leaves both with a control of other terms and neither with itself. A clip
    no trade can help (every other clip has its terms) keeps its control.
    """
    count = len(terms)
    if count < 2:
        raise ValueError(f"a control clip needs at least two clips, got {count}")
    rng = np.random.default_rng(seed)
    order = rng.permutation(count)
    partner = np.empty(count, dtype=int)
    partner[order] = np.roll(order, -1)
    for clip in range(count):
        if terms[partner[clip]] != terms[clip]:
            continue
        for other in rng.permutation(count):
            mine, theirs = partner[clip], partner[other]
            if theirs != clip and mine != other and terms[theirs] != terms[clip] and terms[mine] != terms[other]:
                partner[clip], partner[other] = theirs, mine
                break
    return partner


def build_grounding_items(clips: pd.DataFrame, vocabulary_tags: Iterable[str], prompt: str, seed: int) -> pd.DataFrame:
    """One item per clip (``clip_id``, ``audio_path``, ``tags``) in the item schema, with its
    own ``tags``, its control's ``control_clip_id`` and ``control_tags``, and the ``vocabulary``
    (the stemmed content words of every tag of the corpora, and of these clips') precision is
    over. Every clip needs a tag content word: a clip without one has nothing to be named."""
    terms = [sound_terms(tags) for tags in clips["tags"]]
    wordless = [clip for clip, clip_terms in zip(clips["clip_id"], terms) if not clip_terms]
    if wordless:
        raise ValueError(f"clips whose tags have no content word cannot be scored: {wordless[:5]}")
    partner = control_pairing(terms, seed)
    vocabulary = sorted(sound_terms(vocabulary_tags).union(*terms))
    tags = [list(clip_tags) for clip_tags in clips["tags"]]
    return pd.DataFrame(
        {
            "item_id": [f"{GROUNDING}|{clip}" for clip in clips["clip_id"]],
            "benchmark": GROUNDING,
            "subset": "",
            "audio_path": clips["audio_path"].to_numpy(),
            "question": prompt,
            "choices": [[] for _ in tags],
            "answer": [", ".join(clip_tags) for clip_tags in tags],
            "question_type": QUESTION_TYPE,
            "clip_id": clips["clip_id"].to_numpy(),
            "tags": tags,
            "control_clip_id": clips["clip_id"].to_numpy()[partner],
            "control_tags": [tags[index] for index in partner],
            "vocabulary": [vocabulary] * len(tags),
        }
    )


def reply_scores(named: frozenset[str], tag_terms: frozenset[str]) -> tuple[float, float]:
    """Recall of ``tag_terms`` and precision (NaN when nothing is named) of the ``named`` vocabulary terms."""
    hits = len(named & tag_terms)
    return hits / len(tag_terms), hits / len(named) if named else float("nan")


def score_grounding(items: pd.DataFrame, replies: Sequence[str | None]) -> pd.DataFrame:
    """The items with ``reply``, the vocabulary terms it ``named``, and its own-clip and control
    recall and precision and their ``grounding`` difference (recall), each a fraction."""
    if len(replies) != len(items):
        raise ValueError(f"{len(replies)} replies for {len(items)} items")
    rows = []
    for item, reply in zip(items.itertuples(index=False), replies):
        named = content_stems(reply) & frozenset(item.vocabulary)
        recall, precision = reply_scores(named, sound_terms(item.tags))
        control_recall, control_precision = reply_scores(named, sound_terms(item.control_tags))
        rows.append((sorted(named), recall, precision, control_recall, control_precision, recall - control_recall))
    scores = pd.DataFrame(rows, columns=SCORE_COLUMNS, index=items.index)
    return items.assign(reply=list(replies), **{column: scores[column] for column in SCORE_COLUMNS})


def grounding_metrics(scored: pd.DataFrame) -> dict[str, object]:
    """Each metric in percent over the scored items (precision over those naming a vocabulary
    word; left out when none does), in the shape of the other evaluations' metrics."""
    means = {metric: scored[metric].astype(float).mean() for metric in METRICS}
    return {"overall": {metric: 100.0 * value for metric, value in means.items() if pd.notna(value)}, "subsets": {}}


def grounding_row(
    model: str,
    scored: pd.DataFrame,
    *,
    seed: int,
    resamples: int = RESAMPLES,
    confidence: float = CONFIDENCE,
) -> dict[str, object]:
    """One model's row of the grounding table, in percent: the means of ``grounding_metrics``
    and the paired bootstrap interval and p-value of own-clip minus control recall over its items."""
    row: dict[str, object] = {column: float("nan") for column in TABLE_COLUMNS}
    row.update(model=model, items=len(scored))
    if scored.empty:
        return row
    row.update(grounding_metrics(scored)["overall"])
    own, control = (100.0 * scored[column].to_numpy(dtype=float) for column in ("recall", "control_recall"))
    difference = paired_difference(
        lambda indices: own[indices].mean(),
        lambda indices: control[indices].mean(),
        len(scored),
        resamples=resamples,
        confidence=confidence,
        seed=seed,
    )
    row.update(grounding_low=difference.low, grounding_high=difference.high, p_value=difference.p_value)
    return row


def grounding_table(scored: Mapping[str, pd.DataFrame], *, seed: int) -> pd.DataFrame:
    """One row per model (in the given order), percentages to 2 decimals."""
    frame = pd.DataFrame([grounding_row(model, items, seed=seed) for model, items in scored.items()])
    frame = frame[TABLE_COLUMNS].astype({"items": int})
    numeric = [column for column in TABLE_COLUMNS if column not in ("model", "items", "p_value")]
    frame[numeric] = frame[numeric].astype(float).round(2)
    frame["p_value"] = frame["p_value"].astype(float).round(4)
    return frame
