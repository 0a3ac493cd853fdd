"""Convert a CTranslate2 Whisper model (model.bin + tokenizer.json) into a transformers checkpoint."""

from __future__ import annotations

import json
import re
import struct
from collections.abc import Collection, Mapping
from pathlib import Path

import numpy as np
import torch
from transformers import (
    GenerationConfig,
    WhisperConfig,
    WhisperFeatureExtractor,
    WhisperForConditionalGeneration,
    WhisperProcessor,
    WhisperTokenizer,
)

FORMAT_VERSION = 6
SAMPLING_RATE = 16_000

_FLOAT32, _INT8, _INT16, _INT32, _FLOAT16, _BFLOAT16 = range(6)
_NUMPY_DTYPES: dict[int, np.dtype] = {
    _FLOAT32: np.dtype("<f4"),
    _INT8: np.dtype("i1"),
    _INT16: np.dtype("<i2"),
    _INT32: np.dtype("<i4"),
    _FLOAT16: np.dtype("<f2"),
    _BFLOAT16: np.dtype("<u2"),  # raw bits; numpy has no bfloat16
}
_DTYPE_CODES: dict[np.dtype, int] = {dtype: code for code, dtype in _NUMPY_DTYPES.items() if code != _BFLOAT16}

# Scalar flags of CTranslate2's TransformerDecoderSpec and the value under which the
# decoder is exactly transformers' Whisper decoder (GELU, pre-norm, unscaled embeddings).
_REQUIRED_FLAGS: dict[str, int] = {
    "decoder/activation": 3,  # ctranslate2.specs.Activation.GELU
    "decoder/alibi": 0,
    "decoder/pre_norm": 1,
    "decoder/scale_embeddings": 0,
    "decoder/start_from_zero_embedding": 0,
}
# These only choose which cross-attention CTranslate2 returns for alignment; outputs do not depend on them.
_IGNORED_FLAGS = frozenset({"decoder/alignment_heads", "decoder/alignment_layer"})

_END_OF_TEXT = "<|endoftext|>"
_START_OF_TRANSCRIPT = "<|startoftranscript|>"
_NO_TIMESTAMPS = "<|notimestamps|>"
_START_OF_PREV = "<|startofprev|>"
# openai/whisper decides the same way: multilingual vocabularies have at least 51865 entries.
_MULTILINGUAL_VOCAB_SIZE = 51_865


class Ct2FormatError(ValueError):
    """A CTranslate2 model file or directory cannot be read or converted."""


class _Cursor:
    """Reads little-endian fields from a buffer, naming the file and offset when it runs short."""

    def __init__(self, path: Path, data: bytearray) -> None:
        self.path = path
        self.data = data
        self.offset = 0

    def fail(self, message: str, offset: int | None = None) -> Ct2FormatError:
        at = self.offset if offset is None else offset
        return Ct2FormatError(f"{self.path}: {message} (byte offset {at})")

    def take(self, size: int, what: str) -> memoryview:
        end = self.offset + size
        if end > len(self.data):
            raise self.fail(f"truncated: {what} needs {size} bytes, only {len(self.data) - self.offset} left")
        view = memoryview(self.data)[self.offset : end]
        self.offset = end
        return view

    def unpack(self, fmt: str, what: str) -> tuple[int, ...]:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt), what))

    def string(self, what: str) -> str:
        (size,) = self.unpack("H", f"length of {what}")
        start = self.offset
        raw = bytes(self.take(size, what))
        if not raw.endswith(b"\0"):
            raise self.fail(f"{what} is not NUL-terminated", start)
        try:
            return raw[:-1].decode("utf-8")
        except UnicodeDecodeError as error:
            raise self.fail(f"{what} is not UTF-8: {error}", start) from error


