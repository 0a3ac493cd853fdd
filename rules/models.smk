# Bundled models are converted once into models/bundled/<name>; other sources are recorded
# as they are. Every later stage loads from the manifest.
rule prepare_model:
    output:
        manifest="models/{role}.json",
    params:
        source=lambda wildcards: config["models"][wildcards.role],
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


# Small jobs: they run where Snakemake runs, not as cluster jobs.
localrules:
    prepare_model,
