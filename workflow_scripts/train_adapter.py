from pathlib import Path

from balsa_core.logs import workflow_job
from balsa_core.stages.distributed import train_variant

with workflow_job(snakemake):
    train_variant(
        snakemake.params.training["distributed"],
        target_paths=[Path(path) for path in snakemake.input.targets],
        feature_indexes=[Path(path) for path in snakemake.input.features],
        llm_manifest=Path(snakemake.input.llm),
        encoder_manifest=Path(snakemake.input.encoder),
        mix=snakemake.params.mix,
        prompts={
            "begin_audio": snakemake.params.begin_audio,
            "end_audio": snakemake.params.end_audio,
            "system_message": snakemake.params.system_message,
        },
        layers=snakemake.params.features["layers"],
        feature_settings=snakemake.params.features,
        adapter_settings=snakemake.params.adapter,
        training_settings=snakemake.params.training,
        out_dir=Path(snakemake.output.weights).parent,
        init_from=Path(snakemake.input.init_from[0]).parent if snakemake.input.init_from else None,
    )
