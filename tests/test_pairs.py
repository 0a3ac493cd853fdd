from collections import Counter

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from balsa_core.pairs import PAIR_COLUMNS, PairingConfig, make_pairs


def metadata(clips: list[tuple[str, str, int, str]]) -> pd.DataFrame:
    """Rows for (clip_id, corpus, number of seeds, split); seeds are named clip_id/s<k>."""
    rows = [
        {"seed_id": f"{clip_id}/s{k}", "clip_id": clip_id, "corpus": corpus, "split": split}
        for clip_id, corpus, seeds, split in clips
        for k in range(seeds)
    ]
    return pd.DataFrame(rows, columns=["seed_id", "clip_id", "corpus", "split"])


def train_clips(corpus: str, count: int, seeds: int = 1) -> list[tuple[str, str, int, str]]:
    return [(f"{corpus}-{k:02d}", corpus, seeds, "train") for k in range(count)]


def unordered(pairs: pd.DataFrame) -> set[frozenset[str]]:
    return {frozenset(pair) for pair in zip(pairs["first_clip_id"], pairs["second_clip_id"], strict=True)}


def uses(pairs: pd.DataFrame) -> Counter[str]:
    return Counter(pairs["first_clip_id"]) + Counter(pairs["second_clip_id"])


def assert_valid(pairs: pd.DataFrame, frame: pd.DataFrame, config: PairingConfig) -> None:
    assert list(pairs.columns) == list(PAIR_COLUMNS)
    assert (pairs["first_clip_id"] != pairs["second_clip_id"]).all(), "a clip paired with itself"
    assert len(unordered(pairs)) == len(pairs), "the same two clips paired twice"
    assert max(uses(pairs).values(), default=0) <= config.max_uses
    assert max(Counter(pairs["first_clip_id"]).values(), default=0) <= config.pairs_per_clip
    same_corpus = pairs["first_corpus"] == pairs["second_corpus"]
    assert (same_corpus if config.scope == "within" else ~same_corpus).all()
    assert list(pairs["pair_id"]) == [f"pair-{k:06d}" for k in range(len(pairs))]

    train = frame[frame["split"] == "train"]
    assert set(uses(pairs)) <= set(train["clip_id"]), "a clip outside the training split"
    first_seed = train.groupby("clip_id")["seed_id"].min()
    corpus = train.groupby("clip_id")["corpus"].first()
    for side in ("first", "second"):
        clip_ids = pairs[f"{side}_clip_id"]
        assert list(pairs[f"{side}_seed_id"]) == list(clip_ids.map(first_seed))
        assert list(pairs[f"{side}_corpus"]) == list(clip_ids.map(corpus))


@pytest.mark.parametrize(
    "settings_",
    [
        {"max_uses": 0},
        {"pairs_per_clip": 0},
        {"pairs_per_clip": 3, "max_uses": 2},
        {"scope": "everywhere"},
    ],
)
def test_impossible_settings_are_refused(settings_):
    with pytest.raises(ValueError):
        PairingConfig(**settings_)


clip_specs = st.lists(
    st.tuples(st.sampled_from(["audiocaps", "clotho", "esc50"]), st.integers(1, 3), st.sampled_from(["train", "val"])),
    max_size=30,
)


@settings(max_examples=300, deadline=None)
@given(
    clip_specs,
    st.sampled_from(["within", "across"]),
    st.integers(1, 3),
    st.integers(0, 3),
    st.integers(0, 2**32 - 1),
)
def test_constraints_hold_for_any_input(specs, scope, pairs_per_clip, extra_uses, seed):
    frame = metadata([(f"clip-{k:02d}", corpus, seeds, split) for k, (corpus, seeds, split) in enumerate(specs)])
    config = PairingConfig(scope=scope, pairs_per_clip=pairs_per_clip, max_uses=pairs_per_clip + extra_uses, seed=seed)
    assert_valid(make_pairs(frame, config), frame, config)


def test_defaults_put_every_clip_of_a_corpus_in_two_pairs():
    frame = metadata(train_clips("clotho", 7) + train_clips("esc50", 4))
    pairs = make_pairs(frame, PairingConfig())
    assert_valid(pairs, frame, PairingConfig())
    assert len(pairs) == 11
    assert set(uses(pairs).values()) == {2}


def test_every_clip_starts_its_pairs_when_there_is_room():
    config = PairingConfig(pairs_per_clip=2, max_uses=4, seed=3)
    frame = metadata(train_clips("audiocaps", 20))
    pairs = make_pairs(frame, config)
    assert_valid(pairs, frame, config)
    assert Counter(pairs["first_clip_id"]) == {clip_id: 2 for clip_id in frame["clip_id"]}


def test_a_two_clip_corpus_gives_one_pair_and_a_lone_clip_none():
    frame = metadata(train_clips("esc50", 2) + train_clips("vocalsound", 1))
    pairs = make_pairs(frame, PairingConfig())
    assert unordered(pairs) == {frozenset({"esc50-00", "esc50-01"})}


def test_across_pairs_only_clips_of_different_corpora():
    config = PairingConfig(scope="across", seed=5)
    frame = metadata(train_clips("audiocaps", 6) + train_clips("clotho", 5) + train_clips("esc50", 1))
    pairs = make_pairs(frame, config)
    assert_valid(pairs, frame, config)
    assert len(pairs) > 0
    assert (pairs["first_corpus"] != pairs["second_corpus"]).all()


def test_across_with_one_corpus_gives_an_empty_frame_with_the_columns():
    pairs = make_pairs(metadata(train_clips("clotho", 5)), PairingConfig(scope="across"))
    assert pairs.empty
    assert list(pairs.columns) == list(PAIR_COLUMNS)


