"""The conda environments of the rule groups and the GPU install: every rule names an environment;
their pins are the versions this test suite runs with, vLLM's environment aside (vLLM dictates
torch, transformers and numpy there); each environment, rendered as Snakemake creates it, resolves
against the package index under envs/constraints.txt; the README's GPU install resolves; and a
job's processes import balsa_core from the workflow directory, since no environment installs it.

Resolving needs the package index (PyPI and whatever index pip is configured with): those tests
are skipped, saying so, when it cannot be reached. Nothing is installed: `pip install --dry-run`
reads the packages' metadata, so vLLM's CUDA wheels resolve on this CPU machine too."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from readme_commands import INSTALLS

REPO = Path(__file__).resolve().parents[2]
SNAKEMAKE = Path(sys.executable).with_name("snakemake")
ENVS = sorted((REPO / "envs").glob("*.yaml"))
# vllm 0.32.0 requires transformers >=5.16.1,<5.20, and its mistral-common numpy <2.4 on Python
# 3.11: the generation environment holds these where the others hold the tested versions.
DICTATED_BY_VLLM = {"generation": {"transformers", "numpy"}}
# What a failed resolution says when the index cannot be reached (as opposed to a conflict).
UNREACHABLE = re.compile(
    r"NewConnectionError|Failed to establish a new connection|Temporary failure in name resolution|"
    r"Network is unreachable|Max retries exceeded|ConnectTimeout|ReadTimeout|Could not fetch URL"
)


def pip_section(env_file: Path) -> list[str]:
    spec = yaml.safe_load(env_file.read_text())
    return next(entry["pip"] for entry in spec["dependencies"] if isinstance(entry, dict))


def pins(env_file: Path) -> dict[str, str]:
    found = {}
    for requirement in pip_section(env_file):
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)\s*==\s*(\S+)", requirement)
        if match:
            found[match.group(1).lower()] = match.group(2)
    return found


def constraints() -> dict[str, str]:
    lines = (REPO / "envs/constraints.txt").read_text().splitlines()
    pairs = (line.split("==") for line in lines if line and not line.startswith("#"))
    return {name.lower(): version for name, version in pairs}


def test_the_rule_groups_have_their_environments():
    assert {path.stem for path in ENVS} == {"data", "generation", "training", "evaluation"}


def test_every_rule_names_an_existing_environment():
    named = re.findall(
        r'conda:\s*\n\s*"\.\./(envs/[^"]+)"', "".join(p.read_text() for p in (REPO / "rules").glob("*.smk"))
    )
    rules = re.findall(r"^rule \w+:", "".join(p.read_text() for p in (REPO / "rules").glob("*.smk")), re.MULTILINE)
    assert len(named) == len(rules)
    assert all((REPO / env).is_file() for env in named)
    assert {Path(env).stem for env in named} == {path.stem for path in ENVS}


def test_the_suite_runs_with_the_constrained_versions():
    for package, version in constraints().items():
        # The local part (+cpu) names the build, not the release.
        assert metadata.version(package).split("+")[0] == version, package


@pytest.mark.parametrize("env_file", ENVS, ids=lambda path: path.stem)
def test_every_pip_entry_is_a_pinned_release_from_the_index(env_file):
    """Snakemake creates the environment from a copy under .snakemake/conda/: a path, an editable
    install or a URL there means something else than beside this file (`-e ..` is .snakemake/)."""
    for requirement in pip_section(env_file):
        assert re.fullmatch(r"[A-Za-z0-9_.-]+ ?==[A-Za-z0-9_.+-]+", requirement), f"{env_file.name}: {requirement}"


@pytest.mark.parametrize("env_file", ENVS, ids=lambda path: path.stem)
def test_pins_are_the_tested_versions(env_file):
    pinned, tested = pins(env_file), constraints()
    assert pinned, f"{env_file.name} pins nothing"
    # vLLM itself is not in the suite (its wheel is a CUDA build); every other pin is.
    assert set(pinned) - set(tested) == ({"vllm"} if env_file.stem == "generation" else set()), env_file.name
    differing = {package for package, version in pinned.items() if tested.get(package, version) != version}
    assert differing == DICTATED_BY_VLLM.get(env_file.stem, set()), env_file.name
    assert yaml.safe_load(env_file.read_text())["dependencies"][0] == "python =3.11"


def test_the_vllm_environment_and_extra_satisfy_vllm():
    pinned = pins(REPO / "envs/generation.yaml")
    assert pinned["vllm"] == "0.32.0" and pinned["torch"] == "2.13.0"
    major, minor, _ = (int(part) for part in pinned["transformers"].split("."))
    assert (5, 16) <= (major, minor) < (5, 20)
    assert tuple(int(part) for part in pinned["numpy"].split(".")[:2]) < (2, 4)
    extra = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]["vllm"]
    assert sorted(extra) == sorted(f"{name}=={pinned[name]}" for name in ("vllm", "transformers"))


def pip_dry_run(arguments: list[str], cwd: Path, report: Path) -> dict[str, str]:
    """`pip install --dry-run` of `arguments` from `cwd`: the resolved name -> version."""
    command = [sys.executable, "-m", "pip", "install", *arguments]
    command += ["--dry-run", "--ignore-installed", "--quiet", "--report", str(report)]
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=900)
    output = result.stdout + result.stderr
    if result.returncode != 0 and UNREACHABLE.search(output):
        pytest.skip(f"the package index cannot be reached: {UNREACHABLE.search(output).group()}")
    problems = "\n".join(line for line in output.splitlines() if "is ignored" not in line)
    assert result.returncode == 0, f"{' '.join(arguments)} does not resolve:\n{problems[-4000:]}"
    return {
        item["metadata"]["name"].lower().replace("_", "-"): item["metadata"]["version"]
        for item in json.loads(report.read_text())["install"]
    }


@pytest.fixture(scope="module")
def index_reachable(tmp_path_factory):
    """One cheap look-up first, so that an unreachable index skips with its reason."""
    if sys.version_info[:2] != (3, 11):
        pytest.skip(f"the environments are Python 3.11; this is {sys.version_info[0]}.{sys.version_info[1]}")
    workdir = tmp_path_factory.mktemp("probe")
    pip_dry_run(["--no-deps", "vllm==0.32.0"], workdir, workdir / "report.json")


def render_as_snakemake(env_file: Path, workdir: Path) -> Path:
    """The environment as Snakemake creates it: the file copied to .snakemake/conda/<hash>.yaml
    and its pip section written beside it, where conda runs pip (so relative paths start there)."""
    target = workdir / ".snakemake" / "conda" / "0123456789abcdef_.yaml"
    target.parent.mkdir(parents=True)
    shutil.copyfile(env_file, target)
    requirements = target.parent / "condaenv.requirements.txt"
    requirements.write_text("\n".join(pip_section(target)) + "\n")
    return requirements


@pytest.mark.slow
@pytest.mark.parametrize("env_file", ENVS, ids=lambda path: path.stem)
def test_each_environment_resolves_as_snakemake_creates_it(env_file, tmp_path, index_reachable):
    requirements = render_as_snakemake(env_file, tmp_path)
    # The tested versions constrain everything the environment pulls in, but for what vLLM dictates.
    dictated = DICTATED_BY_VLLM.get(env_file.stem, set())
    constraint_file = tmp_path / "constraints.txt"
    constraint_file.write_text("".join(f"{n}=={v}\n" for n, v in constraints().items() if n not in dictated))
    resolved = pip_dry_run(
        ["-r", requirements.name, "-c", str(constraint_file)], requirements.parent, tmp_path / "r.json"
    )
    for package, version in pins(env_file).items():
        # The local part (+cpu, from a local wheel) names the build, not the release.
        assert resolved.get(package.replace("_", "-"), "").split("+")[0] == version, f"{env_file.name}: {package}"
    print(f"\n{env_file.name}: {len(resolved)} packages resolve")


def python_313() -> str | None:
    """A directory holding a working python3.13, for the README's GPU install."""
    candidates = [shutil.which("python3.13"), *sorted(Path.home().glob(".pyenv/versions/3.13*/bin/python3.13"))]
    for candidate in filter(None, candidates):
        if subprocess.run([candidate, "--version"], capture_output=True).returncode == 0:
            return str(Path(candidate).parent)
    return None


