"""The README's "Run on GPUs / on SLURM" commands as a user types them: each one exactly as written
(a snakemake command with --dry-run appended), in a checkout beside the papers' corpora and
benchmarks (empty files in their official layouts), with `~` a temporary home and the SLURM
profile's <...> values filled in as the README says. What every rule's jobs are given (memory,
wall time, CPUs, GPUs, SLURM account and partition) is read from the jobs Snakemake plans and
checked against config/paper.yaml: whatever profiles/default, the copied SLURM profile and the
command line do to one another, these are the values a user gets."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from paper_layout import write_official_layout
from readme_commands import BLOCKS, INSTALLS, RUNS, SETUP

REPO = Path(__file__).resolve().parents[2]
PAPER = yaml.safe_load((REPO / "config/paper.yaml").read_text())
# What the README asks a user to write over the SLURM profile's <...> values.
SITE = {"<account>": "balsa-account", "<partition>": "cpu-queue", "<gpu-partition>": "gpu-queue"}
# The files of a checkout that a run reads (data and results are the user's).
CHECKOUT = ("Snakefile", "rules", "workflow_scripts", "balsa_core", "profiles", "envs", "config", "report")

# Rules whose jobs run a model: threads_per_job CPUs (training: per process), GPUs under `gpus`.
GPU_RULES = (
    "generate_targets",
    "generate_pair_targets",
    "cache_features",
    "train_adapter",
    "untrained_adapter",
    "evaluation_features",
    "evaluate_adapter",
    "evaluate_text_ceiling",
)
# Cluster jobs that need no GPU.
CPU_RULES = ("metadata",)
# Small jobs that stay on the submitting host.
LOCAL_RULES = (
    "demo_corpus",
    "demo_benchmarks",
    "prepare_model",
    "check_shapes",
    "data_summary",
    "multi_audio_pairs",
    "generation_quality",
    "evaluation_clips",
    "evaluation_items",
    # It only sends requests to a baseline's endpoint, which the submitting host reaches.
    "evaluate_baseline",
    "evaluation_tables",
    "grounding_table",
)
# config/paper.yaml's target sets by backend: vLLM's take tensor_parallel_size GPUs, the others none.
VLLM_SETS = ("positive", "negative", "combined", "questions")
GPU_FREE_SETS = ("rule_based", "openaqa_answers", "external_positive", "external_negative", "external_combined")


def test_every_command_of_the_section_is_run_by_a_test():
    assert RUNS and SETUP and INSTALLS
    untested = [line for block in BLOCKS if block not in INSTALLS for line in block if line not in SETUP + RUNS]
    assert not untested, f"README commands no test runs: {untested}"


def stub_conda(bin_dir: Path) -> None:
    """Snakemake asks conda for its version, info and channel priority even in a dry run, and
    this machine has no conda: a stand-in answers those three questions and nothing else (a dry
    run creates no environment)."""
    script = bin_dir / "conda"
    script.write_text(
        "#!/bin/sh\n"
        'case "$1" in\n'
        '  --version) echo "conda 24.7.1";;\n'
        '  info) echo \'{"conda_version": "24.7.1", "platform": "linux-64", "conda_prefix": "/nonexistent"}\';;\n'
        '  config) echo \'{"get": {"channel_priority": "strict"}}\';;\n'
        '  *) echo "conda stand-in: $* is not answered" >&2; exit 1;;\n'
        "esac\n"
    )
    script.chmod(0o755)


@pytest.fixture(scope="module")
def checkout(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """A checkout beside the papers' data, after the README's setup commands and profile edit."""
    root = tmp_path_factory.mktemp("checkout")
    for name in CHECKOUT:
        (root / name).symlink_to(REPO / name)
    (root / "config.yaml").write_text((REPO / "config.yaml").read_text())
    write_official_layout(root)
    home, bin_dir = tmp_path_factory.mktemp("home"), tmp_path_factory.mktemp("bin")
    if shutil.which("conda") is None:
        stub_conda(bin_dir)
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("SNAKEMAKE_", "XDG_CONFIG"))}
    environment.update(
        HOME=str(home), PATH=os.pathsep.join([str(Path(sys.executable).parent), str(bin_dir), os.environ["PATH"]])
    )
    for command in SETUP:
        result = subprocess.run(["bash", "-c", command], cwd=root, env=environment, capture_output=True, text=True)
        assert result.returncode == 0, f"{command}: {result.stderr}"
    profiles = list((home / ".config/snakemake").glob("*/config.yaml"))
    assert len(profiles) == 1, "the README's setup should copy one profile under ~/.config/snakemake"
    text = profiles[0].read_text()
    for placeholder, value in SITE.items():
        assert placeholder in text, f"the copied profile has no {placeholder} for the user to fill in"
        text = text.replace(placeholder, value)
    unnamed = re.search(r"<[\w-]+>", str(yaml.safe_load(text)))
    assert not unnamed, f"the profile holds a value {unnamed.group()} that the README does not name"
    profiles[0].write_text(text)
    return root, environment


def planned_jobs(output: str) -> dict[str, list[dict[str, str]]]:
    """rule -> the resources of each of its planned jobs, as the dry run prints them."""
    jobs: dict[str, list[dict[str, str]]] = {}
    rule = None
    for line in output.splitlines():
        header = re.match(r"^(?:local)?(?:rule|checkpoint) (\w+):$", line.strip())
        if header:
            rule = header.group(1)
        elif line.strip().startswith("resources:") and rule:
            fields = line.strip().removeprefix("resources:").strip().split(", ")
            jobs.setdefault(rule, []).append(dict(field.split("=", 1) for field in fields))
            rule = None
    return jobs


def local_rules() -> set[str]:
    """The rules named by `localrules:` (a dry run does not say which jobs stay local)."""
    names: set[str] = set()
    for path in [REPO / "Snakefile", *sorted((REPO / "rules").glob("*.smk"))]:
        lines = path.read_text().splitlines()
        for number, line in enumerate(lines):
            if line.startswith("localrules:"):
                listed = [line.removeprefix("localrules:")]
                for following in lines[number + 1 :]:
                    if not following.startswith((" ", "\t")) or not following.strip():
                        break
                    listed.append(following)
                names |= set(re.findall(r"\w+", " ".join(listed)))
    return names


def expected(rule: str) -> dict[str, int]:
    """What config/paper.yaml says a job of `rule` asks for (generate_*'s GPUs: per target set)."""
    sizes = {**PAPER["resources"]["default"], **PAPER["resources"].get(rule, {})}
    processes = PAPER["training"]["distributed"]["processes_per_node"]
    cpus = 1
    if rule in GPU_RULES:
        cpus = PAPER["threads_per_job"] * (processes if rule == "train_adapter" else 1)
    gpus = {"train_adapter": processes}.get(rule, 1) if rule in GPU_RULES and PAPER["gpus"] else 0
    return {"mem_mb": sizes["mem_mb"], "runtime": sizes["runtime"], "cpus_per_task": cpus, "gpu": gpus}


def dry_run(checkout, command: str) -> dict[str, list[dict[str, str]]]:
    root, environment = checkout
    result = subprocess.run(
        ["bash", "-c", f"{command} --dry-run"], cwd=root, env=environment, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, f"{command}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    assert "localrules directive specifies rules that are not present" not in result.stdout + result.stderr
    jobs = planned_jobs(result.stdout)
    jobs.pop("all", None)
    assert jobs, f"{command}: no planned job read from the dry run"
    return jobs


def check_sizes(command: str, jobs: dict[str, list[dict[str, str]]]) -> None:
    """Every job's memory, wall time, CPUs and GPUs, the rule not named in `resources` included."""
    vllm_gpus = PAPER["generation"]["backends"]["vllm"]["tensor_parallel_size"]
    for rule, planned in jobs.items():
        assert rule in GPU_RULES + CPU_RULES + LOCAL_RULES, f"{rule}: a rule this test does not know"
        wanted = expected(rule)
        for resources in planned:
            got = {name: int(resources.get(name, "-1")) for name in wanted}
            if rule in ("generate_targets", "generate_pair_targets"):
                assert got["gpu"] in (0, vllm_gpus), f"{command}: {rule} asks for {got['gpu']} GPUs"
                got["gpu"] = wanted["gpu"]
            assert got == wanted, f"{command}: {rule} gets {got}, config/paper.yaml says {wanted}"
    generation_gpus = [int(resources["gpu"]) for resources in jobs["generate_targets"]]
    corpora = len(PAPER["corpora"])
    assert generation_gpus.count(vllm_gpus) == len(VLLM_SETS) * corpora
    assert generation_gpus.count(0) == len(GPU_FREE_SETS) * corpora
    # Rules that the paper config sizes by `default` alone are planned too.
    assert set(jobs) - set(PAPER["resources"]), "no planned rule relies on resources.default"


@pytest.mark.parametrize("command", [run for run in RUNS if "--profile" not in run])
def test_a_workstation_run_gives_every_rule_its_resources(checkout, command):
    jobs = dry_run(checkout, command)
    check_sizes(command, jobs)
    for rule, planned in jobs.items():
        assert not any(name.startswith("slurm_") for resources in planned for name in resources), rule


@pytest.mark.parametrize("command", [run for run in RUNS if "--profile" in run])
def test_a_slurm_run_gives_every_rule_its_resources_account_and_partition(checkout, command):
    jobs = dry_run(checkout, command)
    check_sizes(command, jobs)
    assert set(GPU_RULES + CPU_RULES) <= set(jobs), f"{command}: not every cluster rule is planned"
    local = local_rules()
    for rule, planned in jobs.items():
        if rule in local:
            continue  # runs on the submitting host: no account, no partition
        partition = SITE["<gpu-partition>"] if rule in GPU_RULES else SITE["<partition>"]
        for resources in planned:
            where = (resources.get("slurm_account"), resources.get("slurm_partition"))
            assert where == (SITE["<account>"], partition), f"{command}: {rule} is submitted to {where}"


def test_the_small_jobs_stay_on_the_submitting_host():
    rules = set(re.findall(r"^rule (\w+):", "\n".join(p.read_text() for p in (REPO / "rules").glob("*.smk")), re.M))
    assert local_rules() == set(LOCAL_RULES)
    assert set(LOCAL_RULES) <= rules
    assert rules == set(GPU_RULES + CPU_RULES + LOCAL_RULES), "a rule is neither a cluster job nor local"


def test_the_config_schema_names_every_rule_in_resources():
    schema = yaml.safe_load((REPO / "balsa_core/schemas/config.schema.yaml").read_text())
    named = set(schema["properties"]["resources"]["properties"]) - {"default"}
    assert named == set(GPU_RULES + CPU_RULES + LOCAL_RULES)
