"""Equation 1 of the papers, rendered through the backbone's own chat template.

    P_final = [Begin of audio] P_seed [End of audio] P_gen

For target generation ``P_seed`` is text (a caption or a tag list). For training and
inference the same prompt is tokenised with an *audio slot* in place of the seed: a run of
placeholder positions that the adapter's outputs fill. Both paths share one template, so the
adapter learns to stand in for exactly the text the backbone saw when it wrote the targets.

The template also holds the system message (``prompts.system_message``), so that targets are
written, the adapter trained and the models evaluated under the same system turn.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # only annotations: the generation backends import this module cheaply
    from transformers import PreTrainedTokenizerBase

# A user turn: text, or OpenAI content parts (``http_backend.audio_content``: audio, then text).
UserContent = str | list[dict[str, Any]]
# A string no tokenizer will produce from ordinary text; the rendered chat is split on it.
_AUDIO_SENTINEL = "\u241eBALSA_AUDIO\u241e"


@dataclass(frozen=True)
class PromptTemplate:
    begin_audio: str = "[Begin of audio]"
    end_audio: str = "[End of audio]"
    # None: whatever the chat template writes without a system message (SmolLM2 inserts its
    # default one, Llama-3.1 its dated header); "": an empty system turn; text: that message.
    system_message: str | None = None

    def user_message(self, seeds: Sequence[str], instruction: str) -> str:
        """The user turn: one [Begin/End of audio] span per seed, then the instruction."""
        if len(seeds) == 1:
            spans = [f"{self.begin_audio} {seeds[0]} {self.end_audio}"]
        else:
            spans = [
                f"{_numbered(self.begin_audio, i)} {seed} {_numbered(self.end_audio, i)}"
                for i, seed in enumerate(seeds, start=1)
            ]
        return " ".join(spans + [instruction])


def _numbered(marker: str, index: int) -> str:
    """'[Begin of audio]' -> '[Begin of audio1]' (Equation 2's multi-audio markers)."""
    return f"{marker[:-1]}{index}{marker[-1]}" if marker.endswith("]") else f"{marker}{index}"


def chat_messages(user_message: UserContent, system_message: str | None = None) -> list[dict[str, Any]]:
    """The single-turn chat every backend renders (see ``PromptTemplate.system_message``); an
    OpenAI-compatible server also takes the user turn as content parts (audio, then text)."""
    system = [] if system_message is None else [{"role": "system", "content": system_message}]
    return [*system, {"role": "user", "content": user_message}]


def render_chat(tokenizer: PreTrainedTokenizerBase, user_message: str, system_message: str | None = None) -> str:
    return tokenizer.apply_chat_template(
        chat_messages(user_message, system_message), tokenize=False, add_generation_prompt=True
    )


@dataclass(frozen=True)
class AudioPrompt:
    """Token ids of a prompt whose audio slots are runs of placeholder ids."""

    input_ids: list[int]
    audio_slots: list[tuple[int, int]]  # (start, length) of each audio span, in order


def tokenize_audio_prompt(
    tokenizer: PreTrainedTokenizerBase,
    template: PromptTemplate,
    instruction: str,
    num_audios: int,
    tokens_per_audio: int,
) -> AudioPrompt:
    message = template.user_message([_AUDIO_SENTINEL] * num_audios, instruction)
    pieces = render_chat(tokenizer, message, template.system_message).split(_AUDIO_SENTINEL)
    if len(pieces) != num_audios + 1:
        raise ValueError("the chat template altered the audio placeholder; cannot place audio")
    placeholder = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    input_ids: list[int] = []
    slots: list[tuple[int, int]] = []
    for index, piece in enumerate(pieces):
        input_ids.extend(tokenizer(piece, add_special_tokens=False)["input_ids"])
        if index < num_audios:
            slots.append((len(input_ids), tokens_per_audio))
            input_ids.extend([placeholder] * tokens_per_audio)
    return AudioPrompt(input_ids=input_ids, audio_slots=slots)
