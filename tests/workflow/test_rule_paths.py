"""One hop from rule to code: for every rule of the Snakefile, rules/<step>.smk runs
workflow_scripts/<rule>.py, which is one call of balsa_core.stages.<step>.<rule>, the very function
the ``balsa <rule>`` subcommand calls, with parameters the rule names."""

from __future__ import annotations

import ast
import importlib
import os
from contextlib import chdir
from pathlib import Path

import pytest
from snakemake.api import SnakemakeApi
from snakemake.settings.types import ResourceSettings

from balsa_core.cli import STAGES
from balsa_core.stages import stage_parameters

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def rules() -> dict:
    """The workflow's rules by name, as Snakemake parses them from the repository."""
    # Parsing sets PYTHONPATH for the jobs (rules/common.smk); this process's later tests must not see it.
    with pytest.MonkeyPatch.context() as patch, chdir(REPO), SnakemakeApi() as api:
        patch.setattr(os, "environ", os.environ.copy())
        workflow = api.workflow(resource_settings=ResourceSettings(), snakefile=REPO / "Snakefile")._workflow
        return {rule.name: rule for rule in workflow.rules if rule.name != "all"}


def script_calls(path: Path) -> tuple[set[tuple[str, str]], list[ast.Call]]:
    """A workflow script's ``from module import name`` pairs and its top-level calls."""
    tree = ast.parse(path.read_text())
    imports = {
        (node.module, alias.name) for node in tree.body if isinstance(node, ast.ImportFrom) for alias in node.names
    }
    calls = [node.value for node in tree.body if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)]
    return imports, calls


def test_every_rule_is_a_subcommand_and_every_subcommand_a_rule(rules):
    assert sorted(STAGES) == sorted(rules)


def test_each_rule_runs_its_script_which_calls_the_stage_of_its_name(rules):
    for name, rule in rules.items():
        step = Path(rule.snakefile).stem
        assert Path(rule.snakefile).parent == REPO / "rules", name
        assert rule.script == f"../workflow_scripts/{name}.py", name
        script = REPO / "workflow_scripts" / f"{name}.py"
        assert script.is_file(), name
        imports, calls = script_calls(script)
        assert imports == {(f"balsa_core.stages.{step}", name), ("balsa_core.workflow", "run_stage")}, name
        assert [ast.unparse(call) for call in calls] == [f"run_stage(snakemake, {name})"], name
        stage = getattr(importlib.import_module(f"balsa_core.stages.{step}"), name)
        assert stage.__name__ == name and STAGES[name] is stage, name


def test_each_stage_takes_what_its_rule_names(rules):
    for name, rule in rules.items():
        inputs, outputs = set(rule.input._names), set(rule.output._names)
        assert not inputs & outputs, f"{name}: {inputs & outputs} name both an input and an output"
        for parameter in stage_parameters(STAGES[name]):
            where = rule.wildcard_names if parameter.kind == "wildcard" else inputs | outputs
            assert parameter.name in where, f"{name}: its stage takes {parameter.name}, which the rule does not name"
