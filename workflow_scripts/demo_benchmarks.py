from pathlib import Path

from balsa_core.logs import workflow_job
from balsa_core.stages import data as stages

with workflow_job(snakemake):
    truth = Path(snakemake.input.truth)
    stages.demo_benchmarks(truth.parent, truth.parent / "benchmarks", snakemake.params.seed)
