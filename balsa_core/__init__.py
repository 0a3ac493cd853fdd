"""balsa: a Q-Former audio adapter between a frozen Whisper encoder and a frozen LLM.

``from balsa_core import AudioLLM`` loads torch and transformers only when it is asked for, so
that the command line and the workflow's table jobs start without them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from balsa_core.audio_llm import AudioLLM

__all__ = ["AudioLLM"]


def __getattr__(name: str) -> object:
    if name == "AudioLLM":
        from balsa_core.audio_llm import AudioLLM

        return AudioLLM
    raise AttributeError(f"module 'balsa_core' has no attribute {name!r}")