@pytest.mark.slow
@pytest.mark.parametrize("block", INSTALLS, ids=lambda block: block[-1])
def test_the_readme_gpu_install_resolves(block, tmp_path, index_reachable):
    """The README's install as written, in order, in a copy of the project (pip writes build
    metadata beside pyproject.toml): the vllm extra brings vLLM, its transformers pin and the
    suite's torch."""
    python_dir = python_313()
    if python_dir is None:
        pytest.skip("the GPU install needs Python 3.13 and this machine has none")
    checkout = tmp_path / "checkout"
    shutil.copytree(REPO / "balsa_core", checkout / "balsa_core", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copyfile(REPO / name, checkout / name)
    report = tmp_path / "report.json"
    dry_run = f" --dry-run --ignore-installed --quiet --report {report}"
    script = " && ".join(line + (dry_run if line.startswith("pip install ") else "") for line in block)
    environment = {**os.environ, "PATH": os.pathsep.join([python_dir, os.environ["PATH"]])}
    environment.pop("VIRTUAL_ENV", None)
    result = subprocess.run(["bash", "-c", script], cwd=checkout, env=environment, capture_output=True, text=True)
    output = result.stdout + result.stderr
    if result.returncode != 0 and UNREACHABLE.search(output):
        pytest.skip(f"the package index cannot be reached: {UNREACHABLE.search(output).group()}")
    problems = "\n".join(line for line in output.splitlines() if "is ignored" not in line)
    assert result.returncode == 0, f"{script}:\n{problems[-4000:]}"
    resolved = {
        item["metadata"]["name"].lower(): item["metadata"]["version"]
        for item in json.loads(report.read_text())["install"]
    }
    pinned = pins(REPO / "envs/generation.yaml")
    assert resolved["balsa"] == "0.1.0"
    for package in ("vllm", "transformers", "torch"):
        assert resolved[package].split("+")[0] == pinned[package], package


def test_a_job_process_imports_balsa_core_from_the_workflow_directory(tmp_path):
    """As in a rule's conda environment, or torchrun's training processes: a Python without the
    project installed finds balsa_core through the PYTHONPATH that rules/common.smk sets, also
    when the jobs run in another directory than the workflow's (--directory, as `make smoke`)."""
    bare = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True)
    bare_python = bare / "bin" / "python"
    lacking = subprocess.run([bare_python, "-c", "import balsa_core"], capture_output=True, cwd=tmp_path)
    assert lacking.returncode != 0, "the bare interpreter should not have balsa_core installed"
    checkout, workdir = tmp_path / "checkout", tmp_path / "run"
    checkout.mkdir()
    workdir.mkdir()
    for name in ("rules", "balsa_core"):
        (checkout / name).symlink_to(REPO / name)
    (workdir / "config").symlink_to(REPO / "config")
    shutil.copyfile(REPO / "config.yaml", workdir / "config.yaml")
    probe = "import balsa_core.stages as module; print(module.__file__)"
    snakefile = [
        'configfile: "config.yaml"',
        'include: "rules/common.smk"',
        "rule probe:",
        '    output: "probe.txt"',
        f"    shell: \"{bare_python} -c '{probe}' > {{output}}\"",
    ]
    (checkout / "Snakefile").write_text("\n".join(snakefile) + "\n")
    result = subprocess.run(
        [str(SNAKEMAKE), "--snakefile", str(checkout / "Snakefile"), "--directory", str(workdir), "--cores", "1"]
        + ["probe.txt"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    imported = Path((workdir / "probe.txt").read_text().strip())
    assert imported == checkout / "balsa_core" / "stages" / "__init__.py"
