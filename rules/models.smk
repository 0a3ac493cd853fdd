# Bundled models are converted once into models/bundled/<name>; a hub id is downloaded once, at
# its pinned revision, into models.cache_dir; a local directory is recorded as it is. Every
# later stage loads from the manifest, with the hub offline.
rule prepare_model:
    output:
        manifest="models/{role}.json",
    params:
        source=lambda wildcards: config["models"][wildcards.role],
        revision=lambda wildcards: config["models"][f"{wildcards.role}_revision"],
        cache_dir=config["models"]["cache_dir"],
    resources:
        **job_resources("prepare_model"),
    log:
        "logs/models/{role}.log",
    benchmark:
        "benchmarks/models/{role}.tsv"
    conda:
        "../envs/training.yaml"
    script:
        "../workflow_scripts/prepare_model.py"


# The settings only the backbones' shapes can check (encoder layers, adapter heads), checked
# before any generation, feature or training job: those take its output as ancient() input, so
# that a new check alone reruns none of them.
rule check_shapes:
    input:
        llm="models/llm.json",
        encoder="models/encoder.json",
    output:
        shapes=SHAPES,
    params:
        layers=config["features"]["layers"],
        num_heads=config["adapter"]["num_heads"],
    resources:
        **job_resources("check_shapes"),
    log:
        "logs/models/shapes.log",
    benchmark:
        "benchmarks/models/shapes.tsv"
    conda:
        "../envs/data.yaml"
    script:
        "../workflow_scripts/check_shapes.py"


# Small jobs: they run where Snakemake runs, not as cluster jobs.
localrules:
    prepare_model,
    check_shapes,
