from pathlib import Path

from balsa_core.logs import workflow_job
from balsa_core.stages import evaluation as stages

with workflow_job(snakemake):
    stages.evaluation_tables(
        [Path(path) for path in snakemake.input.metrics],
        [Path(path) for path in snakemake.input.answers],
        models=snakemake.params.models,
        unconfigured=snakemake.params.unconfigured,
        text_model=snakemake.params.text_model,
        outputs={name: Path(path) for name, path in snakemake.output.items()},
    )
