"""Bootstrap intervals, chance levels and the tests of balsa_core.evaluation.intervals."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import binom

from balsa_core.evaluation.intervals import (
    above_chance_p,
    bootstrap_interval,
    bootstrap_intervals,
    chance_levels,
    mcnemar_p,
    paired_difference,
)

# Three items scored 0, 0, 1: a resample's mean is k/3 with k ~ Binomial(3, 1/3), so
# P(0) = 8/27 = 0.296, P(1/3) = 12/27 = 0.444, P(2/3) = 6/27 = 0.222, P(1) = 1/27 = 0.037.
THREE = np.array([0.0, 0.0, 1.0])


def mean_of_three(indices: np.ndarray) -> float:
    return float(THREE[indices].mean())


def test_percentile_interval_of_a_hand_enumerated_bootstrap() -> None:
    # 95 %: the 2.5th percentile is 0 (P(0) = 0.296 > 0.025); the cumulative share up to 2/3 is
    # 26/27 = 0.963 < 0.975, so the 97.5th percentile is 1.
    assert bootstrap_interval(mean_of_three, 3, resamples=4000) == (0.0, 1.0)
    # 90 %: 0.963 > 0.95, so the 95th percentile is 2/3.
    assert bootstrap_interval(mean_of_three, 3, resamples=4000, confidence=0.9) == pytest.approx((0.0, 2 / 3))
    # 40 %: the 30th percentile is past P(0) = 0.296 and the 70th before 20/27 = 0.741: both 1/3.
    assert bootstrap_interval(mean_of_three, 3, resamples=4000, confidence=0.4) == pytest.approx((1 / 3, 1 / 3))


def test_interval_of_a_binary_mean_matches_its_binomial_quantiles() -> None:
    # The bootstrap mean of n 0/1 scores with s ones is Binomial(n, s/n) / n.
    n, ones = 200, 60
    scores = np.zeros(n)
    scores[:ones] = 1.0
    low, high = bootstrap_interval(lambda indices: float(scores[indices].mean()), n, resamples=4000, seed=3)
    assert low == pytest.approx(binom.ppf(0.025, n, ones / n) / n, abs=0.011)
    assert high == pytest.approx(binom.ppf(0.975, n, ones / n) / n, abs=0.011)


def test_same_seed_same_interval_other_seed_other_interval() -> None:
    scores = np.random.default_rng(0).random(150)

    def statistic(indices: np.ndarray) -> float:
        return float(scores[indices].mean())

    first = bootstrap_interval(statistic, 150, seed=5)
    assert bootstrap_interval(statistic, 150, seed=5) == first
    assert bootstrap_interval(statistic, 150, seed=6) != first
    assert first[0] < scores.mean() < first[1]


def test_several_metrics_share_the_resamples() -> None:
    scores = np.random.default_rng(1).random(100)
    lows, highs = bootstrap_intervals(
        lambda indices: np.array([scores[indices].mean(), 2 * scores[indices].mean()]), 100, seed=2
    )
    alone = bootstrap_interval(lambda indices: float(scores[indices].mean()), 100, seed=2)
    assert (lows[0], highs[0]) == pytest.approx(alone)
    assert (lows[1], highs[1]) == pytest.approx((2 * alone[0], 2 * alone[1]))


def test_one_item_gives_no_interval_and_none_is_an_error() -> None:
    assert all(math.isnan(bound) for bound in bootstrap_interval(mean_of_three, 1))
    lows, highs = bootstrap_intervals(lambda indices: np.array([1.0, 2.0, 3.0]), 1)
    assert lows.shape == highs.shape == (3,) and np.isnan(lows).all() and np.isnan(highs).all()
    single = paired_difference(mean_of_three, lambda indices: 0.0, 1)
    assert single.difference == 0.0 and math.isnan(single.low) and math.isnan(single.p_value)
    with pytest.raises(ValueError, match="no items"):
        bootstrap_interval(mean_of_three, 0)
    with pytest.raises(ValueError, match="no items"):
        paired_difference(mean_of_three, mean_of_three, 0)


def test_paired_difference_of_a_clear_and_of_no_difference() -> None:
    rng = np.random.default_rng(4)
    better = rng.random(300) < 0.8
    worse = rng.random(300) < 0.4
    clear = paired_difference(
        lambda indices: float(better[indices].mean()), lambda indices: float(worse[indices].mean()), 300
    )
    assert clear.difference == pytest.approx(better.mean() - worse.mean())
    assert 0.0 < clear.low < clear.difference < clear.high
    # No resample crosses 0: the smallest p-value 1000 resamples can give, 2 / 1001.
    assert clear.p_value == pytest.approx(2 / 1001)
    same = paired_difference(
        lambda indices: float(better[indices].mean()), lambda indices: float(better[indices].mean()), 300
    )
    assert (same.difference, same.low, same.high, same.p_value) == (0.0, 0.0, 0.0, 1.0)


def test_mcnemar_p_of_known_discordant_counts() -> None:
    # 8 items only a got right, 2 only b: two-sided exact binomial of 8 of 10 at 1/2,
    # 2 * (C(10,0) + C(10,1) + C(10,2)) / 2^10 = 2 * 56 / 1024.
    a = [True] * 8 + [False] * 2 + [True] * 5 + [False] * 3
    b = [False] * 8 + [True] * 2 + [True] * 5 + [False] * 3
    assert mcnemar_p(a, b) == pytest.approx(112 / 1024)
    assert mcnemar_p(b, a) == pytest.approx(112 / 1024)
    assert mcnemar_p([True, False], [True, False]) == 1.0
    with pytest.raises(ValueError, match="3 items for a but 2"):
        mcnemar_p([True] * 3, [True] * 2)


def test_above_chance_p_is_one_sided_binomial() -> None:
    # 9 of 10 at 1/2: P(X >= 9) = (10 + 1) / 1024.
    assert above_chance_p(9, 10, 50.0) == pytest.approx(11 / 1024)
    assert above_chance_p(2, 10, 50.0) > 0.9
    with pytest.raises(ValueError, match="no trials"):
        above_chance_p(0, 0, 50.0)


def test_chance_levels_of_yes_no_items() -> None:
    gold = ["yes"] + ["no"] * 3
    levels = chance_levels(
        ["acc", "f1_yes", "f1_no", "precision_yes", "recall_no", "f1_weighted", "precision_weighted", "yes_rate"],
        ["yes_no"] * 4,
        gold,
        [0] * 4,
    )
    assert levels == pytest.approx(
        {
            "acc": 75.0,  # always "no"
            "f1_yes": 25.0,
            "f1_no": 75.0,
            "precision_yes": 25.0,
            "recall_no": 75.0,
            "f1_weighted": 62.5,  # 0.25^2 + 0.75^2
            "precision_weighted": 62.5,
        }
        | {"yes_rate": None}
    )


def test_chance_levels_of_options_mixed_and_open_items() -> None:
    # Two items of 4 options and one of 2: accuracy (1/4 + 1/4 + 1/2) / 3.
    levels = chance_levels(
        ["acc", "f1_rain", "f1_weighted"], ["multiple_choice"] * 3, ["rain", "dog", "rain"], [4, 4, 2]
    )
    assert levels == pytest.approx({"acc": 100 / 3, "f1_rain": 200 / 3, "f1_weighted": 100 * 5 / 9})
    # Yes/no (majority 2 of 3) and one open item: (2 + 0) / 4.
    mixed = chance_levels(
        ["acc", "unparsed"], ["yes_no", "yes_no", "yes_no", "open"], ["no", "no", "yes", "two"], [0] * 4
    )
    assert mixed == {"acc": 50.0, "unparsed": None}
    assert chance_levels(["acc"], ["open", "open"], ["two", "dog"], [0, 0]) == {"acc": None}
    assert chance_levels(["if_rate", "acc"], ["instruction"], ["followed"], [0]) == {"if_rate": None, "acc": None}


def test_chance_levels_reject_bad_input() -> None:
    with pytest.raises(ValueError, match="2 question types, 1 gold answers and 2 option counts"):
        chance_levels(["acc"], ["yes_no", "yes_no"], ["yes"], [0, 0])
    with pytest.raises(ValueError, match="no items"):
        chance_levels(["acc"], [], [], [])
    with pytest.raises(ValueError, match="multiple-choice item without options"):
        chance_levels(["acc"], ["multiple_choice"], ["rain"], [0])
