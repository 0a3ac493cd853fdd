"""Tiny randomly initialised backbones, built locally, so the whole DAG runs in seconds; and the
small adapter and training set the unit tests put on the tiny LLM."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd
import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import (
    LlamaConfig,
    LlamaForCausalLM,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    PreTrainedTokenizerFast,
    WhisperConfig,
    WhisperFeatureExtractor,
    WhisperModel,
)

from balsa_core.adapter import AdapterConfig, QFormerAdapter
from balsa_core.audio_llm import AudioLLM
from balsa_core.prompts import PromptTemplate

CHATML_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
SPECIAL_TOKENS = ["<pad>", "<|im_start|>", "<|im_end|>"]
_TRAINING_TEXT = [
    "[Begin of audio] a siren wails while birds chirp [End of audio] Replay the audio.",
    "Identify sounds that are absent as contrasting examples.",
    "Is there a sound of rain in the audio? Yes. No. Does the audio contain the sound of engine?",
    "Have you noticed the sound of clock tick in the audio? Can you hear the sound of dog in the audio?",
    "church bells, chirping birds, door wood knock, water drops, footsteps, crickets, phone ring, whistle",
]


def build_tokenizer() -> PreTrainedTokenizerFast:
    # Byte-level BPE encodes any string, so unseen words never fail.
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400, special_tokens=SPECIAL_TOKENS, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tokenizer.train_from_iterator(_TRAINING_TEXT, trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, pad_token="<pad>", eos_token="<|im_end|>", chat_template=CHATML_TEMPLATE
    )


def build_tiny_llm(out_dir: Path, seed: int = 0) -> Path:
    torch.manual_seed(seed)
    tokenizer = build_tokenizer()
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        tie_word_embeddings=True,
        # A wider init than the default 0.02 gives logits that the audio slots can move.
        initializer_range=0.3,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=tokenizer.convert_tokens_to_ids("<|im_start|>"),
    )
    LlamaForCausalLM(config).save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return out_dir


def build_tiny_whisper(out_dir: Path, seed: int = 0) -> Path:
    torch.manual_seed(seed)
    config = WhisperConfig(
        vocab_size=64,
        num_mel_bins=80,
        d_model=32,
        encoder_layers=2,
        encoder_attention_heads=4,
        encoder_ffn_dim=64,
        decoder_layers=1,
        decoder_attention_heads=4,
        decoder_ffn_dim=64,
        max_source_positions=1500,
        max_target_positions=32,
        pad_token_id=0,
        bos_token_id=1,
        eos_token_id=2,
        decoder_start_token_id=1,
    )
    WhisperModel(config).save_pretrained(out_dir)
    WhisperFeatureExtractor(feature_size=80).save_pretrained(out_dir)
    return out_dir


def tiny_audio_llm(llm: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, **adapter_settings: float) -> AudioLLM:
    """The tiny LLM behind a small adapter (four queries, four heads) over two layers of 32-dim
    features; ``adapter_settings`` (dropout, output_rms) replace the adapter's defaults."""
    config = AdapterConfig(
        encoder_dim=32,
        llm_dim=llm.config.hidden_size,
        num_encoder_layers=2,
        num_queries=4,
        num_heads=4,
        **adapter_settings,
    )
    return AudioLLM(llm, tokenizer, QFormerAdapter(config), PromptTemplate())


def replay_training_set(clip_ids: Iterable[str], targets: Iterable[str]) -> pd.DataFrame:
    """One single-audio training example per clip, in order: "Replay the audio." and its target."""
    clip_ids = list(clip_ids)
    return pd.DataFrame(
        {
            "clip_ids": [[clip] for clip in clip_ids],
            "instruction": ["Replay the audio."] * len(clip_ids),
            "target": list(targets),
        }
    )
