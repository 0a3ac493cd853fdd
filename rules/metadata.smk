rule metadata:
    input:
        corpus_annotation_files,
    output:
        metadata="data/metadata/{corpus}.parquet",
        rejects="data/metadata/{corpus}.rejects.parquet",
    params:
        corpus=lambda wildcards: canonical(config["corpora"][wildcards.corpus]),
        hygiene=canonical(config["audio_hygiene"]),
    resources:
        **job_resources("metadata"),
    log:
        "logs/metadata/{corpus}.log",
    benchmark:
        "benchmarks/metadata/{corpus}.tsv"
    conda:
        "../envs/data.yaml"
    script:
        "../workflow_scripts/metadata.py"


rule data_summary:
    input:
        metadata=metadata_tables(),
        # Table III's multi-audio columns, when a variant trains on two-audio sets.
        pairs=["data/pairs/pairs.parquet"] if PIPELINE.samples_per_training_pair else [],
    output:
        summary="results/data_summary.csv",
    params:
        samples_per_seed=PIPELINE.samples_per_training_seed,
        samples_per_pair=PIPELINE.samples_per_training_pair,
    resources:
        **job_resources("data_summary"),
    log:
        "logs/data_summary.log",
    benchmark:
        "benchmarks/data_summary.tsv"
    conda:
        "../envs/data.yaml"
    script:
        "../workflow_scripts/data_summary.py"


rule multi_audio_pairs:
    input:
        metadata=metadata_tables(),
    output:
        pairs="data/pairs/pairs.parquet",
    params:
        settings=canonical(config["pairs"]),
    resources:
        **job_resources("multi_audio_pairs"),
    log:
        "logs/multi_audio_pairs.log",
    benchmark:
        "benchmarks/multi_audio_pairs.tsv"
    conda:
        "../envs/data.yaml"
    script:
        "../workflow_scripts/multi_audio_pairs.py"


# Small jobs: they run where Snakemake runs, not as cluster jobs.
localrules:
    data_summary,
    multi_audio_pairs,
