"""A deterministic, tiny, *listenable* sound-event corpus for the demo run.

The demo has no network and no licensed audio, yet the adapter must learn which
sounds are present and which are absent. So every event class here is synthesised
from a recipe a listener (and Whisper's encoder) can tell apart: a sweeping siren,
bright bird chirps, a low engine drone, ringing bells, and so on.

The corpus is written in the on-disk formats of the real corpora so that the
ordinary readers ingest it unchanged:

* single-event clips as ESC-50 (``esc50/meta/esc50.csv`` + ``esc50/audio``), fold 5
  holding the test share;
* multi-event clips as AudioCaps (``audiocaps/{train,val,test}.csv`` +
  ``audiocaps/audio/Y{youtube_id}.wav``) with a caption built from class phrases;
* ``events.csv``: the ground truth (tags, onsets, gains) of every clip.

Every random choice flows from ``DemoCorpusConfig.seed``: one generator plans the
corpus and each event gets its own generator keyed by (seed, clip, event), so the
same config gives byte-identical files.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

Synth = Callable[[np.random.Generator, float, int], np.ndarray]

ESC50_HEADER = ("filename", "fold", "target", "category", "esc10", "src_file", "take")
AUDIOCAPS_HEADER = ("audiocap_id", "youtube_id", "start_time", "caption")
EVENTS_HEADER = ("audio_path", "layout", "split", "tags", "onsets_s", "gains_db")
LAYOUTS = ("esc50", "audiocaps")
SPLITS = ("train", "val", "test")

ESC50_TEST_FOLD = 5
ESC50_TRAIN_FOLDS = (1, 2, 3, 4)
AUDIOCAPS_VAL_FRACTION = 0.1
MIN_EVENT_FRACTION = 0.4
GAIN_RANGE_DB = (-12.0, 0.0)
PEAK_DBFS = -1.0
EDGE_FADE_S = 0.005
YOUTUBE_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
# Partials above this share of the sample rate are dropped rather than aliased back down.
ALIAS_GUARD = 0.45


@dataclass(frozen=True)
class EventClass:
    category: str
    tag: str
    phrase: str
    synth: Synth


@dataclass(frozen=True)
class DemoCorpusConfig:
    n_clips: int = 150
    seed: int = 7
    sample_rate: int = 16000
    clip_seconds: float = 3.0
    multi_event_fraction: float = 0.4
    max_events: int = 3
    test_fraction: float = 0.2


@dataclass(frozen=True)
class DemoCorpusSummary:
    out_dir: Path
    classes: tuple[str, ...]
    # layout -> split -> number of clips; every layout lists every split, zeros included.
    counts: dict[str, dict[str, int]]


@dataclass(frozen=True)
class PlacedEvent:
    class_index: int
    onset_sample: int
    n_samples: int
    gain_db: float


@dataclass(frozen=True)
class ClipPlan:
    index: int
    layout: str
    split: str
    audio_path: str
    events: tuple[PlacedEvent, ...]
    esc50_row: tuple[str, ...] | None
    audiocaps_row: tuple[str, ...] | None


# --- signal building blocks ----------------------------------------------------------


def _n_samples(duration_s: float, sample_rate: int) -> int:
    return max(1, int(round(duration_s * sample_rate)))


def _times(n: int, sample_rate: int) -> np.ndarray:
    return np.arange(n) / sample_rate


def _peak_normalised(signal: np.ndarray, peak: float = 1.0) -> np.ndarray:
    largest = np.max(np.abs(signal))
    return signal * (peak / largest) if largest > 0 else signal


def _harmonic_stack(freq_hz: np.ndarray, amplitudes: Sequence[float], sample_rate: int) -> np.ndarray:
    """Partials k*f of one (possibly gliding) fundamental, sharing its phase so they stay locked."""
    phase = 2 * np.pi * np.cumsum(freq_hz) / sample_rate
    top = float(np.max(freq_hz))
    out = np.zeros_like(phase)
    for k, amplitude in enumerate(amplitudes, start=1):
        if k * top < ALIAS_GUARD * sample_rate:
            out += amplitude * np.sin(k * phase)
    return out


def _band_noise(rng: np.random.Generator, n: int, sample_rate: int, low_hz: float, high_hz: float) -> np.ndarray:
    # Filter at a power-of-two length: event lengths are arbitrary and FFTs of large primes crawl.
    fft_n = 1 << (n - 1).bit_length()
    spectrum = np.fft.rfft(rng.standard_normal(fft_n))
    freqs = np.fft.rfftfreq(fft_n, 1 / sample_rate)
    spectrum[(freqs < low_hz) | (freqs > high_hz)] = 0
    return _peak_normalised(np.fft.irfft(spectrum, fft_n)[:n])


def _resonance(freq_hz: float, centre_hz: float, width_hz: float) -> float:
    return float(np.exp(-0.5 * ((freq_hz - centre_hz) / width_hz) ** 2))


def _decay(n: int, sample_rate: int, tau_s: float) -> np.ndarray:
    return np.exp(-_times(n, sample_rate) / tau_s)


def _ramped_gate(is_on: np.ndarray, sample_rate: int, ramp_s: float = 0.005) -> np.ndarray:
    """A hard on/off pattern with short ramps, so beeps start and stop without clicks."""
    width = max(1, _n_samples(ramp_s, sample_rate))
    kernel = np.hanning(width + 2)[1:-1]
    return np.convolve(is_on.astype(float), kernel / kernel.sum(), mode="same")


def _scatter(n: int, grains: Iterable[tuple[int, np.ndarray]]) -> np.ndarray:
    """Sum short grains into a buffer of n samples at the given onsets, cutting what overhangs."""
    out = np.zeros(n)
    for onset, grain in grains:
        if onset >= n:
            continue
        end = min(n, onset + grain.size)
        out[onset:end] += grain[: end - onset]
    return out


def _regular_onsets(n: int, sample_rate: int, period_s: float, first_s: float) -> list[int]:
    return [int(round(t * sample_rate)) for t in np.arange(first_s, n / sample_rate, period_s)]


def _grouped_onsets(
    rng: np.random.Generator,
    n: int,
    sample_rate: int,
    group_sizes: tuple[int, int],
    within_s: tuple[float, float],
    between_s: tuple[float, float],
) -> list[int]:
    """Onsets that come in bursts (knocks, barks, chirps): a few close hits, then a pause."""
    onsets: list[int] = []
    t = rng.uniform(0.0, 0.05)
    while t < n / sample_rate:
        for _ in range(rng.integers(group_sizes[0], group_sizes[1] + 1)):
            onsets.append(int(round(t * sample_rate)))
            t += rng.uniform(*within_s)
        t += rng.uniform(*between_s)
    return onsets


# --- event classes ---------------------------------------------------------------------
# Each recipe starts sounding within ~50 ms so that the onsets in events.csv are honest,
# and returns a peak-normalised float signal of exactly round(duration_s * sample_rate).


def siren(rng: np.random.Generator, duration_s: float, sample_rate: int) -> np.ndarray:
    n = _n_samples(duration_s, sample_rate)
    low = rng.uniform(550, 750)
    high = low * rng.uniform(1.8, 2.2)
    sweep_period = rng.uniform(1.2, 2.4)
    start_phase = rng.uniform(0, 2 * np.pi)
    sweep = 0.5 * (1 - np.cos(2 * np.pi * _times(n, sample_rate) / sweep_period + start_phase))
    freq = low + (high - low) * sweep
    return _peak_normalised(_harmonic_stack(freq, [1.0, 0.35, 0.2], sample_rate))


def alarm_beeps(rng: np.random.Generator, duration_s: float, sample_rate: int) -> np.ndarray:
    n = _n_samples(duration_s, sample_rate)
    pitch = rng.uniform(800, 1100)
    beep_period = rng.uniform(0.18, 0.3)
    # Odd harmonics only: the hollow, square-wave timbre of a buzzer.
    tone = _harmonic_stack(np.full(n, pitch), [1.0, 0.0, 1 / 3, 0.0, 1 / 5, 0.0, 1 / 7], sample_rate)
    is_on = (_times(n, sample_rate) % beep_period) < 0.5 * beep_period
    return _peak_normalised(tone * _ramped_gate(is_on, sample_rate))


def clock_tick(rng: np.random.Generator, duration_s: float, sample_rate: int) -> np.ndarray:
    n = _n_samples(duration_s, sample_rate)
    click_pitch = rng.uniform(2500, 3500)
    grain_n = _n_samples(0.02, sample_rate)
    t = _times(grain_n, sample_rate)
    onsets = _regular_onsets(n, sample_rate, rng.uniform(0.45, 0.6), rng.uniform(0.0, 0.05))

    def click(i: int) -> np.ndarray:
        # Alternate a slightly lower "tock" so it reads as a mechanism, not a metronome.
        pitch = click_pitch * (1.0 if i % 2 == 0 else 0.8)
        ring = 0.6 * np.sin(2 * np.pi * pitch * t) * _decay(grain_n, sample_rate, rng.uniform(0.002, 0.004))
        snap = _band_noise(rng, grain_n, sample_rate, 1000, 7000) * _decay(grain_n, sample_rate, 0.001)
        return ring + snap

    return _peak_normalised(_scatter(n, ((onset, click(i)) for i, onset in enumerate(onsets))))


def engine(rng: np.random.Generator, duration_s: float, sample_rate: int) -> np.ndarray:
    n = _n_samples(duration_s, sample_rate)
    t = _times(n, sample_rate)
    idle = rng.uniform(28, 55)
    freq = idle * (1 + 0.01 * np.sin(2 * np.pi * rng.uniform(0.2, 0.5) * t))
    amplitudes = [rng.uniform(0.6, 1.0) / k**0.8 for k in range(1, 13)]
    drone = _harmonic_stack(freq, amplitudes, sample_rate)
    # A slight firing-rate flutter on top of the drone.
    flutter = 1 + rng.uniform(0.15, 0.3) * np.sin(2 * np.pi * rng.uniform(4, 12) * t)
    rumble = 0.3 * _band_noise(rng, n, sample_rate, 20, 400)
    return _peak_normalised(drone * flutter + rumble)


def rain(rng: np.random.Generator, duration_s: float, sample_rate: int) -> np.ndarray:
    n = _n_samples(duration_s, sample_rate)
    # More body than treble, as rain on a roof sounds; flat white noise reads as static.
    hiss = _band_noise(rng, n, sample_rate, 300, 2500) + 0.4 * _band_noise(rng, n, sample_rate, 2500, 7000)
    drop_n = _n_samples(0.004, sample_rate)
    drop_times = rng.uniform(0, n, size=int(rng.uniform(40, 100) * duration_s)).astype(int)
    drops = _scatter(
        n,
        (
            (onset, rng.uniform(0.3, 1.0) * rng.standard_normal(drop_n) * _decay(drop_n, sample_rate, 0.001))
            for onset in drop_times
        ),
    )
    return _peak_normalised(hiss + 0.8 * _peak_normalised(drops))


def chirping_birds(rng: np.random.Generator, duration_s: float, sample_rate: int) -> np.ndarray:
    n = _n_samples(duration_s, sample_rate)
    onsets = _grouped_onsets(rng, n, sample_rate, (3, 7), (0.07, 0.15), (0.2, 0.5))

    def chirp() -> np.ndarray:
        chirp_n = _n_samples(rng.uniform(0.04, 0.09), sample_rate)
        t = _times(chirp_n, sample_rate)
        start = rng.uniform(3000, 5000)
        sweep = rng.uniform(-1200, 1200) * t / t[-1]
        trill = rng.uniform(150, 400) * np.sin(2 * np.pi * rng.uniform(30, 60) * t)
        freq = np.clip(start + sweep + trill, 2000, 6500)
        return np.sin(2 * np.pi * np.cumsum(freq) / sample_rate) * np.hanning(chirp_n)

    return _peak_normalised(_scatter(n, ((onset, chirp()) for onset in onsets)))


def door_wood_knock(rng: np.random.Generator, duration_s: float, sample_rate: int) -> np.ndarray:
    n = _n_samples(duration_s, sample_rate)
    onsets = _grouped_onsets(rng, n, sample_rate, (2, 4), (0.12, 0.2), (0.5, 0.9))
    wood = rng.uniform(120, 220)
    grain_n = _n_samples(0.15, sample_rate)
    t = _times(grain_n, sample_rate)

    def knock() -> np.ndarray:
        body = np.sin(2 * np.pi * wood * t) + 0.5 * np.sin(2 * np.pi * wood * rng.uniform(2.2, 2.8) * t)
        impact = 0.6 * _band_noise(rng, grain_n, sample_rate, 200, 4000) * _decay(grain_n, sample_rate, 0.003)
        ringing = body * _decay(grain_n, sample_rate, rng.uniform(0.015, 0.03))
        return rng.uniform(0.7, 1.0) * (ringing + impact)

    return _peak_normalised(_scatter(n, ((onset, knock()) for onset in onsets)))


def phone_ring(rng: np.random.Generator, duration_s: float, sample_rate: int) -> np.ndarray:
    n = _n_samples(duration_s, sample_rate)
    t = _times(n, sample_rate)
    # The 440 + 480 Hz pair beats at 40 Hz: the warble everyone hears as "phone".
    tone = np.sin(2 * np.pi * 440 * t) + np.sin(2 * np.pi * 480 * t)
    burst_s, gap_s, pause_s = rng.uniform(0.35, 0.5), rng.uniform(0.15, 0.3), rng.uniform(0.5, 0.8)
    cycle_s = 2 * burst_s + gap_s + pause_s
    phase = t % cycle_s
    is_on = (phase < burst_s) | ((phase >= burst_s + gap_s) & (phase < 2 * burst_s + gap_s))
    return _peak_normalised(tone * _ramped_gate(is_on, sample_rate))


# Partials of a tuned church bell relative to its prime: hum, prime, minor third, fifth,
# nominal and the upper, slightly sharp partials that make it sound inharmonic.
BELL_PARTIAL_RATIOS = (0.5, 1.0, 1.19, 1.5, 2.0, 2.51, 2.66, 3.01, 4.1, 5.4, 6.6)
BELL_PARTIAL_LEVELS = (0.5, 1.0, 0.6, 0.4, 0.7, 0.4, 0.35, 0.3, 0.25, 0.15, 0.1)


def church_bells(rng: np.random.Generator, duration_s: float, sample_rate: int) -> np.ndarray:
    n = _n_samples(duration_s, sample_rate)
    prime = rng.uniform(300, 500)
    ring_s = rng.uniform(0.8, 1.6)
    onsets = _regular_onsets(n, sample_rate, rng.uniform(0.9, 1.5), rng.uniform(0.0, 0.05))

    def strike(onset: int) -> np.ndarray:
        # Each strike rings until the end of the event; lower partials ring longer.
        t = _times(n - onset, sample_rate)
        out = np.zeros(t.size)
        for ratio, level in zip(BELL_PARTIAL_RATIOS, BELL_PARTIAL_LEVELS):
            freq = prime * ratio * rng.uniform(0.998, 1.002)
            if freq < ALIAS_GUARD * sample_rate:
                out += level * np.sin(2 * np.pi * freq * t) * np.exp(-t * ratio**0.7 / ring_s)
        return out

    return _peak_normalised(_scatter(n, ((onset, strike(onset)) for onset in onsets)))


def whistle(rng: np.random.Generator, duration_s: float, sample_rate: int) -> np.ndarray:
    n = _n_samples(duration_s, sample_rate)
    t = _times(n, sample_rate)
    pitch = rng.uniform(1500, 2500)
    vibrato = rng.uniform(0.01, 0.025) * pitch * np.sin(2 * np.pi * rng.uniform(4.5, 7.0) * t)
    tone = np.sin(2 * np.pi * np.cumsum(pitch + vibrato) / sample_rate)
    breath = 0.05 * _band_noise(rng, n, sample_rate, pitch * 0.8, pitch * 1.2)
    return _peak_normalised(tone + breath)


def dog(rng: np.random.Generator, duration_s: float, sample_rate: int) -> np.ndarray:
    n = _n_samples(duration_s, sample_rate)
    onsets = _grouped_onsets(rng, n, sample_rate, (1, 3), (0.25, 0.35), (0.35, 0.7))
    voice = rng.uniform(450, 650)
    formants = (rng.uniform(800, 1200), rng.uniform(1800, 2600))

    def bark() -> np.ndarray:
        bark_n = _n_samples(rng.uniform(0.12, 0.2), sample_rate)
        t = _times(bark_n, sample_rate)
        freq = voice * rng.uniform(0.9, 1.1) * (1 - 0.25 * t / t[-1])
        # Harmonics weighted by two vocal-tract resonances give the "woof" vowel.
        resonance = [
            _resonance(k * voice, formants[0], 300) + 0.6 * _resonance(k * voice, formants[1], 400) + 0.05
            for k in range(1, 13)
        ]
        levels = [level / k**0.5 for k, level in enumerate(resonance, start=1)]
        voiced = _peak_normalised(_harmonic_stack(freq, levels, sample_rate))
        rasp = 0.3 * _band_noise(rng, bark_n, sample_rate, 500, 3000)
        envelope = np.minimum(1.0, t / 0.01) * _decay(bark_n, sample_rate, rng.uniform(0.05, 0.08))
        return (voiced + rasp) * envelope

    return _peak_normalised(_scatter(n, ((onset, bark()) for onset in onsets)))


def water_drops(rng: np.random.Generator, duration_s: float, sample_rate: int) -> np.ndarray:
    n = _n_samples(duration_s, sample_rate)
    n_drops = max(1, int(rng.uniform(2.5, 6.0) * duration_s))
    onsets = [int(rng.uniform(0, 0.05) * sample_rate)] + list(rng.integers(0, n, size=n_drops - 1))
    grain_n = _n_samples(0.12, sample_rate)
    t = _times(grain_n, sample_rate)

    def plop() -> np.ndarray:
        # A bubble's resonance rises as it closes: the upward glide is what says "plop".
        start = rng.uniform(900, 2000)
        freq = start * (1 + rng.uniform(0.3, 0.8) * np.minimum(1.0, t / rng.uniform(0.04, 0.08)))
        ring = np.sin(2 * np.pi * np.cumsum(freq) / sample_rate)
        return rng.uniform(0.5, 1.0) * ring * _decay(grain_n, sample_rate, rng.uniform(0.015, 0.04))

    return _peak_normalised(_scatter(n, ((onset, plop()) for onset in onsets)))


def footsteps(rng: np.random.Generator, duration_s: float, sample_rate: int) -> np.ndarray:
    n = _n_samples(duration_s, sample_rate)
    onsets = _regular_onsets(n, sample_rate, rng.uniform(0.45, 0.65), rng.uniform(0.0, 0.05))
    grain_n = _n_samples(0.2, sample_rate)
    t = _times(grain_n, sample_rate)
    toe_delay = _n_samples(rng.uniform(0.05, 0.08), sample_rate)

    def step(i: int) -> np.ndarray:
        # Hard heels: a bright clack, a short thud, then the toe; left and right differ a little.
        clack = _band_noise(rng, grain_n, sample_rate, 800, 5000) * _decay(grain_n, sample_rate, 0.008)
        thud = 0.5 * np.sin(2 * np.pi * rng.uniform(60, 110) * t) * _decay(grain_n, sample_rate, 0.03)
        heel = clack + thud
        toe = np.concatenate([np.zeros(toe_delay), 0.5 * clack[: grain_n - toe_delay]])
        return (1.0 if i % 2 == 0 else 0.8) * (heel + toe)

    return _peak_normalised(_scatter(n, ((onset, step(i)) for i, onset in enumerate(onsets))))


def crickets(rng: np.random.Generator, duration_s: float, sample_rate: int) -> np.ndarray:
    n = _n_samples(duration_s, sample_rate)
    t = _times(n, sample_rate)
    carrier = np.sin(2 * np.pi * rng.uniform(3800, 5000) * t)
    pulse_s, gap_s = rng.uniform(0.012, 0.02), rng.uniform(0.01, 0.015)
    pulses_per_chirp = int(rng.integers(3, 6))
    chirp_period = rng.uniform(0.25, 0.5)
    within_chirp = t % chirp_period
    pulse_index = within_chirp // (pulse_s + gap_s)
    is_on = (pulse_index < pulses_per_chirp) & (within_chirp % (pulse_s + gap_s) < pulse_s)
    return _peak_normalised(carrier * _ramped_gate(is_on, sample_rate, ramp_s=0.003))


def car_horn(rng: np.random.Generator, duration_s: float, sample_rate: int) -> np.ndarray:
    n = _n_samples(duration_s, sample_rate)
    low = rng.uniform(350, 450)
    brass = [1 / k for k in range(1, 16)]
    # Two horns a major third apart sound together, as on most cars.
    chord = _harmonic_stack(np.full(n, low), brass, sample_rate) + _harmonic_stack(
        np.full(n, low * rng.uniform(1.2, 1.3)), brass, sample_rate
    )
    is_on = np.zeros(n, dtype=bool)
    t = rng.uniform(0.0, 0.05)
    while t < duration_s:
        honk_s = rng.uniform(0.25, 0.9)
        is_on[_n_samples(t, sample_rate) : _n_samples(t + honk_s, sample_rate)] = True
        t += honk_s + rng.uniform(0.1, 0.3)
    return _peak_normalised(chord * _ramped_gate(is_on, sample_rate, ramp_s=0.02))


def _event_class(category: str, phrase: str, synth: Synth) -> EventClass:
    return EventClass(category=category, tag=category.replace("_", " "), phrase=phrase, synth=synth)


EVENT_CLASSES: tuple[EventClass, ...] = (
    _event_class("siren", "a siren wails", siren),
    _event_class("alarm_beeps", "an alarm beeps", alarm_beeps),
    _event_class("clock_tick", "a clock ticks", clock_tick),
    _event_class("engine", "an engine hums", engine),
    _event_class("rain", "rain falls", rain),
    _event_class("chirping_birds", "birds chirp", chirping_birds),
    _event_class("door_wood_knock", "someone knocks on a door", door_wood_knock),
    _event_class("phone_ring", "a phone rings", phone_ring),
    _event_class("church_bells", "church bells ring", church_bells),
    _event_class("whistle", "someone whistles", whistle),
    _event_class("dog", "a dog barks", dog),
    _event_class("water_drops", "water drips", water_drops),
    _event_class("footsteps", "footsteps clack", footsteps),
    _event_class("crickets", "crickets chirp", crickets),
    _event_class("car_horn", "a car horn honks", car_horn),
)


def demo_vocabulary() -> list[str]:
    return [event_class.tag for event_class in EVENT_CLASSES]


# --- captions --------------------------------------------------------------------------


def caption_for(phrases: Sequence[str], template: int) -> str:
    """An AudioCaps-like sentence naming every phrase, in the order given (onset order)."""
    if len(phrases) == 1:
        sentence = phrases[0]
    elif len(phrases) == 2:
        first, second = phrases
        sentence = (f"{first} while {second}", f"{first} as {second}", f"{first} and {second}")[template % 3]
    else:
        head, rest = phrases[0], list(phrases[1:])
        listed = ", ".join(rest[:-1]) + f" and {rest[-1]}"
        sentence = (f"{head} while {listed}", f"{head} as {listed}", f"{head}, {listed}")[template % 3]
    return sentence[0].upper() + sentence[1:]


# --- planning --------------------------------------------------------------------------


def _validate(config: DemoCorpusConfig) -> None:
    problems = []
    if config.n_clips < 1:
        problems.append("n_clips must be >= 1")
    if config.sample_rate < 8000:
        problems.append("sample_rate must be >= 8000")
    if config.clip_seconds <= 0:
        problems.append("clip_seconds must be > 0")
    for name in ("multi_event_fraction", "test_fraction"):
        if not 0.0 <= getattr(config, name) <= 1.0:
            problems.append(f"{name} must lie in [0, 1]")
    if config.max_events < 1:
        problems.append("max_events must be >= 1")
    if problems:
        raise ValueError(f"DemoCorpusConfig: {'; '.join(problems)}")


def _place_events(
    rng: np.random.Generator, class_indices: Iterable[int], config: DemoCorpusConfig
) -> tuple[PlacedEvent, ...]:
    clip_n = _n_samples(config.clip_seconds, config.sample_rate)
    events = []
    for class_index in class_indices:
        n_samples = _n_samples(rng.uniform(MIN_EVENT_FRACTION, 1.0) * config.clip_seconds, config.sample_rate)
        # Whole milliseconds, so the onsets written to events.csv are exact, not rounded.
        latest_ms = int((clip_n - n_samples) * 1000 / config.sample_rate)
        onset_ms = int(rng.integers(0, latest_ms + 1))
        onset_sample = int(round(onset_ms * config.sample_rate / 1000))
        gain_db = round(float(rng.uniform(*GAIN_RANGE_DB)), 1)
        events.append(PlacedEvent(int(class_index), onset_sample, n_samples, gain_db))
    return tuple(sorted(events, key=lambda event: (event.onset_sample, event.class_index)))


def _single_event_classes(rng: np.random.Generator, n_single: int) -> list[int]:
    """Balanced classes whose first len(EVENT_CLASSES) entries cover every class once."""
    order: list[int] = []
    while len(order) < n_single:
        order.extend(int(i) for i in rng.permutation(len(EVENT_CLASSES)))
    return order[:n_single]


def _unique_ids(rng: np.random.Generator, n: int) -> list[int]:
    # Six digits, like real ESC-50 source files and AudioCaps ids.
    return [int(i) + 100_000 for i in rng.choice(900_000, size=n, replace=False)]


def _youtube_ids(rng: np.random.Generator, n: int) -> list[str]:
    letters = rng.integers(0, len(YOUTUBE_ID_ALPHABET), size=(n, 11))
    return ["".join(YOUTUBE_ID_ALPHABET[i] for i in row) for row in letters]


def _esc50_plans(rng: np.random.Generator, n_single: int, config: DemoCorpusConfig) -> list[ClipPlan]:
    classes = _single_event_classes(rng, n_single)
    # The first clip of every class stays in a train fold, so each class can be learned.
    n_test = min(round(n_single * config.test_fraction), max(0, n_single - len(EVENT_CLASSES)))
    src_files = _unique_ids(rng, n_single)
    plans = []
    for position, (class_index, src_file) in enumerate(zip(classes, src_files)):
        is_test = position >= n_single - n_test
        fold = ESC50_TEST_FOLD if is_test else ESC50_TRAIN_FOLDS[position % len(ESC50_TRAIN_FOLDS)]
        category = EVENT_CLASSES[class_index].category
        filename = f"{fold}-{src_file}-A-{class_index}.wav"
        plans.append(
            ClipPlan(
                index=position,
                layout="esc50",
                split="test" if is_test else "train",
                audio_path=f"esc50/audio/{filename}",
                events=_place_events(rng, [class_index], config),
                esc50_row=(filename, str(fold), str(class_index), category, "False", str(src_file), "A"),
                audiocaps_row=None,
            )
        )
    return plans


def _audiocaps_splits(n_multi: int, test_fraction: float) -> list[str]:
    n_test = round(n_multi * test_fraction)
    n_val = min(round(n_multi * AUDIOCAPS_VAL_FRACTION), n_multi - n_test)
    return ["train"] * (n_multi - n_test - n_val) + ["val"] * n_val + ["test"] * n_test


def _audiocaps_plans(
    rng: np.random.Generator, n_multi: int, first_index: int, config: DemoCorpusConfig
) -> list[ClipPlan]:
    most_events = min(config.max_events, len(EVENT_CLASSES))
    caption_ids = _unique_ids(rng, n_multi)
    youtube_ids = _youtube_ids(rng, n_multi)
    plans = []
    for offset, (split, caption_id, youtube_id) in enumerate(
        zip(_audiocaps_splits(n_multi, config.test_fraction), caption_ids, youtube_ids)
    ):
        n_events = int(rng.integers(2, most_events + 1))
        events = _place_events(rng, rng.choice(len(EVENT_CLASSES), size=n_events, replace=False), config)
        phrases = [EVENT_CLASSES[event.class_index].phrase for event in events]
        caption = caption_for(phrases, template=int(rng.integers(0, 3)))
        start_time = 10 * int(rng.integers(0, 30))
        plans.append(
            ClipPlan(
                index=first_index + offset,
                layout="audiocaps",
                split=split,
                audio_path=f"audiocaps/audio/Y{youtube_id}.wav",
                events=events,
                esc50_row=None,
                audiocaps_row=(str(caption_id), youtube_id, str(start_time), caption),
            )
        )
    return plans


def plan_corpus(config: DemoCorpusConfig) -> tuple[ClipPlan, ...]:
    """Every clip's layout, split, file name, events and metadata row; no audio yet."""
    _validate(config)
    rng = np.random.default_rng([config.seed, 0])
    n_multi = round(config.n_clips * config.multi_event_fraction) if config.max_events >= 2 else 0
    n_single = config.n_clips - n_multi
    single = _esc50_plans(rng, n_single, config)
    return tuple(single + _audiocaps_plans(rng, n_multi, len(single), config))


