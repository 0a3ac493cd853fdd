"""Frozen LLM + trained adapter: the audio-aware LLM.

A prompt is tokenised with one audio slot per audio input (see ``prompts``); the LLM's
token embeddings are computed, and the adapter's outputs are scattered into the slot
positions, in order. Training puts the loss on the target tokens only.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch import nn
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from balsa_core.adapter import AdapterConfig, QFormerAdapter
from balsa_core.audio import load_audio
from balsa_core.backbones import inference_device, inference_dtype, load_encoder, load_llm
from balsa_core.features import encode_waveforms
from balsa_core.prompts import PromptTemplate, tokenize_audio_prompt

IGNORE_INDEX = -100
ADAPTER_WEIGHTS = "adapter.safetensors"
ADAPTER_CONFIG = "adapter_config.json"


@dataclass(frozen=True)
class Example:
    """One prompt with its audio inputs (each ``[layers, frames, dim]``) and optional target."""

    features: Sequence[torch.Tensor]
    instruction: str
    target: str | None = None


@dataclass(frozen=True)
class AudioLLMSpec:
    """Everything besides the weights needed to rebuild the model: saved beside the adapter."""

    adapter: AdapterConfig
    llm_path: str
    encoder_path: str
    encoder_layers: list[int]
    template: PromptTemplate
    encoder_window: str = "full"  # how the features it was trained on were encoded
    encoder_trim: bool = True

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> AudioLLMSpec:
        raw = json.loads(text)
        return cls(
            adapter=AdapterConfig(**raw["adapter"]),
            llm_path=raw["llm_path"],
            encoder_path=raw["encoder_path"],
            encoder_layers=list(raw["encoder_layers"]),
            template=PromptTemplate(**raw["template"]),
            encoder_window=raw.get("encoder_window", "full"),
            encoder_trim=raw.get("encoder_trim", True),
        )


@dataclass
class Listener:
    """The frozen Whisper encoder with the hidden-state layers the adapter reads."""

    encoder: nn.Module
    feature_extractor: object
    layers: list[int]
    window: str = "full"
    trim: bool = True

    @classmethod
    def load(cls, spec: AudioLLMSpec, device: torch.device | None = None) -> Listener:
        encoder, feature_extractor = load_encoder(spec.encoder_path)
        return cls(
            encoder.to(device or "cpu"),
            feature_extractor,
            list(spec.encoder_layers),
            spec.encoder_window,
            spec.encoder_trim,
        )

    def encode(self, waveforms: Sequence[np.ndarray]) -> list[torch.Tensor]:
        return encode_waveforms(
            self.encoder, self.feature_extractor, waveforms, self.layers, window=self.window, trim=self.trim
        )


def pad_features(features: Sequence[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack ``[L, T_i, D]`` tensors into ``[N, L, T_max, D]`` and a ``[N, T_max]`` frame mask."""
    longest = max(f.shape[1] for f in features)
    layers, _, dim = features[0].shape
    batch = torch.zeros(len(features), layers, longest, dim, dtype=torch.float32)
    mask = torch.zeros(len(features), longest, dtype=torch.bool)
    for i, f in enumerate(features):
        batch[i, :, : f.shape[1]] = f.float()
        mask[i, : f.shape[1]] = True
    return batch, mask


