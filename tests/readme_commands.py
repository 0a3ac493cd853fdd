"""The shell commands of the README's section "Run on GPUs / on SLURM", which the workflow tests run."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"
SECTION = "## Run on GPUs / on SLURM"


def readme_blocks() -> list[list[str]]:
    """The shell blocks of the README section, one command a line (continuations joined, comments
    dropped)."""
    text = README.read_text()
    assert SECTION + "\n" in text, f"README.md has no section {SECTION!r}"
    section = text.split(SECTION + "\n", 1)[1].split("\n## ", 1)[0]
    blocks = []
    for block in re.findall(r"```bash\n(.*?)```", section, re.DOTALL):
        lines = block.replace("\\\n", " ").splitlines()
        blocks.append([" ".join(line.split()) for line in lines if line.strip() and not line.lstrip().startswith("#")])
    return blocks


BLOCKS = readme_blocks()
# The GPU install (a block with `pip install`: tests/test_envs.py runs it in order), the SLURM
# profile's setup, and the snakemake runs.
INSTALLS = [block for block in BLOCKS if any(line.startswith("pip install ") for line in block)]
SETUP = [line for block in BLOCKS for line in block if line.split()[0] in ("mkdir", "cp")]
RUNS = [line for block in BLOCKS for line in block if line.startswith("snakemake ")]
