from pathlib import Path

from balsa_core.logs import workflow_job
from balsa_core.stages import models as stages

with workflow_job(snakemake):
    stages.untrained_adapter(
        feature_indexes=[Path(path) for path in snakemake.input.features],
        llm_manifest=Path(snakemake.input.llm),
        encoder_manifest=Path(snakemake.input.encoder),
        prompts={
            "begin_audio": snakemake.params.begin_audio,
            "end_audio": snakemake.params.end_audio,
            "system_message": snakemake.params.system_message,
        },
        layers=snakemake.params.features["layers"],
        adapter_settings=snakemake.params.adapter,
        feature_settings=snakemake.params.features,
        seed=snakemake.params.seed,
        out_dir=Path(snakemake.output.weights).parent,
    )
