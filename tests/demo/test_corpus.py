from __future__ import annotations

import csv
import hashlib
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from balsa_core.demo.corpus import (
    EVENT_CLASSES,
    DemoCorpusConfig,
    demo_vocabulary,
    generate_demo_corpus,
)

# Written out rather than imported: these are the real corpora's headers, not ours to change.
ESC50_HEADER = ["filename", "fold", "target", "category", "esc10", "src_file", "take"]
AUDIOCAPS_HEADER = ["audiocap_id", "youtube_id", "start_time", "caption"]
EVENTS_HEADER = ["audio_path", "layout", "split", "tags", "onsets_s", "gains_db"]

CONFIG = DemoCorpusConfig()
CATEGORY_BY_TAG = {event_class.tag: event_class.category for event_class in EVENT_CLASSES}
PHRASE_BY_TAG = {event_class.tag: event_class.phrase for event_class in EVENT_CLASSES}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out_dir = tmp_path_factory.mktemp("demo_corpus")
    generate_demo_corpus(CONFIG, out_dir)
    return out_dir


@pytest.fixture(scope="module")
def events(corpus: Path) -> pd.DataFrame:
    frame = pd.read_csv(corpus / "events.csv", dtype=str)
    frame["tag_list"] = frame["tags"].str.split(";")
    frame["onsets"] = frame["onsets_s"].map(lambda text: [float(v) for v in text.split(";")])
    frame["gains"] = frame["gains_db"].map(lambda text: [float(v) for v in text.split(";")])
    return frame


