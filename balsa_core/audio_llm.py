"""Frozen LLM + trained adapter: the audio-aware LLM.

A prompt is tokenised with one audio slot per audio input (see ``prompts``); the LLM's
token embeddings are computed, and the adapter's outputs are scattered into the slot
positions, in order. Training puts the loss on the target tokens only.

The training forward spends no FLOPs that cannot change the loss: the prompt prefix before the
first audio slot is the same for every example and independent of the adapter, so its keys and
values are computed once (no gradient) and reused; the LM head runs only where a target token is
predicted; and micro batches are cut from length-sorted examples, so little is padding.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch import nn
from transformers import DynamicCache, PreTrainedModel, PreTrainedTokenizerBase

from balsa_core.adapter import AdapterConfig, QFormerAdapter
from balsa_core.audio import load_audio
from balsa_core.backbones import download_hub_model, inference_device, inference_dtype, load_encoder, load_llm
from balsa_core.features import encode_waveforms
from balsa_core.prompts import PromptTemplate, tokenize_audio_prompt

IGNORE_INDEX = -100
# Config fields of backbones whose logits are more than the output embedding of the last hidden
# state; the training forward applies the head itself, so it refuses them.
_LOGIT_TRANSFORMS = ("final_logit_softcapping", "logit_scale")
ADAPTER_WEIGHTS = "adapter.safetensors"
# A name no other library looks for: PEFT claims adapter_config.json, transformers config.json.
ADAPTER_CONFIG = "balsa_adapter.json"
# What adapters saved before the rename called their config.
_FORMER_ADAPTER_CONFIG = "adapter_config.json"
MODEL_CARD = "README.md"


@dataclass(frozen=True)
class Example:
    """One prompt with its audio inputs (each ``[layers, frames, dim]``) and optional target."""

    features: Sequence[torch.Tensor]
    instruction: str
    target: str | None = None


@dataclass(frozen=True)
class AudioLLMSpec:
    """Everything besides the weights needed to rebuild the model: saved beside the adapter.

    A backbone is found by its absolute local path, or else, on another machine, by its hub id
    at the recorded commit.
    """

    adapter: AdapterConfig
    llm_path: str
    encoder_path: str
    encoder_layers: list[int]
    template: PromptTemplate
    encoder_window: str = "full"  # how the features it was trained on were encoded
    encoder_trim: bool = True
    llm_hub_id: str | None = None
    llm_commit: str | None = None
    encoder_hub_id: str | None = None
    encoder_commit: str | None = None
    # What it was trained on, for the model card: variant, target-set mix, corpora.
    training: dict[str, Any] | None = None

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
            llm_hub_id=raw.get("llm_hub_id"),
            llm_commit=raw.get("llm_commit"),
            encoder_hub_id=raw.get("encoder_hub_id"),
            encoder_commit=raw.get("encoder_commit"),
            training=raw.get("training"),
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
        encoder, feature_extractor = load_encoder(
            backbone_path(spec.encoder_path, spec.encoder_hub_id, spec.encoder_commit)
        )
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


def shared_prefix_length(input_ids: torch.Tensor, audio_mask: torch.Tensor) -> int:
    """How many leading positions every row shares, stopping before the first audio slot: the
    part of a batch whose keys and values do not depend on the adapter or the example."""
    same = (input_ids == input_ids[:1]).all(dim=0) & ~audio_mask.any(dim=0)
    return int(same.long().cumprod(dim=0).sum())


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
        spec: AudioLLMSpec | None = None,
    ) -> None:
        super().__init__()
        self.listener = listener
        # What from_pretrained rebuilt it from and save_pretrained writes (None: built by hand).
        self.spec = spec
        self.llm = llm.eval().requires_grad_(False)
        self.tokenizer = tokenizer
        self.adapter = adapter
        self.template = template
        self.max_target_tokens = max_target_tokens
        if tokenizer.eos_token_id is None:
            raise ValueError("the tokenizer has no end-of-turn token to end targets with")
        transforms = [name for name in _LOGIT_TRANSFORMS if getattr(llm.config, name, None)]
        if transforms:
            raise ValueError(f"the backbone transforms its logits ({', '.join(transforms)}); not supported")
        # Keys and values of shared prompt prefixes, by prefix (see _prefix_cache).
        self._prefix_caches: dict[tuple, DynamicCache] = {}

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
        return self._collate([self._tokenize(example) for example in examples], examples, padding_side)

    def length_sorted_batches(self, examples: Sequence[Example], size: int) -> list[dict[str, torch.Tensor]]:
        """``examples`` sorted by token count, cut into collated micro batches of ``size``.

        The loss is a mean per example and each example is weighted by its share of the global
        batch, so the order within a global batch changes nothing but the padding, which
        sorting all but removes.
        """
        rows = [self._tokenize(example) for example in examples]
        order = sorted(range(len(rows)), key=lambda index: len(rows[index][0]))
        chunks = [order[start : start + size] for start in range(0, len(order), size)]
        return [self._collate([rows[i] for i in chunk], [examples[i] for i in chunk]) for chunk in chunks]

    def _collate(
        self,
        rows: Sequence[tuple[list[int], list[int], list[bool]]],
        examples: Sequence[Example],
        padding_side: str = "right",
    ) -> dict[str, torch.Tensor]:
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
        device = next(self.adapter.parameters()).device
        return {name: tensor.to(device) for name, tensor in tensors.items()}

    def embed(self, batch: dict[str, torch.Tensor], start: int = 0) -> torch.Tensor:
        """Input embeddings of positions ``start:`` (all audio slots must lie there)."""
        embeddings = self.llm.get_input_embeddings()(batch["input_ids"][:, start:])
        audio = self.adapter(batch["features"], batch["frame_mask"]).to(embeddings.dtype)
        slots = batch["audio_mask"][:, start:].unsqueeze(-1).expand_as(embeddings)
        # Row-major order of the mask is example by example, slot by slot: the order of audio.
        return embeddings.masked_scatter(slots, audio.reshape(-1, audio.shape[-1]))

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Next-token loss on the target tokens: each example's mean, averaged over examples.

        Averaging per example (not over all tokens of the batch) makes the loss of a global
        batch independent of how it is cut into micro batches or split across processes.
        """
        return self.per_example_loss(batch).mean()

    def per_example_loss(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Each example's mean next-token loss on its target tokens, ``[B]``.

        Only what the loss depends on is computed: the shared prefix comes from the cache, the
        LLM runs on the rest, and the LM head only where the next token is a target.
        """
        start = shared_prefix_length(batch["input_ids"], batch["audio_mask"])
        rows = batch["input_ids"].shape[0]
        cache = self._prefix_cache(batch["input_ids"][0, :start], rows)
        embeddings = self.embed(batch, start)
        positions = torch.arange(start, batch["input_ids"].shape[1], device=embeddings.device).expand(rows, -1)
        hidden = self.llm.base_model(
            inputs_embeds=embeddings, attention_mask=batch["attention_mask"], position_ids=positions, cache=cache
        ).last_hidden_state
        # Position t predicts token t + 1.
        labels = batch["labels"][:, start + 1 :]
        counted = labels != IGNORE_INDEX
        logits = self.llm.get_output_embeddings()(hidden[:, :-1][counted])
        # At least fp32 for the log-softmax over the vocabulary; an fp64 model keeps fp64.
        logits = logits.to(torch.promote_types(logits.dtype, torch.float32))
        token_losses = F.cross_entropy(logits, labels[counted], reduction="none")
        row_of_token = torch.arange(rows, device=labels.device).unsqueeze(1).expand_as(labels)[counted]
        sums = torch.zeros(rows, dtype=token_losses.dtype, device=labels.device).index_add(
            0, row_of_token, token_losses
        )
        return sums / counted.sum(dim=1).clamp(min=1)

    def _prefix_cache(self, prefix_ids: torch.Tensor, rows: int) -> DynamicCache | None:
        """A fresh cache holding the keys and values of ``prefix_ids``, for ``rows`` examples.

        The frozen LLM makes them constant, so they are computed once per prefix (without
        gradient) and kept; the forward appends the rest of the sequence to the cache it is
        given, so every call gets a copy and the kept one never changes.
        """
        if not len(prefix_ids):
            return None
        device = prefix_ids.device
        # Tensors made under autocast or inference mode are kept apart from those made without.
        key = (
            tuple(prefix_ids.tolist()),
            str(device),
            self.llm.dtype,
            torch.is_autocast_enabled(device.type),
            torch.is_inference_mode_enabled(),
        )
        if key not in self._prefix_caches:
            with torch.no_grad():
                output = self.llm.base_model(input_ids=prefix_ids.unsqueeze(0), use_cache=True)
            self._prefix_caches[key] = output.cache
        cache = copy.deepcopy(self._prefix_caches[key])
        cache.batch_repeat_interleave(rows)
        return cache

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
        batch = self.collate(examples, padding_side="left")
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
    def from_pretrained(
        cls, path_or_hub_id: Path | str, revision: str | None = None, with_encoder: bool = True
    ) -> AudioLLM:
        """The trained model rebuilt from an adapter directory or a hub repository (at
        ``revision``) alone: its config names the backbone LLM and the Whisper encoder (leave the
        encoder out to answer from cached features). The config is the model's ``spec``."""
        adapter_dir = Path(path_or_hub_id)
        if not adapter_dir.is_dir():
            from huggingface_hub import snapshot_download

            adapter_dir = Path(snapshot_download(str(path_or_hub_id), revision=revision))
        weights, spec = load_adapter(adapter_dir)
        device = inference_device()
        llm, tokenizer = load_llm(
            backbone_path(spec.llm_path, spec.llm_hub_id, spec.llm_commit), dtype=inference_dtype(device)
        )
        listener = Listener.load(spec, device) if with_encoder else None
        return cls(llm.to(device), tokenizer, weights.to(device), spec.template, listener=listener, spec=spec)

    def save_adapter(self, directory: Path, spec: AudioLLMSpec) -> None:
        """The adapter's weights and ``spec``: all ``from_pretrained`` needs."""
        directory.mkdir(parents=True, exist_ok=True)
        save_file(
            {k: v.detach().contiguous() for k, v in self.adapter.state_dict().items()}, directory / ADAPTER_WEIGHTS
        )
        (directory / ADAPTER_CONFIG).write_text(spec.to_json() + "\n")

    def save_pretrained(self, directory: Path | str, results_dir: Path | str | None = None) -> None:
        """The adapter, its spec and a model card (with the model's rows of Tables IV and V when
        ``results_dir`` holds them): a directory ``from_pretrained`` and the hub both read."""
        if self.spec is None:
            raise ValueError("this model has no spec to save: build it with from_pretrained, or use save_adapter")
        directory = Path(directory)
        self.save_adapter(directory, self.spec)
        results = Path(results_dir) if results_dir is not None else None
        (directory / MODEL_CARD).write_text(model_card(self.spec, results))

    def push_to_hub(
        self, repo_id: str, results_dir: Path | str | None = None, private: bool | None = None, token: str | None = None
    ) -> str:
        """Upload what ``save_pretrained`` writes to the hub repository ``repo_id`` (created if
        missing) in one commit; returns the commit's URL."""
        import tempfile

        from huggingface_hub import HfApi

        api = HfApi(token=token)
        repo_id = api.create_repo(repo_id, private=private, exist_ok=True).repo_id
        with tempfile.TemporaryDirectory() as staging:
            self.save_pretrained(staging, results_dir)
            commit = api.upload_folder(repo_id=repo_id, folder_path=staging, commit_message="Upload balsa adapter")
        return str(commit)


def backbone_path(path: str, hub_id: str | None, commit: str | None) -> str:
    """Where a backbone of an adapter's spec is loaded from: its recorded local path when it is
    there, else its hub repository at the recorded commit (downloaded once into the hub cache)."""
    if Path(path).is_dir() or hub_id is None:
        return path
    return download_hub_model(hub_id, commit)[0]


def model_card(spec: AudioLLMSpec, results_dir: Path | None) -> str:
    """The hub model card of an adapter: its backbones, training data and, when ``results_dir``
    holds them, its rows of Tables IV and V."""
    training = spec.training or {}
    variant = training.get("variant")
    lines = [
        "---",
        "library_name: balsa",
        "tags: [audio, audio-language-model, q-former, whisper]",
        "---",
        "",
        f"# balsa audio adapter{f': {variant}' if variant else ''}",
        "",
        "A Q-Former adapter between a frozen Whisper encoder and a frozen LLM. Load it with:",
        "",
        "```python",
        "from balsa_core import AudioLLM",
        'model = AudioLLM.from_pretrained("<this repository or directory>")',
        'print(model.generate(["clip.wav"], "What do you hear?"))',
        "```",
        "",
        "## Backbones",
        "",
        "| role | model | revision |",
        "|---|---|---|",
        f"| LLM | {spec.llm_hub_id or spec.llm_path} | {spec.llm_commit or 'local checkpoint'} |",
        f"| encoder | {spec.encoder_hub_id or spec.encoder_path} | {spec.encoder_commit or 'local checkpoint'} |",
        "",
        f"The adapter reads encoder hidden states {spec.encoder_layers} ({spec.encoder_window} window).",
        "",
        "## Training data",
        "",
    ]
    if training:
        mix = ", ".join(f"{name}: {count}" for name, count in sorted(training.get("mix", {}).items()))
        lines += [
            f"Variant `{variant}`, trained on the corpora {', '.join(training.get('corpora', []))}.",
            f"Targets per training seed: {mix}.",
        ]
        if training.get("init_from"):
            lines.append(f"Stage 2 of the multi-audio curriculum, from the `{training['init_from']}` adapter.")
    else:
        lines.append("Not recorded (an adapter built by hand).")
    lines += ["", "## Results", ""]
    rows = (
        [_table_row(results_dir / f"{table}.csv", variant) for table in ("table4", "table5")]
        if results_dir and variant
        else []
    )
    for title, row in zip(("Table IV", "Table V"), rows):
        if row:
            lines += [
                f"{title}:",
                "",
                "| " + " | ".join(row) + " |",
                "|" + "---|" * len(row),
                "| " + " | ".join(row.values()) + " |",
                "",
            ]
    if not any(rows):
        lines.append("No evaluation results were saved with this adapter.")
    return "\n".join(lines) + "\n"


def _table_row(table: Path, model: str) -> dict[str, str]:
    """``model``'s row of a results table (column -> cell), empty when the table or row is missing."""
    if not table.exists():
        return {}
    import pandas as pd

    frame = pd.read_csv(table, keep_default_na=False)
    matches = frame[frame["model"] == model]
    return {column: str(value) for column, value in matches.iloc[0].items()} if len(matches) else {}


def load_adapter(directory: Path | str) -> tuple[QFormerAdapter, AudioLLMSpec]:
    directory = Path(directory)
    config = directory / ADAPTER_CONFIG
    if not config.exists() and (directory / _FORMER_ADAPTER_CONFIG).exists():
        config = directory / _FORMER_ADAPTER_CONFIG
    spec = AudioLLMSpec.from_json(config.read_text())
    adapter = QFormerAdapter(spec.adapter)
    adapter.load_state_dict(load_file(directory / ADAPTER_WEIGHTS))
    return adapter.eval(), spec