def _read_variable(cursor: _Cursor) -> tuple[str, np.ndarray]:
    name = cursor.string("variable name")
    (rank,) = cursor.unpack("B", f"rank of {name}")
    shape = cursor.unpack(f"{rank}I", f"shape of {name}")
    dtype_offset = cursor.offset
    code, size = cursor.unpack("BI", f"dtype and size of {name}")
    if code not in _NUMPY_DTYPES:
        raise cursor.fail(f"unknown dtype code {code} for {name}", dtype_offset)
    dtype = _NUMPY_DTYPES[code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if size != expected:
        raise cursor.fail(f"{name} has {size} bytes, shape {shape} of {dtype} needs {expected}", dtype_offset)
    array = np.frombuffer(cursor.take(size, f"data of {name}"), dtype=dtype).reshape(shape)
    if code == _BFLOAT16:
        array = (array.astype(np.uint32) << 16).view(np.float32)
    return name, array


def read_ct2_variables(path: Path) -> dict[str, np.ndarray]:
    """Read every variable of a CTranslate2 model.bin; aliases map to their target's array.

    bfloat16 variables are widened to float32 (exactly), as numpy has no bfloat16.
    """
    path = Path(path)
    data = bytearray(path.stat().st_size)
    with path.open("rb") as handle:
        handle.readinto(data)
    cursor = _Cursor(path, data)
    (version,) = cursor.unpack("I", "format version")
    if version != FORMAT_VERSION:
        raise cursor.fail(f"format version {version} is not supported (only {FORMAT_VERSION})", 0)
    cursor.string("spec name")
    cursor.unpack("I", "spec revision")
    (count,) = cursor.unpack("I", "variable count")
    variables: dict[str, np.ndarray] = {}
    for _ in range(count):
        start = cursor.offset
        name, array = _read_variable(cursor)
        if name in variables:
            raise cursor.fail(f"variable {name} appears twice", start)
        variables[name] = array
    (alias_count,) = cursor.unpack("I", "alias count")
    for _ in range(alias_count):
        start = cursor.offset
        alias = cursor.string("alias name")
        target = cursor.string(f"target of alias {alias}")
        if target not in variables:
            raise cursor.fail(f"alias {alias} points to unknown variable {target}", start)
        variables[alias] = variables[target]
    if cursor.offset != len(data):
        raise cursor.fail(f"{len(data) - cursor.offset} unexpected trailing bytes")
    return variables


def _pack_string(text: str) -> bytes:
    raw = text.encode("utf-8") + b"\0"
    return struct.pack("<H", len(raw)) + raw


def _to_bfloat16_bits(array: np.ndarray) -> np.ndarray:
    bits = np.ascontiguousarray(array, dtype="<f4").view(np.uint32)
    # Round to nearest even, as torch casts float32 to bfloat16; NaN would carry into the exponent.
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
    return np.where(np.isnan(array), 0x7FC0, rounded).astype("<u2")


def _pack_variable(name: str, array: np.ndarray, as_bfloat16: bool) -> bytes:
    array = np.asarray(array)
    if as_bfloat16:
        code, data = _BFLOAT16, _to_bfloat16_bits(array)
    else:
        dtype = array.dtype.newbyteorder("<")
        if dtype not in _DTYPE_CODES:
            raise ValueError(f"{name}: dtype {array.dtype} cannot be stored in a CTranslate2 model")
        code, data = _DTYPE_CODES[dtype], np.ascontiguousarray(array, dtype=dtype)
    header = struct.pack(f"<B{array.ndim}IBI", array.ndim, *array.shape, code, data.nbytes)
    return _pack_string(name) + header + data.tobytes()


def write_ct2_variables(
    path: Path,
    variables: Mapping[str, np.ndarray],
    aliases: Mapping[str, str] | None = None,
    spec_name: str = "WhisperSpec",
    revision: int = 3,
    as_bfloat16: Collection[str] = (),
) -> None:
    """Write a CTranslate2 model.bin; names in ``as_bfloat16`` are float32 arrays stored as bfloat16."""
    aliases = aliases or {}
    parts = [
        struct.pack("<I", FORMAT_VERSION),
        _pack_string(spec_name),
        struct.pack("<II", revision, len(variables)),
    ]
    parts += [_pack_variable(name, array, name in as_bfloat16) for name, array in variables.items()]
    parts.append(struct.pack("<I", len(aliases)))
    parts += [_pack_string(alias) + _pack_string(target) for alias, target in aliases.items()]
    Path(path).write_bytes(b"".join(parts))


def _layer_count(variables: Mapping[str, np.ndarray], stack: str) -> int:
    pattern = re.compile(rf"{stack}/layer_(\d+)/")
    indices = {int(match.group(1)) for name in variables if (match := pattern.match(name))}
    if indices != set(range(len(indices))):
        raise Ct2FormatError(f"{stack} layers are not numbered 0..n-1: {sorted(indices)}")
    return len(indices)


def _scalar(variables: Mapping[str, np.ndarray], name: str) -> int:
    if name not in variables or variables[name].shape != ():
        raise Ct2FormatError(f"missing scalar {name}")
    return int(variables[name])


def _check_flags(variables: Mapping[str, np.ndarray]) -> None:
    for name, wanted in _REQUIRED_FLAGS.items():
        if (value := _scalar(variables, name)) != wanted:
            raise Ct2FormatError(f"{name} = {value}; only {wanted} matches transformers' Whisper")


def whisper_dimensions(variables: Mapping[str, np.ndarray]) -> dict[str, int]:
    """WhisperConfig size arguments read off the CTranslate2 tensor shapes."""
    try:
        d_model, mel_bins, _ = variables["encoder/conv1/weight"].shape
        return {
            "d_model": d_model,
            "num_mel_bins": mel_bins,
            "vocab_size": variables["decoder/embeddings/weight"].shape[0],
            "encoder_layers": _layer_count(variables, "encoder"),
            "decoder_layers": _layer_count(variables, "decoder"),
            "encoder_attention_heads": _scalar(variables, "encoder/num_heads"),
            "decoder_attention_heads": _scalar(variables, "decoder/num_heads"),
            "encoder_ffn_dim": variables["encoder/layer_0/ffn/linear_0/weight"].shape[0],
            "decoder_ffn_dim": variables["decoder/layer_0/ffn/linear_0/weight"].shape[0],
            "max_source_positions": variables["encoder/position_encodings/encodings"].shape[0],
            "max_target_positions": variables["decoder/position_encodings/encodings"].shape[0],
        }
    except KeyError as error:
        raise Ct2FormatError(f"missing variable {error.args[0]}") from error


class _Source:
    """The CTranslate2 variables, each to be used exactly once."""

    def __init__(self, variables: Mapping[str, np.ndarray]) -> None:
        self.unused = dict(variables)

    def skip(self, names: Collection[str]) -> None:
        for name in names:
            self.unused.pop(name, None)

    def take(self, name: str) -> np.ndarray:
        if name not in self.unused:
            raise Ct2FormatError(f"missing variable {name}")
        return np.asarray(self.unused.pop(name), dtype=np.float32)


def _linear(source: _Source, ct2: str, hf: str) -> dict[str, np.ndarray]:
    return {f"{hf}.weight": source.take(f"{ct2}/weight"), f"{hf}.bias": source.take(f"{ct2}/bias")}


def _layer_norm(source: _Source, ct2: str, hf: str) -> dict[str, np.ndarray]:
    return {f"{hf}.weight": source.take(f"{ct2}/gamma"), f"{hf}.bias": source.take(f"{ct2}/beta")}


def _split_linear(source: _Source, ct2: str, hf_projections: list[str], d_model: int) -> dict[str, np.ndarray]:
    weight, bias = source.take(f"{ct2}/weight"), source.take(f"{ct2}/bias")
    if weight.shape != (d_model * len(hf_projections), d_model):
        raise Ct2FormatError(f"{ct2}/weight has shape {weight.shape}, expected fused {hf_projections}")
    tensors: dict[str, np.ndarray] = {}
    for index, hf in enumerate(hf_projections):
        rows = slice(index * d_model, (index + 1) * d_model)
        tensors[f"{hf}.weight"] = weight[rows]
        # transformers' k_proj has no bias. Dropping it is exact: q.b_k is the same for
        # every key, and softmax ignores a constant shift.
        if not hf.endswith("k_proj"):
            tensors[f"{hf}.bias"] = bias[rows]
    return tensors


def _encoder_layer(source: _Source, i: int, d_model: int) -> dict[str, np.ndarray]:
    ct2, hf = f"encoder/layer_{i}", f"model.encoder.layers.{i}"
    attention = f"{hf}.self_attn"
    return {
        **_split_linear(
            source,
            f"{ct2}/self_attention/linear_0",
            [f"{attention}.q_proj", f"{attention}.k_proj", f"{attention}.v_proj"],
            d_model,
        ),
        **_linear(source, f"{ct2}/self_attention/linear_1", f"{attention}.out_proj"),
        **_layer_norm(source, f"{ct2}/self_attention/layer_norm", f"{hf}.self_attn_layer_norm"),
        **_linear(source, f"{ct2}/ffn/linear_0", f"{hf}.fc1"),
        **_linear(source, f"{ct2}/ffn/linear_1", f"{hf}.fc2"),
        **_layer_norm(source, f"{ct2}/ffn/layer_norm", f"{hf}.final_layer_norm"),
    }


def _decoder_layer(source: _Source, i: int, d_model: int) -> dict[str, np.ndarray]:
    ct2, hf = f"decoder/layer_{i}", f"model.decoder.layers.{i}"
    self_attention, cross_attention = f"{hf}.self_attn", f"{hf}.encoder_attn"
    return {
        **_split_linear(
            source,
            f"{ct2}/self_attention/linear_0",
            [f"{self_attention}.q_proj", f"{self_attention}.k_proj", f"{self_attention}.v_proj"],
            d_model,
        ),
        **_linear(source, f"{ct2}/self_attention/linear_1", f"{self_attention}.out_proj"),
        **_layer_norm(source, f"{ct2}/self_attention/layer_norm", f"{hf}.self_attn_layer_norm"),
        **_linear(source, f"{ct2}/attention/linear_0", f"{cross_attention}.q_proj"),
        **_split_linear(
            source,
            f"{ct2}/attention/linear_1",
            [f"{cross_attention}.k_proj", f"{cross_attention}.v_proj"],
            d_model,
        ),
        **_linear(source, f"{ct2}/attention/linear_2", f"{cross_attention}.out_proj"),
        **_layer_norm(source, f"{ct2}/attention/layer_norm", f"{hf}.encoder_attn_layer_norm"),
        **_linear(source, f"{ct2}/ffn/linear_0", f"{hf}.fc1"),
        **_linear(source, f"{ct2}/ffn/linear_1", f"{hf}.fc2"),
        **_layer_norm(source, f"{ct2}/ffn/layer_norm", f"{hf}.final_layer_norm"),
    }


def hf_state_dict(variables: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Map CTranslate2 Whisper variables to WhisperForConditionalGeneration's state_dict (float32).

    Raises Ct2FormatError if a variable is missing, left unused, or a flag differs from transformers' Whisper.
    """
    dims = whisper_dimensions(variables)
    _check_flags(variables)
    source = _Source(variables)
    source.skip({*_REQUIRED_FLAGS, *_IGNORED_FLAGS, "encoder/num_heads", "decoder/num_heads"})
    d_model = dims["d_model"]
    tensors = {
        **_linear(source, "encoder/conv1", "model.encoder.conv1"),
        **_linear(source, "encoder/conv2", "model.encoder.conv2"),
        "model.encoder.embed_positions.weight": source.take("encoder/position_encodings/encodings"),
        **_layer_norm(source, "encoder/layer_norm", "model.encoder.layer_norm"),
        "model.decoder.embed_tokens.weight": source.take("decoder/embeddings/weight"),
        "model.decoder.embed_positions.weight": source.take("decoder/position_encodings/encodings"),
        **_layer_norm(source, "decoder/layer_norm", "model.decoder.layer_norm"),
        "proj_out.weight": source.take("decoder/projection/weight"),
    }
    if not np.array_equal(tensors["proj_out.weight"], tensors["model.decoder.embed_tokens.weight"]):
        raise Ct2FormatError("decoder/projection differs from decoder/embeddings; transformers' Whisper ties them")
    for i in range(dims["encoder_layers"]):
        tensors |= _encoder_layer(source, i, d_model)
    for i in range(dims["decoder_layers"]):
        tensors |= _decoder_layer(source, i, d_model)
    if source.unused:
        raise Ct2FormatError(f"variables with no place in transformers' Whisper: {sorted(source.unused)}")
    return tensors


def special_token_ids(tokenizer_json: Path) -> dict[str, int]:
    """Ids of the special tokens the conversion needs, read from a tokenizers tokenizer.json."""
    added = json.loads(Path(tokenizer_json).read_text(encoding="utf-8")).get("added_tokens", [])
    ids = {token["content"]: token["id"] for token in added}
    wanted = (_END_OF_TEXT, _START_OF_TRANSCRIPT, _NO_TIMESTAMPS, _START_OF_PREV)
    if missing := [token for token in wanted if token not in ids]:
        raise Ct2FormatError(f"{tokenizer_json}: special tokens missing: {missing}")
    return {token: ids[token] for token in wanted}


def _decoder_token_ids(token_ids: Mapping[str, int]) -> dict[str, int]:
    """The special ids the model config and the generation config both carry: decoding starts
    at <|startoftranscript|> and ends, and pads, with <|endoftext|>."""
    return {
        "pad_token_id": token_ids[_END_OF_TEXT],
        "eos_token_id": token_ids[_END_OF_TEXT],
        "bos_token_id": token_ids[_START_OF_TRANSCRIPT],
        "decoder_start_token_id": token_ids[_START_OF_TRANSCRIPT],
    }


def _whisper_config(dims: Mapping[str, int], token_ids: Mapping[str, int]) -> WhisperConfig:
    return WhisperConfig(
        **dims,
        **_decoder_token_ids(token_ids),
        # Generation settings live in generation_config.json; WhisperConfig's own defaults here
        # would be a second, possibly out-of-vocabulary, copy.
        suppress_tokens=None,
        begin_suppress_tokens=None,
        tie_word_embeddings=True,
    )


def _generation_config(
    config: WhisperConfig, token_ids: Mapping[str, int], ct2_config: Mapping[str, list]
) -> GenerationConfig:
    # Without lang_to_id/task_to_id and with is_multilingual=False, generate() starts every
    # decode with <|startoftranscript|><|notimestamps|>, which is how English-only Whisper was trained.
    return GenerationConfig(
        **_decoder_token_ids(token_ids),
        max_length=config.max_target_positions,
        is_multilingual=False,
        return_timestamps=False,
        no_timestamps_token_id=token_ids[_NO_TIMESTAMPS],
        prev_sot_token_id=token_ids[_START_OF_PREV],
        suppress_tokens=list(ct2_config["suppress_ids"]),
        begin_suppress_tokens=list(ct2_config["suppress_ids_begin"]),
        alignment_heads=[list(pair) for pair in ct2_config["alignment_heads"]],
    )


def _load_tokenizer(tokenizer_json: Path) -> WhisperTokenizer:
    added = json.loads(tokenizer_json.read_text(encoding="utf-8")).get("added_tokens", [])
    return WhisperTokenizer(
        tokenizer_file=str(tokenizer_json),
        pad_token=_END_OF_TEXT,
        # Listing every special token keeps all_special_ids complete, which Whisper's
        # timestamp decoding uses to find where timestamp ids begin.
        extra_special_tokens=[token["content"] for token in added if token.get("special")],
    )


def convert_ct2_whisper(ct2_dir: Path, out_dir: Path) -> Path:
    """Write a float32 transformers Whisper checkpoint (model, generation config, processor) to out_dir."""
    ct2_dir, out_dir = Path(ct2_dir), Path(out_dir)
    variables = read_ct2_variables(ct2_dir / "model.bin")
    tensors = hf_state_dict(variables)
    dims = whisper_dimensions(variables)
    if dims["vocab_size"] >= _MULTILINGUAL_VOCAB_SIZE:
        raise Ct2FormatError(f"{ct2_dir}: multilingual Whisper is not supported, only English-only")
    token_ids = special_token_ids(ct2_dir / "tokenizer.json")
    if (largest := max(token_ids.values())) >= dims["vocab_size"]:
        raise Ct2FormatError(f"{ct2_dir}: token id {largest} is outside the vocabulary of {dims['vocab_size']}")
    ct2_config = json.loads((ct2_dir / "config.json").read_text(encoding="utf-8"))

    config = _whisper_config(dims, token_ids)
    model = WhisperForConditionalGeneration(config)
    model.load_state_dict({name: torch.from_numpy(array) for name, array in tensors.items()}, strict=True)
    model.generation_config = _generation_config(config, token_ids, ct2_config)
    model.save_pretrained(out_dir)

    processor = WhisperProcessor(
        feature_extractor=WhisperFeatureExtractor(feature_size=dims["num_mel_bins"]),
        tokenizer=_load_tokenizer(ct2_dir / "tokenizer.json"),
    )
    processor.save_pretrained(out_dir)
    # processor_config.json already embeds it; preprocessor_config.json serves loaders that look only there.
    processor.feature_extractor.save_pretrained(out_dir)
    return out_dir


def transcribe(checkpoint_dir: Path, audio: np.ndarray) -> str:
    """Greedy English transcription of up to 30 s of 16 kHz mono float32 audio."""
    processor = WhisperProcessor.from_pretrained(checkpoint_dir)
    extractor = processor.feature_extractor
    if audio.ndim != 1 or len(audio) > extractor.n_samples:
        raise ValueError(f"expected mono audio of at most {extractor.n_samples} samples, got shape {audio.shape}")
    model = WhisperForConditionalGeneration.from_pretrained(checkpoint_dir).eval()
    features = extractor(audio.astype(np.float32), sampling_rate=SAMPLING_RATE, return_tensors="pt")
    with torch.inference_mode():
        ids = model.generate(features.input_features)
    return processor.batch_decode(ids, skip_special_tokens=True)[0].strip()
