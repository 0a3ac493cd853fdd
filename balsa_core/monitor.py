"""What training logs besides its own loss: a held-out validation loss, and a collapse monitor.

An adapter can lower its training loss without listening: it learns one soft prompt that suits
every clip (the answer format, the class prior) and the audio stops mattering. The monitor shows
that on a fixed probe batch of clips:

* ``probe_spread``: how much the adapter's outputs differ between clips, relative to their size
  (mean distance of each clip's outputs from the batch mean over the mean output norm). Near 0,
  every clip gets the same soft prompt.
* ``probe_norm_ratio``: the mean norm of an output token over the mean norm of the LLM's own
  token embeddings; far above 1, the soft prompt drowns the text around it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from balsa_core.audio_llm import AudioLLM, Example, pad_features


@dataclass(frozen=True)
class ProbeStats:
    spread: float
    norm_ratio: float


def output_spread(outputs: torch.Tensor) -> float:
    """``outputs [clips, queries, dim]`` -> mean ‖o_k − mean_k o‖ / mean ‖o_k‖ over clips (0: identical)."""
    if outputs.shape[0] < 2:
        raise ValueError("the spread between clips needs at least two clips")
    flat = outputs.flatten(1).float()
    deviation = (flat - flat.mean(dim=0)).norm(dim=1).mean()
    return float(deviation / flat.norm(dim=1).mean().clamp(min=1e-12))


def norm_ratio(outputs: torch.Tensor, embeddings: torch.Tensor) -> float:
    """Mean norm of an output token (``[..., dim]``) over the mean norm of a token embedding (``[vocab, dim]``)."""
    return float(outputs.float().norm(dim=-1).mean() / embeddings.float().norm(dim=-1).mean())


@torch.no_grad()
def probe_stats(model: AudioLLM, probe: Sequence[torch.Tensor]) -> ProbeStats:
    """Spread and norm ratio of the adapter's outputs on the ``probe`` clips' features (each
    ``[layers, frames, dim]``), with dropout off; the adapter's mode is restored afterwards."""
    was_training = model.adapter.training
    model.adapter.eval()
    device = next(model.adapter.parameters()).device
    features, frame_mask = pad_features(probe)
    outputs = model.adapter(features.to(device), frame_mask.to(device))
    model.adapter.train(was_training)
    embeddings = model.llm.get_input_embeddings().weight
    return ProbeStats(spread=output_spread(outputs), norm_ratio=norm_ratio(outputs, embeddings))


@torch.no_grad()
def validation_loss(model: AudioLLM, examples: Sequence[Example], micro_batch_size: int) -> float:
    """The mean per-example loss of ``examples``, with dropout off (the training loss's measure)."""
    if not examples:
        raise ValueError("no validation examples")
    was_training = model.adapter.training
    model.adapter.eval()
    device = next(model.adapter.parameters()).device
    total = 0.0
    for start in range(0, len(examples), micro_batch_size):
        chunk = examples[start : start + micro_batch_size]
        batch = {name: tensor.to(device) for name, tensor in model.collate(chunk).items()}
        total += float(model(batch)) * len(chunk)
    model.adapter.train(was_training)
    return total / len(examples)
