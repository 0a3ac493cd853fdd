"""The conda environments of the rule groups: every rule names one, and their pins are the
versions this test suite runs with (vLLM's environment aside, whose pins vLLM dictates)."""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
ENVS = sorted((REPO / "envs").glob("*.yaml"))
# vllm 0.33.0 requires transformers <5.20; the CPU suite cannot install vLLM to check against.
DICTATED_BY_VLLM = {("generation", "vllm"), ("generation", "transformers")}


def pins(env_file: Path) -> dict[str, str]:
    spec = yaml.safe_load(env_file.read_text())
    pip_section = next(entry["pip"] for entry in spec["dependencies"] if isinstance(entry, dict))
    found = {}
    for requirement in pip_section:
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)\s*==\s*(\S+)", requirement)
        if match:
            found[match.group(1).lower()] = match.group(2)
    return found


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


def constraints() -> dict[str, str]:
    lines = (REPO / "envs/constraints.txt").read_text().splitlines()
    pairs = (line.split("==") for line in lines if line and not line.startswith("#"))
    return {name.lower(): version for name, version in pairs}


def test_the_suite_runs_with_the_constrained_versions():
    for package, version in constraints().items():
        # The local part (+cpu) names the build, not the release.
        assert metadata.version(package).split("+")[0] == version, package


@pytest.mark.parametrize("env_file", ENVS, ids=lambda path: path.stem)
def test_pins_are_the_tested_versions(env_file):
    pinned, tested = pins(env_file), constraints()
    assert pinned, f"{env_file.name} pins nothing"
    for package, version in pinned.items():
        if (env_file.stem, package) not in DICTATED_BY_VLLM:
            assert tested[package] == version, f"{env_file.name}: {package}"
    assert yaml.safe_load(env_file.read_text())["dependencies"][0] == "python =3.11"


def test_the_vllm_environment_satisfies_vllm():
    pinned = pins(REPO / "envs/generation.yaml")
    assert pinned["vllm"] == "0.33.0" and pinned["torch"] == "2.13.0"
    major, minor, _ = (int(part) for part in pinned["transformers"].split("."))
    assert (5, 16) <= (major, minor) < (5, 20)
