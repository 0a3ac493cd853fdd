"""The baseline audio LLMs of Tables IV and V (Qwen2-Audio-Instruct, SALMONN, LTU, ...) behind
OpenAI-compatible chat endpoints (``evaluation.baselines``), as vLLM serves Qwen2-Audio.

Each item is one chat request: its clip as base64 WAV in an ``input_audio`` part, then exactly the
prompt the adapters are asked, with the same greedy decoding and token budget; the replies are
scored as the adapters' are. The clip is the item's window (offset and duration) at 16 kHz mono,
16-bit PCM, the rate these models' Whisper-style encoders take (a server resamples any other).
"""

from __future__ import annotations

import io
import logging
from dataclasses import asdict

import pandas as pd
import soundfile as sf

from balsa_core.audio import clip_window, load_audio
from balsa_core.generation.backend import SamplingSettings
from balsa_core.generation.http_backend import OpenAICompatibleBackend, audio_content
from balsa_core.settings import Endpoint

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
# Items encoded and sent per round: a round holds its clips' WAVs in memory (a 30 s clip is about
# 1.3 MB in base64), so a benchmark of thousands of items is not held at once.
ITEMS_PER_ROUND = 256


def clip_wav(audio_path: str, offset_s: float, duration_s: float | None) -> bytes:
    """The window ``offset_s`` .. ``offset_s + duration_s`` of a clip (to its end when None) as a
    16 kHz mono 16-bit WAV file."""
    waveform = load_audio(audio_path, SAMPLE_RATE, offset_s, duration_s)
    buffer = io.BytesIO()
    sf.write(buffer, waveform, SAMPLE_RATE, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def answer_with_endpoint(endpoint: Endpoint, items: pd.DataFrame, max_new_tokens: int) -> list[str]:
    """Each item's clip (``audio_path``, ``offset_s``, ``duration_s``) and ``prompt`` to the
    endpoint's model, with greedy decoding; the replies in item order."""
    backend = OpenAICompatibleBackend(**asdict(endpoint))
    replies: list[str] = []
    for start in range(0, len(items), ITEMS_PER_ROUND):
        round_items = items.iloc[start : start + ITEMS_PER_ROUND]
        # A clip's window is read and encoded once per round, however many items ask about it.
        wavs: dict[tuple[str, float, float | None], bytes] = {}
        messages = []
        for item in round_items.itertuples(index=False):
            window = (item.audio_path, *clip_window(item.offset_s, item.duration_s))
            if window not in wavs:
                wavs[window] = clip_wav(*window)
            messages.append(audio_content(wavs[window], item.prompt))
        # Message i of the round samples with seed start + i: each item keeps its seed whatever the rounds.
        settings = SamplingSettings(max_new_tokens=max_new_tokens, temperature=0.0, seed=start)
        replies += [completion.text for completion in backend.generate(messages, settings)]
        log.info("%s: answered %d/%d items", endpoint.model, len(replies), len(items))
    return replies