def file_hashes(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def csv_header(path: Path) -> list[str]:
    with path.open(newline="") as handle:
        return next(csv.reader(handle))


def log_band_spectrum(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """Mean log power in 40 log-spaced bands, level removed: a crude timbre fingerprint."""
    frames = np.lib.stride_tricks.sliding_window_view(samples, 512)[::256] * np.hanning(512)
    power = (np.abs(np.fft.rfft(frames, axis=1)) ** 2).mean(axis=0)
    freqs = np.fft.rfftfreq(512, 1 / sample_rate)
    edges = np.geomspace(60, 7600, 41)
    bands = np.array([power[(freqs >= lo) & (freqs < hi)].sum() for lo, hi in zip(edges[:-1], edges[1:])])
    # A -60 dB floor keeps empty bands of pure tones from dominating the distance.
    levels = 10 * np.log10(bands + 1e-6 * bands.sum())
    return levels - levels.mean()


def spectral_centroid(samples: np.ndarray, sample_rate: int) -> float:
    power = np.abs(np.fft.rfft(samples)) ** 2
    return float((np.fft.rfftfreq(samples.size, 1 / sample_rate) * power).sum() / power.sum())


def read_esc50_clips(corpus: Path) -> tuple[np.ndarray, list[str]]:
    meta = pd.read_csv(corpus / "esc50" / "meta" / "esc50.csv")
    clips = [sf.read(corpus / "esc50" / "audio" / name, dtype="float64")[0] for name in meta["filename"]]
    return np.stack(clips), list(meta["category"])


def test_same_config_gives_byte_identical_files_and_another_seed_other_audio(tmp_path: Path) -> None:
    config = DemoCorpusConfig(n_clips=40)
    generate_demo_corpus(config, tmp_path / "first")
    generate_demo_corpus(config, tmp_path / "second")
    generate_demo_corpus(DemoCorpusConfig(n_clips=40, seed=8), tmp_path / "reseeded")

    first = file_hashes(tmp_path / "first")
    assert len(first) == 40 + 5  # WAVs + esc50.csv, three AudioCaps splits, events.csv
    assert first == file_hashes(tmp_path / "second")
    reseeded = file_hashes(tmp_path / "reseeded")
    first_audio = {digest for path, digest in first.items() if path.endswith(".wav")}
    reseeded_audio = {digest for path, digest in reseeded.items() if path.endswith(".wav")}
    assert not first_audio & reseeded_audio


def test_summary_counts_match_files(tmp_path: Path) -> None:
    summary = generate_demo_corpus(CONFIG, tmp_path)
    assert summary.classes == tuple(demo_vocabulary())
    assert sum(sum(splits.values()) for splits in summary.counts.values()) == CONFIG.n_clips
    assert summary.counts["esc50"]["val"] == 0
    for layout in ("esc50", "audiocaps"):
        wavs = list((tmp_path / layout / "audio").glob("*.wav"))
        assert sum(summary.counts[layout].values()) == len(wavs)


def test_esc50_layout_matches_the_real_one(corpus: Path) -> None:
    meta_path = corpus / "esc50" / "meta" / "esc50.csv"
    assert csv_header(meta_path) == ESC50_HEADER
    meta = pd.read_csv(meta_path)

    assert list(meta["esc10"].unique()) == [False]
    assert list(meta["take"].unique()) == ["A"]
    assert set(meta["fold"]) == {1, 2, 3, 4, 5}
    assert meta["src_file"].is_unique
    for row in meta.itertuples():
        assert re.fullmatch(r"[1-5]-\d+-A-\d+\.wav", row.filename)
        assert row.filename == f"{row.fold}-{row.src_file}-{row.take}-{row.target}.wav"
        assert EVENT_CLASSES[row.target].category == row.category
    on_disk = sorted(path.name for path in (corpus / "esc50" / "audio").iterdir())
    assert on_disk == sorted(meta["filename"])


def test_audiocaps_layout_matches_the_real_one(corpus: Path) -> None:
    rows = []
    for split in ("train", "val", "test"):
        path = corpus / "audiocaps" / f"{split}.csv"
        assert csv_header(path) == AUDIOCAPS_HEADER
        with path.open(newline="") as handle:
            assert all(len(fields) == 4 for fields in csv.reader(handle))
        rows.append(pd.read_csv(path, dtype={"youtube_id": str}).assign(split=split))
    captions = pd.concat(rows, ignore_index=True)

    assert set(captions["split"]) == {"train", "val", "test"}
    assert captions["audiocap_id"].is_unique and captions["youtube_id"].is_unique
    assert captions["youtube_id"].str.fullmatch(r"[A-Za-z0-9_-]{11}").all()
    assert pd.api.types.is_integer_dtype(captions["start_time"])
    # Some captions carry commas; reading them back whole proves they were quoted.
    assert captions["caption"].str.contains(",").any()
    assert (captions["caption"].str[0].str.isupper()).all()
    on_disk = sorted(path.name for path in (corpus / "audiocaps" / "audio").iterdir())
    assert on_disk == sorted(f"Y{youtube_id}.wav" for youtube_id in captions["youtube_id"])


def test_events_csv_is_the_ground_truth_of_every_clip(corpus: Path, events: pd.DataFrame) -> None:
    assert csv_header(corpus / "events.csv") == EVENTS_HEADER
    assert len(events) == CONFIG.n_clips and events["audio_path"].is_unique
    assert all((corpus / path).is_file() for path in events["audio_path"])

    meta = pd.read_csv(corpus / "esc50" / "meta" / "esc50.csv").set_index("filename")
    for row in events[events["layout"] == "esc50"].itertuples():
        esc50 = meta.loc[Path(row.audio_path).name]
        assert row.tag_list == [esc50["category"].replace("_", " ")]
        assert row.split == ("test" if esc50["fold"] == 5 else "train")

    for split in ("train", "val", "test"):
        captions = pd.read_csv(corpus / "audiocaps" / f"{split}.csv", dtype={"youtube_id": str})
        by_path = events.set_index("audio_path")
        for caption in captions.itertuples():
            truth = by_path.loc[f"audiocaps/audio/Y{caption.youtube_id}.wav"]
            assert truth["split"] == split
            for tag in truth["tag_list"]:
                assert PHRASE_BY_TAG[tag] in caption.caption.lower()

    for row in events.itertuples():
        assert len(row.onsets) == len(row.gains) == len(row.tag_list)
        # An event lasts at least 40% of the clip, so it cannot start after 60% of it.
        assert all(0 <= onset <= 0.6 * CONFIG.clip_seconds for onset in row.onsets)
        assert row.onsets == sorted(row.onsets)
        assert all(-12 <= gain <= 0 for gain in row.gains)


def test_event_counts_per_layout(events: pd.DataFrame) -> None:
    n_events = events["tag_list"].map(len)
    n_distinct = events["tag_list"].map(lambda tags: len(set(tags)))
    assert (n_events == n_distinct).all()  # no class twice in one clip
    assert (n_events[events["layout"] == "esc50"] == 1).all()
    multi = n_events[events["layout"] == "audiocaps"]
    assert multi.between(2, CONFIG.max_events).all()
    assert set(multi) == {2, 3}
    assert len(multi) == round(CONFIG.n_clips * CONFIG.multi_event_fraction)


def test_every_class_appears_and_is_in_esc50_train(events: pd.DataFrame) -> None:
    every_tag = set(demo_vocabulary())
    assert set(events["tag_list"].explode()) == every_tag
    esc50_train = events[(events["layout"] == "esc50") & (events["split"] == "train")]
    assert set(esc50_train["tag_list"].explode()) == every_tag


def test_test_share_is_close_to_test_fraction(events: pd.DataFrame) -> None:
    for layout, clips in events.groupby("layout"):
        share = (clips["split"] == "test").mean()
        assert abs(share - CONFIG.test_fraction) < 0.03, (layout, share)
    assert (events[events["layout"] == "audiocaps"]["split"] == "val").any()
    assert not (events[events["layout"] == "esc50"]["split"] == "val").any()


def test_wavs_are_16k_mono_int16_of_clip_length_and_sound_from_their_first_onset(
    corpus: Path, events: pd.DataFrame
) -> None:
    clip_n = int(CONFIG.clip_seconds * CONFIG.sample_rate)
    for row in events.itertuples():
        info = sf.info(corpus / row.audio_path)
        assert (info.samplerate, info.channels, info.subtype) == (CONFIG.sample_rate, 1, "PCM_16")
        assert info.frames == clip_n
        samples, _ = sf.read(corpus / row.audio_path, dtype="int16")
        # Peak-normalised to about -1 dBFS.
        assert 0.88 * 32767 <= np.abs(samples).max() <= 0.90 * 32767
        first = round(row.onsets[0] * CONFIG.sample_rate)
        assert not samples[:first].any(), "sound before the first onset in events.csv"
        assert np.abs(samples[first : first + CONFIG.sample_rate // 10]).max() > 0.005 * 32767


def test_clips_of_one_class_sound_alike_and_unlike_other_classes(corpus: Path) -> None:
    clips, categories = read_esc50_clips(corpus)
    fingerprints = np.stack([log_band_spectrum(clip, CONFIG.sample_rate) for clip in clips])
    distances = np.linalg.norm(fingerprints[:, None] - fingerprints[None], axis=2)
    np.fill_diagonal(distances, np.inf)
    nearest = [categories[j] for j in distances.argmin(axis=1)]
    # Leave-one-out nearest neighbour on a crude spectrum; chance would be 1/15.
    accuracy = np.mean([found == truth for found, truth in zip(nearest, categories)])
    assert accuracy >= 0.95


def test_spectral_centroids_order_engine_below_siren_below_birds(corpus: Path) -> None:
    clips, categories = read_esc50_clips(corpus)

    def median_centroid(category: str) -> float:
        members = [clip for clip, found in zip(clips, categories) if found == category]
        return float(np.median([spectral_centroid(clip, CONFIG.sample_rate) for clip in members]))

    # A low drone, a mid-range wail, high chirps: a listener hears the same order.
    assert median_centroid("engine") < 600 < median_centroid("siren") < 2000
    assert median_centroid("chirping_birds") > 3000


def test_event_classes_are_well_formed_pure_synths() -> None:
    assert len(EVENT_CLASSES) >= 12
    categories = [event_class.category for event_class in EVENT_CLASSES]
    assert len(set(categories)) == len(categories)
    assert demo_vocabulary() == [category.replace("_", " ") for category in categories]
    for event_class in EVENT_CLASSES:
        assert re.fullmatch(r"[a-z]+(_[a-z]+)*", event_class.category)
        assert event_class.phrase and event_class.phrase == event_class.phrase.lower()
        first = event_class.synth(np.random.default_rng(1), 1.37, 16000)
        again = event_class.synth(np.random.default_rng(1), 1.37, 16000)
        other = event_class.synth(np.random.default_rng(2), 1.37, 16000)
        assert first.shape == (round(1.37 * 16000),)
        assert np.array_equal(first, again), event_class.category
        assert not np.array_equal(first, other), event_class.category
        assert np.isfinite(first).all() and np.abs(first).max() == pytest.approx(1.0)


def test_empty_audiocaps_splits_are_written_header_only(tmp_path: Path) -> None:
    summary = generate_demo_corpus(DemoCorpusConfig(n_clips=20, multi_event_fraction=0.0), tmp_path)
    assert sum(summary.counts["audiocaps"].values()) == 0
    for split in ("train", "val", "test"):
        assert (tmp_path / "audiocaps" / f"{split}.csv").read_text() == ",".join(AUDIOCAPS_HEADER) + "\n"


@pytest.mark.parametrize(
    "bad",
    [
        DemoCorpusConfig(n_clips=0),
        DemoCorpusConfig(test_fraction=1.5),
        DemoCorpusConfig(multi_event_fraction=-0.1),
        DemoCorpusConfig(max_events=0),
        DemoCorpusConfig(clip_seconds=0.0),
    ],
)
def test_nonsense_configs_are_refused(bad: DemoCorpusConfig, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="DemoCorpusConfig"):
        generate_demo_corpus(bad, tmp_path)