class AudioLLM(nn.Module):
    def __init__(
        self,
        llm: PreTrainedModel,
        tokenizer: PreTrainedTokenizerBase,
        adapter: QFormerAdapter,
        template: PromptTemplate,
        max_target_tokens: int = 256,
        listener: Listener | None = None,
    ) -> None:
        super().__init__()
        self.listener = listener
        self.llm = llm.eval().requires_grad_(False)
        self.tokenizer = tokenizer
        self.adapter = adapter
        self.template = template
        self.max_target_tokens = max_target_tokens
        if tokenizer.eos_token_id is None:
            raise ValueError("the tokenizer has no end-of-turn token to end targets with")

    def train(self, mode: bool = True) -> AudioLLM:
        # The frozen LLM stays in eval mode (no dropout) whatever the adapter does.
        super().train(mode)
        self.llm.eval()
        return self

    def _tokenize(self, example: Example) -> tuple[list[int], list[int], list[bool]]:
        prompt = tokenize_audio_prompt(
            self.tokenizer, self.template, example.instruction, len(example.features), self.adapter.config.num_queries
        )
        ids = list(prompt.input_ids)
        labels = [IGNORE_INDEX] * len(ids)
        if example.target is not None:
            target = self.tokenizer(example.target, add_special_tokens=False)["input_ids"][: self.max_target_tokens]
            target = target + [self.tokenizer.eos_token_id]
            ids += target
            labels += target
        audio = [False] * len(ids)
        for start, length in prompt.audio_slots:
            audio[start : start + length] = [True] * length
        return ids, labels, audio

    def collate(self, examples: Sequence[Example], padding_side: str = "right") -> dict[str, torch.Tensor]:
        rows = [self._tokenize(example) for example in examples]
        longest = max(len(ids) for ids, _, _ in rows)
        pad = self.tokenizer.pad_token_id
        batch = {name: [] for name in ("input_ids", "labels", "audio_mask", "attention_mask")}
        for ids, labels, audio in rows:
            fill = longest - len(ids)
            for name, values, filler in (
                ("input_ids", ids, pad),
                ("labels", labels, IGNORE_INDEX),
                ("audio_mask", audio, False),
                ("attention_mask", [1] * len(ids), 0),
            ):
                padded = values + [filler] * fill if padding_side == "right" else [filler] * fill + values
                batch[name].append(padded)
        tensors = {name: torch.tensor(values) for name, values in batch.items()}
        tensors["audio_mask"] = tensors["audio_mask"].bool()
        tensors["features"], tensors["frame_mask"] = pad_features([f for example in examples for f in example.features])
        return tensors

    def embed(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        embeddings = self.llm.get_input_embeddings()(batch["input_ids"])
        audio = self.adapter(batch["features"], batch["frame_mask"]).to(embeddings.dtype)
        slots = batch["audio_mask"].unsqueeze(-1).expand_as(embeddings)
        # Row-major order of the mask is example by example, slot by slot: the order of audio.
        return embeddings.masked_scatter(slots, audio.reshape(-1, audio.shape[-1]))

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Next-token loss on the target tokens: each example's mean, averaged over examples.

        Averaging per example (not over all tokens of the batch) makes the loss of a global
        batch independent of how it is cut into micro batches or split across processes.
        """
        logits = self.llm(inputs_embeds=self.embed(batch), attention_mask=batch["attention_mask"]).logits
        labels = batch["labels"][:, 1:]
        token_losses = F.cross_entropy(
            logits[:, :-1].float().transpose(1, 2), labels, ignore_index=IGNORE_INDEX, reduction="none"
        )
        counted = (labels != IGNORE_INDEX).float()
        per_example = (token_losses * counted).sum(dim=1) / counted.sum(dim=1).clamp(min=1)
        return per_example.mean()

    @torch.inference_mode()
    def generate(self, audios: Sequence[np.ndarray | str | Path], prompt: str, max_new_tokens: int = 128) -> str:
        """Answer ``prompt`` about one or several audio inputs (files, or 16 kHz mono waveforms),
        each in its own audio span; needs the encoder (``from_pretrained`` loads it)."""
        if self.listener is None:
            raise ValueError("this model has no encoder: build it with AudioLLM.from_pretrained(adapter_dir)")
        waveforms = [load_audio(audio) if isinstance(audio, (str, Path)) else audio for audio in audios]
        features = self.listener.encode(waveforms)
        return self.generate_batch([Example(features=features, instruction=prompt)], max_new_tokens)[0]

    @torch.inference_mode()
    def generate_batch(self, examples: Sequence[Example], max_new_tokens: int) -> list[str]:
        """Greedy answers, one per example of cached features."""
        device = next(self.adapter.parameters()).device
        batch = {name: tensor.to(device) for name, tensor in self.collate(examples, padding_side="left").items()}
        output = self.llm.generate(
            inputs_embeds=self.embed(batch),
            attention_mask=batch["attention_mask"],
            max_new_tokens=max_new_tokens,
            do_sample=False,
            temperature=None,
            top_p=None,
            top_k=None,
            pad_token_id=self.tokenizer.pad_token_id,
        )
        return [text.strip() for text in self.tokenizer.batch_decode(output, skip_special_tokens=True)]

    @classmethod
    def from_pretrained(cls, adapter_dir: Path | str, with_encoder: bool = True) -> tuple[AudioLLM, AudioLLMSpec]:
        """The trained model rebuilt from an adapter directory alone: its config names the
        backbone LLM and the Whisper encoder (leave the encoder out to answer from cached features)."""
        adapter, spec = load_adapter(adapter_dir)
        device = inference_device()
        llm, tokenizer = load_llm(spec.llm_path, dtype=inference_dtype(device))
        listener = Listener.load(spec, device) if with_encoder else None
        return cls(llm.to(device), tokenizer, adapter.to(device), spec.template, listener=listener), spec

    def save_adapter(self, directory: Path, spec: AudioLLMSpec) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        save_file(
            {k: v.detach().contiguous() for k, v in self.adapter.state_dict().items()}, directory / ADAPTER_WEIGHTS
        )
        (directory / ADAPTER_CONFIG).write_text(spec.to_json() + "\n")


def load_adapter(directory: Path | str) -> tuple[QFormerAdapter, AudioLLMSpec]:
    directory = Path(directory)
    spec = AudioLLMSpec.from_json((directory / ADAPTER_CONFIG).read_text())
    adapter = QFormerAdapter(spec.adapter)
    adapter.load_state_dict(load_file(directory / ADAPTER_WEIGHTS))
    return adapter.eval(), spec
