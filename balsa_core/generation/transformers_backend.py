"""Batched generation with transformers, left padded: the CPU default, and the reference the
other backends are checked against."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

import torch

from balsa_core.backbones import inference_device, inference_dtype, load_llm
from balsa_core.generation.backend import Completion, SamplingSettings, with_system_message
from balsa_core.prompts import render_chat

log = logging.getLogger(__name__)


class TransformersBackend:
    """Batched generation with left padding; deterministic for a given input list and seed."""

    def __init__(self, model_path: str, batch_size: int = 16, system_message: str | None = None) -> None:
        self.model_name = model_path
        self.batch_size = batch_size
        self.system_message = system_message
        device = inference_device()
        self.model, self.tokenizer = load_llm(model_path, dtype=inference_dtype(device))
        self.model.to(device)
        self.tokenizer.padding_side = "left"

    @property
    def identity(self) -> dict[str, Any]:
        # Batch composition decides which prompts share a sampling seed, so it is part of it.
        identity = {"type": "transformers", "model": self.model_name, "batch_size": self.batch_size}
        return with_system_message(identity, self.system_message)

    def render(self, user_message: str) -> str:
        """The text the backbone continues: its chat template around the message, with the
        system message, as training and evaluation render it (``prompts.render_chat``)."""
        return render_chat(self.tokenizer, user_message, self.system_message)

    def generate(self, user_messages: Sequence[str], settings: SamplingSettings) -> list[Completion]:
        prompts = [self.render(message) for message in user_messages]
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
        batch = self.tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False).to(
            self.model.device
        )
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
