from pathlib import Path

from balsa_core.logs import workflow_job
from balsa_core.stages import evaluation as stages

with workflow_job(snakemake):
    stages.evaluation_items(
        evaluation=snakemake.wildcards.evaluation,
        benchmark=snakemake.params.benchmark,
        settings=snakemake.params.settings,
        metadata_paths=[Path(path) for path in snakemake.input.metadata],
        truth_csv=Path(snakemake.input.truth[0]) if snakemake.input.truth else None,
        out_path=Path(snakemake.output[0]),
    )
