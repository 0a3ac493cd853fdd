"""scripts/estimate_cost.py: the formulas on hand-computed cases and the script end to end."""

from __future__ import annotations

import dataclasses
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "estimate_cost.py"
STAGES = ("1 target generation", "2 Whisper feature cache", "3 adapter training", "4 evaluation")


@pytest.fixture(scope="module")
def cost():
    spec = importlib.util.spec_from_file_location("estimate_cost", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["estimate_cost"] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


def test_feature_bytes_hand_computed(cost):
    # 2 clips x 3 layers x 100 frames x 768 dims x 2 bytes (fp16)
    assert cost.feature_bytes(2, 3, 100, 768) == 2 * 3 * 100 * 768 * 2 == 921_600


def test_untrimmed_cache_keeps_1500_frames_per_clip(cost):
    sizes = cost.storage(cost.Inputs())
    clips = cost.clip_count()
    assert sizes["untrimmed (1500 frames)"] == clips * 3 * 1500 * 768 * 2
    # Trimmed: 50 frames per second of the 316 unique hours, whatever the clip count.
    assert sizes["trimmed (50 frames/s)"] == pytest.approx(316 * 3600 * 50 * 3 * 768 * 2)


def test_training_flops_linear_in_examples_and_epochs(cost):
    base = cost.Inputs(variants={"v": {"positive": 1}})
    double_draws = dataclasses.replace(base, variants={"v": {"positive": 2}})
    double_epochs = dataclasses.replace(base, stage1_epochs=2 * base.stage1_epochs)
    assert cost.training_flops(double_draws) == pytest.approx(2 * cost.training_flops(base))
    assert cost.training_flops(double_epochs) == pytest.approx(2 * cost.training_flops(base))


def test_training_flops_per_example_formula(cost):
    # 4 N T through the frozen LLM, 6 P T' for the adapter.
    assert cost.training_flops_per_example(10.0, 3, 2.0, 5) == 4 * 10 * 3 + 6 * 2 * 5


def test_the_step_runs_the_layers_after_the_cached_prefix_and_the_head_on_targets_only(cost):
    # 4 L T_grad through the layers, 4 H T_target through the LM head, 6 P T' for the adapter.
    assert cost.step_flops_per_example(10.0, 2.0, 3, 1, 5.0, 4) == 4 * 10 * 3 + 4 * 2 * 1 + 6 * 5 * 4
    base = cost.Inputs(variants={"v": {"positive": 1}})
    longer_prefix = dataclasses.replace(base, training_prefix_tokens=base.training_prefix_tokens + 10)
    cached = 4 * base.llm_layer_params * 10 * cost.seeds() * base.stage1_epochs
    assert cost.training_flops(base) - cost.training_flops(longer_prefix) == pytest.approx(cached)


def test_doubling_mfu_halves_compute_bound_gpu_hours(cost):
    gpu = cost.GPUS["h100"]
    inputs = cost.Inputs()
    slow = cost.stage_seconds(inputs, gpu)
    fast = cost.stage_seconds(dataclasses.replace(inputs, mfu=2 * inputs.mfu), gpu)
    for stage in ("3 adapter training", "2 Whisper feature cache"):
        assert fast[stage] == pytest.approx(slow[stage] / 2)


def test_decode_is_memory_bound_at_the_default_batch(cost):
    inputs = cost.Inputs()
    gpu = cost.GPUS["h100"]
    # One full batch decoding one token: the weights read once at the assumed bandwidth share.
    seconds = cost.decode_seconds(inputs, gpu, inputs.decode_batch, 1, context=0)
    assert seconds == pytest.approx(2 * inputs.llm_params / (gpu.memory_bytes_per_s * inputs.bandwidth_utilisation))


def test_config_overrides_and_ignores_external_and_ground_truth_sets(cost):
    config = {
        "features": {"layers": [6, 12], "trim": False},
        "generation": {"backend": "vllm", "backends": {"vllm": {"type": "vllm"}, "ext": {"type": "openai"}}},
        "targets": {
            "positive": {"prompt": "p"},
            "rule_based": {"source": "ground_truth", "prompt": "r"},
            "external": {"prompt": "e", "backend": "ext"},
        },
        "variants": {"a": {"positive": 2}, "b": {"external": 1, "epochs": 3}},
        "evaluation": {"benchmarks": {"mmau": {}, "sakura": {"files": ["Animal.csv"]}}},
    }
    inputs = cost.inputs_from_config(config, cost.Inputs())
    assert inputs.feature_layers == (6, 12) and inputs.trim is False
    assert cost.prompts_per_set(inputs) == {"positive": 2 * cost.seeds()}
    assert cost.variant_epochs(inputs, inputs.variants["b"]) == 3
    assert set(inputs.evaluations) == {"hallucination", "instruction_following", "mmau", "sakura"}
    assert inputs.evaluations["sakura"][0] == 1000


def test_hallucination_count_matches_released_headers(cost):
    folder = Path("/work/shared/formats/audio_hallucination")
    if not folder.exists():
        pytest.skip("no copy of the released files here")
    totals = [
        int(line.split(":")[1])
        for path in sorted(folder.glob("*_test.txt"))
        for line in path.read_text().splitlines()[:3]
        if line.startswith("# Total samples")
    ]
    assert len(totals) == 3
    assert cost.EVALUATIONS["hallucination"][0] == sum(totals)


@pytest.mark.parametrize("extra", [[], ["--config", "config/paper.yaml"], ["--gpu", "rtx6000ada", "--mfu", "0.2"]])
def test_script_runs_end_to_end(extra):
    if "config/paper.yaml" in extra and not (ROOT / "config/paper.yaml").exists():
        pytest.skip("config/paper.yaml not written yet")
    out = subprocess.run(
        [sys.executable, "-P", str(SCRIPT), *extra], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    for stage in STAGES:
        assert stage in out
    for word in ("ESTIMATES", "MEASURED", "PUBLIC", "ASSUMED", "trimmed", "untrimmed", "total"):
        assert word in out


def test_script_runs_without_any_config(tmp_path):
    # From a directory without config/paper.yaml: the built-in defaults.
    out = subprocess.run(
        [sys.executable, "-P", str(SCRIPT), "--gpu", "h100"], cwd=tmp_path, capture_output=True, text=True, check=True
    ).stdout
    assert "config: none" in out
    for stage in STAGES:
        assert stage in out
