"""num_options: the journal's four options (the gold and three seeded distractors) for the
classification corpora, the full class list when it is None; asked, as a config's benchmark
options are, through load_benchmark."""

from __future__ import annotations

import pytest
from evaluation.loaders.benchmark_files import AUDIO, check_schema, cochlscene_split, write
from evaluation.loaders.test_edansa import EDANSA_CSV

from balsa_core.evaluation.loaders import COCHLSCENE_SCENES, EDANSA_EVENTS, NONSPEECH7K_CLASSES, load_benchmark
from balsa_core.evaluation.loaders.common import pick_options

NONSPEECH7K_CSV = "Filename,Classname\n" + "".join(
    f"{name}_{take}.wav,{name}\n" for name in NONSPEECH7K_CLASSES for take in range(3)
)


def test_cochlscene_asks_four_options_with_the_gold_among_them(tmp_path):
    split = cochlscene_split(tmp_path, clips=4)
    items = load_benchmark("cochlscene", split, AUDIO, clips_per_scene=None, num_options=4, seed=1)
    check_schema(items, "cochlscene")
    assert (items["choices"].map(len) == 4).all()
    assert all(answer in choices for answer, choices in zip(items["answer"], items["choices"]))
    # Kept in the scenes' order: the suite's prepare_items shuffles them.
    order = list(COCHLSCENE_SCENES.values())
    assert all(choices == sorted(choices, key=order.index) for choices in items["choices"])
    # Distractors vary between items, not one fixed set of three.
    assert items["choices"].map(tuple).nunique() > 13


def test_distractors_are_seeded(tmp_path):
    split = cochlscene_split(tmp_path, clips=4)
    first = load_benchmark("cochlscene", split, AUDIO, clips_per_scene=None, num_options=4, seed=1)
    again = load_benchmark("cochlscene", split, AUDIO, clips_per_scene=None, num_options=4, seed=1)
    other = load_benchmark("cochlscene", split, AUDIO, clips_per_scene=None, num_options=4, seed=2)
    assert first["choices"].tolist() == again["choices"].tolist()
    assert first["item_id"].tolist() == other["item_id"].tolist()
    assert first["choices"].tolist() != other["choices"].tolist()
    # Stable per item: an item's options do not depend on which other items are loaded.
    item = first["item_id"].iloc[5]
    answer = first["answer"].iloc[5]
    assert pick_options(list(COCHLSCENE_SCENES.values()), answer, 4, 1, item) == first["choices"].iloc[5]


def test_the_full_option_list_stays_available(tmp_path):
    split = cochlscene_split(tmp_path, clips=2)
    everything = load_benchmark("cochlscene", split, AUDIO, clips_per_scene=None)
    assert all(choices == list(COCHLSCENE_SCENES.values()) for choices in everything["choices"])
    labels = write(tmp_path / "labels.csv", EDANSA_CSV)
    assert load_benchmark("edansa", labels, AUDIO, mode="multiple_choice", num_options=None)["choices"].iloc[0] == list(
        EDANSA_EVENTS.values()
    )
    # More options asked than there are classes: all of them.
    assert load_benchmark("edansa", labels, AUDIO, mode="multiple_choice", num_options=9)["choices"].iloc[0] == list(
        EDANSA_EVENTS.values()
    )


def test_edansa_and_nonspeech7k_take_num_options(tmp_path):
    labels = write(tmp_path / "labels.csv", EDANSA_CSV)
    edansa = load_benchmark("edansa", labels, AUDIO, mode="multiple_choice", num_options=4, seed=5)
    check_schema(edansa, "edansa")
    assert (edansa["choices"].map(len) == 4).all()
    assert all(answer in choices for answer, choices in zip(edansa["answer"], edansa["choices"]))
    metadata = write(tmp_path / "metadata of test set.csv", NONSPEECH7K_CSV)
    nonspeech = load_benchmark("nonspeech7k", metadata, AUDIO, num_options=4, seed=5)
    check_schema(nonspeech, "nonspeech7k")
    assert (nonspeech["choices"].map(len) == 4).all()
    assert all(answer in choices for answer, choices in zip(nonspeech["answer"], nonspeech["choices"]))
    assert load_benchmark("nonspeech7k", metadata, AUDIO)["choices"].iloc[0] == list(NONSPEECH7K_CLASSES)


def test_num_options_errors(tmp_path):
    labels = write(tmp_path / "labels.csv", EDANSA_CSV)
    with pytest.raises(ValueError, match="num_options applies to mode 'multiple_choice'"):
        load_benchmark("edansa", labels, AUDIO, num_options=4)
    with pytest.raises(ValueError, match="num_options must be at least 2"):
        load_benchmark("edansa", labels, AUDIO, mode="multiple_choice", num_options=1)
    with pytest.raises(ValueError, match="item-1: answer 'x' is not among the choices"):
        pick_options(["a", "b", "c"], "x", 2, 0, "item-1")
