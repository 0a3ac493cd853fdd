"""The audio modality adapter of BALSa/LISTEN: the only part of the model that trains.

    Whisper hidden states of several layers  [B, L, T, D_enc]
      -> a LayerNorm per encoder layer (the frames' own normalisation)
      -> one Q-Former (learnable queries; each layer: self-attention over the queries,
         cross-attention to that encoder layer, feed-forward), shared across layers
      -> learnable softmax-weighted sum over the L layers      [B, Q, D_enc]
      -> minus the running mean of that sum over training clips (``center``)
      -> linear projection to the LLM's embedding size          [B, Q, D_llm]

The Q outputs replace the seed span of the prompt. At paper dimensions (whisper-small
768 -> Llama-3.1-8B 4096, 2 layers, 64 queries) this is about 22M parameters.

Why the centring (measured in docs/adapter_collapse.md): the pooled Q-Former outputs of all
clips share one large component. Adam moves every projection weight by about the learning rate
per step whatever its gradient's size, so a gradient that is the same for every clip (the
answer format, the class prior) moves each output by about learning rate x fan-in along that
shared component: within ten steps every clip gets the same soft prompt, several times the
LLM's embedding norm, and the audio no longer reaches the LLM. With the shared component
removed, the projection only ever sees how clips differ; what all clips share is learnt by a
per-query output offset, which Adam moves fan-in times more slowly. The mean starts from training clips
(``initialise_center``) and follows the Q-Former as it trains (``update_center``, once per
optimizer step); evaluation uses it as it was saved. The frames get a LayerNorm of their own
before cross-attention, and the projection starts at the LLM's token-embedding scale
(``output_rms``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class AdapterConfig:
    encoder_dim: int
    llm_dim: int
    num_encoder_layers: int  # how many hidden-state layers are fed in
    num_queries: int = 64
    num_layers: int = 2
    num_heads: int = 8
    ffn_ratio: int = 4
    dropout: float = 0.1
    # RMS of the LLM's token embeddings: the projection is initialised so the adapter's outputs
    # start at that scale (None: PyTorch's default initialisation).
    output_rms: float | None = None
    # Weight of each optimizer step's batch mean in the running mean that centres the pooled
    # features (0: the mean stays as initialised).
    center_momentum: float = 0.1


class Attention(nn.Module):
    def __init__(self, dim: int, num_heads: int, dropout: float) -> None:
        super().__init__()
        if dim % num_heads:
            raise ValueError(f"adapter.num_heads={num_heads} must divide the encoder dim {dim}")
        self.num_heads = num_heads
        self.dropout = dropout
        self.query = nn.Linear(dim, dim)
        self.key_value = nn.Linear(dim, 2 * dim)
        self.out = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, context: torch.Tensor, context_mask: torch.Tensor | None = None) -> torch.Tensor:
        batch, length, dim = x.shape
        q = self.query(x)
        k, v = self.key_value(context).chunk(2, dim=-1)
        q, k, v = (t.view(batch, -1, self.num_heads, dim // self.num_heads).transpose(1, 2) for t in (q, k, v))
        # context_mask: [B, T] True where the frame is real; broadcast over heads and queries.
        attn_mask = None if context_mask is None else context_mask[:, None, None, :]
        y = F.scaled_dot_product_attention(
            q, k, v, attn_mask=attn_mask, dropout_p=self.dropout if self.training else 0.0
        )
        return self.out(y.transpose(1, 2).reshape(batch, length, dim))


class QFormerLayer(nn.Module):
    """Pre-norm transformer decoder layer: queries attend to themselves, then to the audio."""

    def __init__(self, dim: int, num_heads: int, ffn_ratio: int, dropout: float) -> None:
        super().__init__()
        self.self_attention_norm = nn.LayerNorm(dim)
        self.self_attention = Attention(dim, num_heads, dropout)
        self.cross_attention_norm = nn.LayerNorm(dim)
        self.cross_attention = Attention(dim, num_heads, dropout)
        self.ffn_norm = nn.LayerNorm(dim)
        self.ffn = nn.Sequential(
            nn.Linear(dim, ffn_ratio * dim), nn.GELU(), nn.Dropout(dropout), nn.Linear(ffn_ratio * dim, dim)
        )
        self.dropout = nn.Dropout(dropout)

    def forward(self, queries: torch.Tensor, audio: torch.Tensor, audio_mask: torch.Tensor | None) -> torch.Tensor:
        x = self.self_attention_norm(queries)
        queries = queries + self.dropout(self.self_attention(x, x))
        queries = queries + self.dropout(self.cross_attention(self.cross_attention_norm(queries), audio, audio_mask))
        return queries + self.dropout(self.ffn(self.ffn_norm(queries)))


class QFormerAdapter(nn.Module):
    def __init__(self, config: AdapterConfig) -> None:
        super().__init__()
        self.config = config
        dim = config.encoder_dim
        self.queries = nn.Parameter(torch.randn(config.num_queries, dim) * 0.02)
        # Whisper's intermediate layers differ in scale and share large constant components.
        self.audio_norms = nn.ModuleList(nn.LayerNorm(dim) for _ in range(config.num_encoder_layers))
        self.layers = nn.ModuleList(
            QFormerLayer(dim, config.num_heads, config.ffn_ratio, config.dropout) for _ in range(config.num_layers)
        )
        self.final_norm = nn.LayerNorm(dim)
        # Zeros give equal weights after the softmax: no encoder layer is preferred at start.
        self.layer_weights = nn.Parameter(torch.zeros(config.num_encoder_layers))
        self.projection = nn.Linear(dim, config.llm_dim, bias=False)
        if config.output_rms is not None:
            # The final LayerNorm gives unit-variance inputs, so this std gives outputs of RMS output_rms.
            nn.init.normal_(self.projection.weight, std=config.output_rms / dim**0.5)
        # What every clip's soft prompt shares, per query: the projection's bias, one per query so
        # that moving the centre (per query) never changes the outputs.
        self.output_offsets = nn.Parameter(torch.zeros(config.num_queries, config.llm_dim))
        # Saved with the weights: evaluation centres as training last did.
        self.register_buffer("center", torch.zeros(config.num_queries, dim))
        # Sum and count of the pooled features seen since the last optimizer step (not saved).
        self._pending_sum: torch.Tensor | None = None
        self._pending_count = 0

    def forward(self, features: torch.Tensor, frame_mask: torch.Tensor | None = None) -> torch.Tensor:
        """``features [B, L, T, D_enc]``, ``frame_mask [B, T]`` (True = real frame) -> ``[B, Q, D_llm]``."""
        pooled = self.pooled(features, frame_mask)
        if self.training:
            batch_sum = pooled.detach().float().sum(dim=0)
            self._pending_sum = batch_sum if self._pending_sum is None else self._pending_sum + batch_sum
            self._pending_count += pooled.shape[0]
        return self.projection(pooled - self.center) + self.output_offsets

    def pooled(self, features: torch.Tensor, frame_mask: torch.Tensor | None = None) -> torch.Tensor:
        """The layer-weighted Q-Former outputs before centring, ``[B, Q, D_enc]``."""
        batch, num_layers, frames, dim = features.shape
        if num_layers != self.config.num_encoder_layers:
            raise ValueError(f"expected {self.config.num_encoder_layers} encoder layers, got {num_layers}")
        normalised = torch.stack([norm(features[:, i]) for i, norm in enumerate(self.audio_norms)], dim=1)
        # Fold layers into the batch: one shared Q-Former reads each layer separately.
        audio = normalised.reshape(batch * num_layers, frames, dim)
        mask = None if frame_mask is None else frame_mask.repeat_interleave(num_layers, dim=0)
        queries = self.queries.expand(batch * num_layers, -1, -1)
        for layer in self.layers:
            queries = layer(queries, audio, mask)
        queries = self.final_norm(queries).view(batch, num_layers, self.config.num_queries, dim)
        weights = torch.softmax(self.layer_weights, dim=0)
        return torch.einsum("l,blqd->bqd", weights, queries)

    @torch.no_grad()
    def initialise_center(self, features: torch.Tensor, frame_mask: torch.Tensor | None = None) -> None:
        """Centre on these clips' mean (dropout off) and, with ``output_rms``, rescale the
        projection so the centred outputs start at the LLM's token-embedding scale."""
        was_training = self.training
        self.eval()
        pooled = self.pooled(features, frame_mask)
        self.train(was_training)
        self.center.copy_(pooled.mean(dim=0))
        if self.config.output_rms is not None:
            rms = self.projection(pooled - self.center).pow(2).mean().sqrt()
            self.projection.weight.mul_(self.config.output_rms / rms.clamp(min=1e-12))

    @torch.no_grad()
    def update_center(self, reduce: Callable[[torch.Tensor], torch.Tensor] | None = None) -> None:
        """Move the centre towards the mean of the pooled features since the last call (once per
        optimizer step, so micro batching does not change it), and the output offsets by what
        that move takes off the projection's outputs: the adapter computes the same function,
        only the projection's next gradients see the new centre. ``reduce`` sums a tensor over
        the training processes, which then keep one centre."""
        if self._pending_sum is None:
            totals = torch.zeros(self.center.numel() + 1, device=self.center.device)
        else:
            count = torch.tensor([float(self._pending_count)], device=self.center.device)
            totals = torch.cat([self._pending_sum.reshape(-1), count])
        self._pending_sum, self._pending_count = None, 0
        if reduce is not None:
            totals = reduce(totals)
        if totals[-1] > 0:
            mean = (totals[:-1] / totals[-1]).view_as(self.center)
            moved = (mean - self.center) * self.config.center_momentum
            self.center.add_(moved)
            self.output_offsets.add_(self.projection(moved))


def count_parameters(config: AdapterConfig) -> int:
    """Trainable parameters for a config, without touching the LLM or the encoder."""
    with torch.device("meta"):
        return sum(p.numel() for p in QFormerAdapter(config).parameters())