@pytest.mark.parametrize(
    "clips",
    [
        [],
        [("only", "clotho", 2, "train")],
        [("v1", "clotho", 1, "val"), ("v2", "clotho", 1, "val"), ("t1", "clotho", 1, "test")],
    ],
    ids=["no rows", "one clip", "no training clips"],
)
def test_no_possible_pair_gives_an_empty_frame_with_the_columns(clips):
    pairs = make_pairs(metadata(clips), PairingConfig())
    assert pairs.empty
    assert list(pairs.columns) == list(PAIR_COLUMNS)


def test_only_training_clips_are_paired():
    clips = train_clips("clotho", 4) + [(f"clotho-val-{k}", "clotho", 2, "val") for k in range(4)]
    pairs = make_pairs(metadata(clips), PairingConfig())
    assert set(uses(pairs)) == {f"clotho-{k:02d}" for k in range(4)}


def test_each_clip_brings_its_first_seed_in_sorted_order():
    frame = metadata(train_clips("clotho", 3, seeds=5)).iloc[::-1]
    pairs = make_pairs(frame, PairingConfig())
    assert set(pairs["first_seed_id"]) | set(pairs["second_seed_id"]) == {f"clotho-{k:02d}/s0" for k in range(3)}


def test_same_input_and_seed_give_the_same_pairs_whatever_the_row_order():
    frame = metadata(train_clips("audiocaps", 12, seeds=2) + train_clips("clotho", 9, seeds=3))
    config = PairingConfig(pairs_per_clip=2, max_uses=3, seed=11)
    reordered = frame.sample(frac=1.0, random_state=1).reset_index(drop=True)
    pd.testing.assert_frame_equal(make_pairs(frame, config), make_pairs(reordered, config))


def test_another_seed_gives_another_pairing():
    frame = metadata(train_clips("audiocaps", 20))
    assert unordered(make_pairs(frame, PairingConfig(seed=0))) != unordered(make_pairs(frame, PairingConfig(seed=1)))


@pytest.mark.timeout(30)
def test_across_stays_fast_when_one_corpus_dominates():
    # A walk through the big corpus's own clips for every first would take minutes here.
    clips = train_clips("audioset", 38_000) + train_clips("esc50", 2_000)
    pairs = make_pairs(metadata(clips), PairingConfig(scope="across"))
    assert len(pairs) == 4_000, "each esc50 clip is used twice, each time with an audioset clip"


def test_named_corpora_alone_are_paired_each_under_its_own_limits():
    config = PairingConfig.from_validated(
        {
            "scope": "within",
            "pairs_per_clip": 1,
            "max_uses": 2,
            "seed": 4,
            "corpora": {"esc50": {"pairs_per_clip": 3, "max_uses": 6}, "clotho": {}},
        }
    )
    frame = metadata(train_clips("esc50", 10) + train_clips("clotho", 6) + train_clips("vocalsound", 5))
    pairs = make_pairs(frame, config)
    assert set(pairs["first_corpus"]) == {"esc50", "clotho"}, "vocalsound is not named"
    per_corpus = pairs.groupby("first_corpus").size().to_dict()
    # esc50: each of its 10 clips starts 3 pairs (6 uses leave room); clotho: the section's one each.
    assert per_corpus == {"esc50": 30, "clotho": 6}
    assert max(uses(pairs[pairs["first_corpus"] == "esc50"]).values()) <= 6
    assert set(uses(pairs[pairs["first_corpus"] == "clotho"]).values()) == {2}
    assert (pairs["first_corpus"] == pairs["second_corpus"]).all()


def test_max_pairs_cuts_a_corpus_to_a_seeded_draw_of_its_pairs():
    def capped(seed: int) -> pd.DataFrame:
        corpora = {"audiocaps": {"max_pairs": 7}, "esc50": {"max_pairs": 50}}
        return make_pairs(frame, PairingConfig.from_validated({**sections, "seed": seed, "corpora": corpora}))

    sections = {"scope": "within", "pairs_per_clip": 1, "max_uses": 2}
    frame = metadata(train_clips("audiocaps", 20) + train_clips("esc50", 8))
    pairs = capped(seed=0)
    assert pairs.groupby("first_corpus").size().to_dict() == {"audiocaps": 7, "esc50": 8}, "esc50 is under its cap"
    assert list(pairs["pair_id"]) == [f"pair-{k:06d}" for k in range(15)]
    uncapped = make_pairs(frame, PairingConfig(**sections, seed=0))
    assert unordered(pairs) < unordered(uncapped), "the cap keeps some of the same pairing"
    pd.testing.assert_frame_equal(pairs, capped(seed=0))
    assert unordered(capped(seed=1)) != unordered(pairs)


def test_a_corpus_without_its_own_limits_pairs_as_before():
    frame = metadata(train_clips("clotho", 7) + train_clips("esc50", 4))
    everything = PairingConfig.from_validated({"scope": "within", "pairs_per_clip": 1, "max_uses": 2, "seed": 0})
    pd.testing.assert_frame_equal(make_pairs(frame, everything), make_pairs(frame, PairingConfig()))


def test_a_corpus_whose_limits_leave_no_room_is_refused():
    with pytest.raises(ValueError, match=r"pairs\.corpora\.esc50: max_uses \(2\) < pairs_per_clip \(3\)"):
        PairingConfig.from_validated(
            {
                "scope": "within",
                "pairs_per_clip": 1,
                "max_uses": 2,
                "seed": 0,
                "corpora": {"esc50": {"pairs_per_clip": 3}},
            }
        )
