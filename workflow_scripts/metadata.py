from pathlib import Path

from balsa_core.stages import data as stages
from balsa_core.logs import workflow_job

with workflow_job(snakemake):
    stages.metadata(
        snakemake.wildcards.corpus,
        snakemake.params.corpus,
        Path(snakemake.output.metadata),
        Path(snakemake.output.rejects),
    )
