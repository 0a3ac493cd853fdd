# One adapter per variant. Checkpoints go to models/adapters/<variant>.checkpoints/, beside the
# declared outputs that Snakemake deletes after a failure, so a rerun resumes from them.
# Stage 2 of the multi-audio curriculum (init_from) starts from its stage-1 adapter.
rule train_adapter:
    wildcard_constraints:
        variant="|".join(VARIANTS),
    input:
        targets=variant_targets,
        features=feature_indexes(),
        llm="models/llm.json",
        encoder="models/encoder.json",
        shapes=ancient(SHAPES),
        init_from=stage_one_adapter,
    output:
        weights="models/adapters/{variant}/adapter.safetensors",
        spec="models/adapters/{variant}/balsa_adapter.json",
        loss="models/adapters/{variant}/loss.csv",
        loss_plot=report(
            "models/adapters/{variant}/loss.png", caption="../report/loss.rst", category="Training", labels={"variant": "{variant}"}
        ),
    params:
        mix=lambda wildcards: canonical(variant_mix(config["variants"][wildcards.variant])),
        template=prompt_template(),
        features=canonical(config["features"]),
        adapter=canonical(config["adapter"]),
        training=lambda wildcards: canonical(variant_training(config, wildcards.variant)),
    threads: TRAINING_THREADS
    resources:
        **job_resources("train_adapter", TRAINING_THREADS, TRAINING_GPUS),
    log:
        "logs/train/{variant}.log",
    benchmark:
        "benchmarks/train/{variant}.tsv"
    conda:
        "../envs/training.yaml"
    script:
        "../workflow_scripts/train_adapter.py"
