"""The audio modality adapter of BALSa/LISTEN: the only part of the model that trains.

    Whisper hidden states of several layers  [B, L, T, D_enc]
      -> a LayerNorm per encoder layer (the frames' own normalisation)
      -> one Q-Former (learnable queries; each layer: self-attention over the queries,
         cross-attention to that encoder layer, feed-forward), shared across layers
      -> learnable softmax-weighted sum over the L layers      [B, Q, D_enc]
      -> linear projection to the LLM's embedding size          [B, Q, D_llm]

The Q outputs replace the seed span of the prompt. At paper dimensions (whisper-small
768 -> Llama-3.1-8B 4096, 2 layers, 64 queries) this is about 22M parameters.

Two choices keep the trained adapter listening (measured in docs/adapter_collapse.md): without
the input LayerNorm, raw encoder frames enter cross-attention, and within a few dozen steps
training drives the adapter to one audio-independent soft prompt; and the projection starts
at the LLM's own token-embedding scale (``output_rms``) instead of several times above it.
"""

from __future__ import annotations

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
        self.projection = nn.Linear(dim, config.llm_dim)
        if config.output_rms is not None:
            # The final LayerNorm gives unit-variance inputs, so this std gives outputs of RMS output_rms.
            nn.init.normal_(self.projection.weight, std=config.output_rms / dim**0.5)
            nn.init.zeros_(self.projection.bias)

    def forward(self, features: torch.Tensor, frame_mask: torch.Tensor | None = None) -> torch.Tensor:
        """``features [B, L, T, D_enc]``, ``frame_mask [B, T]`` (True = real frame) -> ``[B, Q, D_llm]``."""
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
        pooled = torch.einsum("l,blqd->bqd", weights, queries)
        return self.projection(pooled)


def count_parameters(config: AdapterConfig) -> int:
    """Trainable parameters for a config, without touching the LLM or the encoder."""
    with torch.device("meta"):
        return sum(p.numel() for p in QFormerAdapter(config).parameters())
