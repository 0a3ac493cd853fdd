from pathlib import Path

from balsa_core.logs import workflow_job
from balsa_core.stages import data as stages

with workflow_job(snakemake):
    stages.build_hallucination(
        metadata_paths=[Path(path) for path in snakemake.input.metadata],
        truth_csv=Path(snakemake.input.truth[0]) if snakemake.input.truth else None,
        settings=snakemake.params.settings,
        out_path=Path(snakemake.output[0]),
    )
