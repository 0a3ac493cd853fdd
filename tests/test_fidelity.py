"""docs/fidelity.md against config/paper.yaml: every key the document gives the papers' value
for is set to it, the planned keys once paper.yaml has them, and every deviation says why."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
FIDELITY = REPO / "docs/fidelity.md"
STATUSES = ("matches", "deviates:", "papers silent:")
MISSING = object()


def machine_block() -> dict[str, dict[str, Any]]:
    [block] = re.findall(r"```yaml\n(.*?)```", FIDELITY.read_text(), flags=re.DOTALL)
    return yaml.safe_load(block)


def paper_value(dotted: str) -> Any:
    section: Any = yaml.safe_load((REPO / "config/paper.yaml").read_text())
    for name in dotted.split("."):
        if not isinstance(section, dict) or name not in section:
            return MISSING
        section = section[name]
    return section


def table_rows() -> list[list[str]]:
    """The cells of every table row of the document, header and rule rows left out."""
    rows = []
    for line in FIDELITY.read_text().splitlines():
        if line.startswith("|") and not line.startswith(("| Element", "|---")):
            rows.append([cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip("|"))])
    return rows


PAPERS = machine_block()["papers"]
PLANNED = machine_block()["planned"]


@pytest.mark.parametrize(("key", "value"), PAPERS.items(), ids=PAPERS.keys())
def test_paper_yaml_sets_the_papers_value(key, value):
    assert paper_value(key) == value, f"config/paper.yaml {key}: the papers give {value!r} (docs/fidelity.md)"


@pytest.mark.parametrize(("key", "value"), PLANNED.items(), ids=PLANNED.keys())
def test_a_planned_key_has_the_papers_value_once_paper_yaml_sets_it(key, value):
    assert paper_value(key) in (MISSING, value), f"config/paper.yaml {key}: the papers give {value!r}"


def test_every_row_has_a_status_every_deviation_a_reason_and_every_silence_its_key():
    rows = table_rows()
    assert len(rows) > 40
    for element, *_, status in rows:
        assert status.startswith(STATUSES), f"{element}: status {status!r}"
        detail = status.split(":", 1)[1].strip() if ":" in status else ""
        if status.startswith("deviates:"):
            assert len(detail.split()) >= 4, f"{element}: {status!r} says too little about why"
        if status.startswith("papers silent:"):
            keys = re.findall(r"`([a-z_.]+)`", detail)
            assert keys and all(paper_value(key) is not MISSING for key in keys), f"{element}: {status!r}"


def test_every_row_quotes_the_papers_or_says_they_are_silent():
    for element, papers, *_ in table_rows():
        assert '"' in papers or papers.startswith(("not ", "the papers", "Table III")), element
