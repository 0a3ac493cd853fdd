"""The backbone LLM writes its own training targets (BALSa), behind one backend interface.

A backend takes user messages (Equation 1 prompts, already containing the seed text) and
returns one completion per message. The transformers backend runs anywhere, CPU included;
other backends (vLLM for paper scale) implement the same protocol.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import torch

from balsa_core.backbones import load_llm
from balsa_core.prompts import PromptTemplate, render_chat

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SamplingSettings:
    max_new_tokens: int
    temperature: float = 0.0  # 0 means greedy decoding
    top_p: float = 1.0
    seed: int = 0


@dataclass(frozen=True)
class Completion:
    text: str
    num_tokens: int
    finished: bool  # ended with end-of-turn rather than at max_new_tokens


class GenerationBackend(Protocol):
    model_name: str

    def generate(self, user_messages: Sequence[str], settings: SamplingSettings) -> list[Completion]: ...


class TransformersBackend:
    """Batched generation with left padding; deterministic for a given input list and seed."""

    def __init__(self, model_path: str, batch_size: int = 16) -> None:
        self.model_name = model_path
        self.batch_size = batch_size
        self.model, self.tokenizer = load_llm(model_path)
        self.tokenizer.padding_side = "left"

    def generate(self, user_messages: Sequence[str], settings: SamplingSettings) -> list[Completion]:
        prompts = [render_chat(self.tokenizer, message) for message in user_messages]
        # Batching prompts of similar length wastes less compute on padding.
        order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
        completions: list[Completion | None] = [None] * len(prompts)
        started, done = time.perf_counter(), 0
        for batch_index, start in enumerate(range(0, len(order), self.batch_size)):
            indices = order[start : start + self.batch_size]
            torch.manual_seed(settings.seed + batch_index)
            for index, completion in zip(indices, self._generate_batch([prompts[i] for i in indices], settings)):
                completions[index] = completion
            done += len(indices)
            rate = done / (time.perf_counter() - started)
            log.info("generated %d/%d (%.2f prompts/s)", done, len(prompts), rate)
        return [completion for completion in completions if completion is not None]

    @torch.inference_mode()
    def _generate_batch(self, prompts: list[str], settings: SamplingSettings) -> list[Completion]:
        batch = self.tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
        sampling = settings.temperature > 0
        output = self.model.generate(
            **batch,
            max_new_tokens=settings.max_new_tokens,
            do_sample=sampling,
            temperature=settings.temperature if sampling else None,
            top_p=settings.top_p if sampling else None,
            top_k=None,
            pad_token_id=self.tokenizer.pad_token_id,
        )
        new_tokens = output[:, batch["input_ids"].shape[1] :]
        return [self._completion(row) for row in new_tokens]

    def _completion(self, token_ids: torch.Tensor) -> Completion:
        eos = self.tokenizer.eos_token_id
        ids = token_ids.tolist()
        finished = eos in ids
        if finished:
            ids = ids[: ids.index(eos)]
        ids = [i for i in ids if i != self.tokenizer.pad_token_id]
        text = self.tokenizer.decode(ids, skip_special_tokens=True).strip()
        return Completion(text=text, num_tokens=len(ids), finished=finished)


def make_backend(name: str, model_path: str, batch_size: int) -> GenerationBackend:
    if name == "transformers":
        return TransformersBackend(model_path, batch_size=batch_size)
    raise ValueError(f"unknown generation backend {name!r}; known: transformers")


TARGETS_SCHEMA = pa.schema(
    [
        ("target_id", pa.string()),
        ("seed_id", pa.string()),
        ("clip_id", pa.string()),
        ("corpus", pa.string()),
        ("split", pa.string()),
        ("prompt_kind", pa.string()),
        ("sample_index", pa.int32()),
        ("instruction", pa.string()),
        ("prompt", pa.string()),
        ("target", pa.string()),
        ("target_tokens", pa.int32()),
        ("finished", pa.bool_()),
        ("model", pa.string()),
        ("backend", pa.string()),
        ("temperature", pa.float64()),
        ("top_p", pa.float64()),
        ("max_new_tokens", pa.int32()),
        ("seed", pa.int64()),
    ]
)


def generate_targets(
    metadata: pd.DataFrame,
    backend: GenerationBackend,
    backend_name: str,
    template: PromptTemplate,
    prompt_kind: str,
    instruction: str,
    samples_per_seed: int,
    settings: SamplingSettings,
    splits: Sequence[str],
) -> pd.DataFrame:
    """One row per (seed, sample): the prompt the backbone saw and what it answered."""
    seeds = metadata[metadata["split"].isin(splits)].reset_index(drop=True)
    requests = seeds.loc[seeds.index.repeat(samples_per_seed)].reset_index(drop=True)
    requests["sample_index"] = requests.groupby("seed_id").cumcount()
    requests["prompt"] = [template.user_message([seed], instruction) for seed in requests["seed_text"]]
    completions = backend.generate(list(requests["prompt"]), settings)
    targets = pd.DataFrame(
        {
            "target_id": requests["seed_id"] + f"|{prompt_kind}|" + requests["sample_index"].astype(str),
            "seed_id": requests["seed_id"],
            "clip_id": requests["clip_id"],
            "corpus": requests["corpus"],
            "split": requests["split"],
            "prompt_kind": prompt_kind,
            "sample_index": requests["sample_index"],
            "instruction": instruction,
            "prompt": requests["prompt"],
            "target": [c.text for c in completions],
            "target_tokens": [c.num_tokens for c in completions],
            "finished": [c.finished for c in completions],
            "model": backend.model_name,
            "backend": backend_name,
            "temperature": settings.temperature,
            "top_p": settings.top_p,
            "max_new_tokens": settings.max_new_tokens,
            "seed": settings.seed,
        }
    )
    return targets


def write_targets(targets: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pandas(targets[TARGETS_SCHEMA.names], schema=TARGETS_SCHEMA, preserve_index=False)
    pq.write_table(table, path)


def read_targets(path: Path | str) -> pd.DataFrame:
    return pq.read_table(path, schema=TARGETS_SCHEMA).to_pandas()