# --- rendering and writing -------------------------------------------------------------


def _edge_faded(signal: np.ndarray, sample_rate: int) -> np.ndarray:
    """Short fades where an event is cut, so the cut itself is not heard as a click."""
    fade_n = min(_n_samples(EDGE_FADE_S, sample_rate), signal.size // 2)
    ramp = 0.5 * (1 - np.cos(np.pi * np.arange(fade_n) / fade_n))
    faded = signal.copy()
    faded[:fade_n] *= ramp
    faded[signal.size - fade_n :] *= ramp[::-1]
    return faded


def render_clip(plan: ClipPlan, config: DemoCorpusConfig) -> np.ndarray:
    """The clip as int16 PCM, peak-normalised to PEAK_DBFS."""
    mix = np.zeros(_n_samples(config.clip_seconds, config.sample_rate))
    for position, event in enumerate(plan.events):
        rng = np.random.default_rng([config.seed, 1, plan.index, position])
        synth = EVENT_CLASSES[event.class_index].synth
        wave = synth(rng, event.n_samples / config.sample_rate, config.sample_rate)
        wave = _edge_faded(wave, config.sample_rate)
        mix[event.onset_sample : event.onset_sample + event.n_samples] += 10 ** (event.gain_db / 20) * wave
    peak = 10 ** (PEAK_DBFS / 20)
    return np.round(_peak_normalised(mix, peak) * 32767).astype(np.int16)


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[str]]) -> Path:
    """A CSV file with Unix line ends, its folder made first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _events_row(plan: ClipPlan, sample_rate: int) -> tuple[str, ...]:
    return (
        plan.audio_path,
        plan.layout,
        plan.split,
        ";".join(EVENT_CLASSES[event.class_index].tag for event in plan.events),
        ";".join(f"{event.onset_sample / sample_rate:.3f}" for event in plan.events),
        ";".join(f"{event.gain_db:.1f}" for event in plan.events),
    )


def generate_demo_corpus(config: DemoCorpusConfig, out_dir: Path) -> DemoCorpusSummary:
    """Write the corpus under out_dir (see the module docstring for the layout)."""
    out_dir = Path(out_dir)
    plans = plan_corpus(config)
    for plan in plans:
        path = out_dir / plan.audio_path
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, render_clip(plan, config), config.sample_rate, subtype="PCM_16", format="WAV")

    esc50 = sorted(plan.esc50_row for plan in plans if plan.esc50_row is not None)
    write_csv(out_dir / "esc50" / "meta" / "esc50.csv", ESC50_HEADER, esc50)
    for split in SPLITS:
        rows = [plan.audiocaps_row for plan in plans if plan.layout == "audiocaps" and plan.split == split]
        write_csv(out_dir / "audiocaps" / f"{split}.csv", AUDIOCAPS_HEADER, rows)
    ordered = sorted(plans, key=lambda plan: plan.audio_path)
    truth = (_events_row(plan, config.sample_rate) for plan in ordered)
    write_csv(out_dir / "events.csv", EVENTS_HEADER, truth)

    tally = Counter((plan.layout, plan.split) for plan in plans)
    return DemoCorpusSummary(
        out_dir=out_dir,
        classes=tuple(demo_vocabulary()),
        counts={layout: {split: tally[layout, split] for split in SPLITS} for layout in LAYOUTS},
    )
