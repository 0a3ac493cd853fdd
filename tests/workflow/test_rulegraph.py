"""docs/rulegraph.svg, the DAG picture of docs/architecture.md, is current: it draws every rule of
the workflow and the dependencies ``snakemake --rulegraph`` gives today. Only the checked-in SVG
is read, so Graphviz need not be installed; ``make rulegraph`` redraws it. The rule table of
docs/architecture.md has a row for every rule, with the rules file that defines it."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from pathlib import Path

from workflow_run import REPO, snakemake

SVG = REPO / "docs" / "rulegraph.svg"
ARCHITECTURE = REPO / "docs" / "architecture.md"
NAMESPACE = {"svg": "http://www.w3.org/2000/svg"}
REDRAW = "docs/rulegraph.svg is out of date: run `make rulegraph` and commit it"
# The demo with a baseline endpoint, as make rulegraph draws it: the demo alone plans no evaluate_baseline.
RULEGRAPH_CONFIG = ("--configfile", "config.yaml", "config/rulegraph.yaml")


def workflow_rules() -> dict[str, str]:
    """Every rule the Snakefile and rules/*.smk define, with the name of the file that defines it."""
    sources = [REPO / "Snakefile", *sorted((REPO / "rules").glob("*.smk"))]
    return {name: path.name for path in sources for name in re.findall(r"^rule (\w+):", path.read_text(), re.MULTILINE)}


def svg_graph(path: Path) -> tuple[set[str], set[tuple[str, str]]]:
    """The rules Graphviz drew in ``path`` and its edges (rule -> rule that needs its output)."""
    root = ElementTree.parse(path).getroot()
    labels = {}
    for node in root.iterfind(".//svg:g[@class='node']", NAMESPACE):
        labels[node.findtext("svg:title", namespaces=NAMESPACE)] = node.findtext("svg:text", namespaces=NAMESPACE)
    edges = set()
    for edge in root.iterfind(".//svg:g[@class='edge']", NAMESPACE):
        source, target = edge.findtext("svg:title", namespaces=NAMESPACE).split("->")
        edges.add((labels[source], labels[target]))
    return set(labels.values()), edges


def dot_graph(dot: str) -> tuple[set[str], set[tuple[str, str]]]:
    """The rules and edges of Snakemake's DOT output."""
    labels = dict(re.findall(r'^\s*(\d+)\[label = "(\w+)"', dot, re.MULTILINE))
    edges = {
        (labels[source], labels[target]) for source, target in re.findall(r"^\s*(\d+) -> (\d+)$", dot, re.MULTILINE)
    }
    return set(labels.values()), edges


def test_every_rule_is_drawn():
    rules = set(workflow_rules())
    assert len(rules) > 10 and "all" in rules
    drawn, _ = svg_graph(SVG)
    missing = sorted(rules - drawn)
    assert not missing, f"{REDRAW} (rules not drawn: {missing})"


def test_the_drawing_has_the_current_dependencies():
    result = snakemake(REPO, "--rulegraph", *RULEGRAPH_CONFIG)
    assert result.returncode == 0, result.stderr[-3000:]
    rules, edges = dot_graph(result.stdout)
    assert "all" in rules and edges
    drawn, drawn_edges = svg_graph(SVG)
    assert drawn == rules, f"{REDRAW} (rules only drawn: {sorted(drawn - rules)}; not drawn: {sorted(rules - drawn)})"
    assert drawn_edges == edges, (
        f"{REDRAW} (edges only drawn: {sorted(drawn_edges - edges)}; not drawn: {sorted(edges - drawn_edges)})"
    )


def test_the_architecture_table_has_a_row_per_rule_at_its_path():
    # | `rule` | `step.smk` | `rule.py` | `step.rule` | library modules | `balsa rule` |
    rows = re.findall(
        r"^\| `(\w+)` \| `(\w+)\.smk` \| `(\w+)\.py` \| `(\w+)\.(\w+)` \| .* \| `balsa (\w+)` \|$",
        ARCHITECTURE.read_text(),
        re.MULTILINE,
    )
    expected = {name: path for name, path in workflow_rules().items() if name != "all"}
    assert sorted(row[0] for row in rows) == sorted(expected), "docs/architecture.md: the rule table is not every rule"
    for rule, step, script, stage_step, stage, command in rows:
        assert f"{step}.smk" == expected[rule] and step == stage_step, f"docs/architecture.md: {rule}'s rules file"
        assert script == stage == command == rule, f"docs/architecture.md: {rule}'s script, stage or command"
