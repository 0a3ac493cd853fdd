from pathlib import Path

from balsa_core.logs import workflow_job
from balsa_core.stages import data as stages

with workflow_job(snakemake):
    stages.summarize_data(
        [Path(path) for path in snakemake.input], snakemake.params.samples_per_seed, Path(snakemake.output[0])
    )
