# Shards are written beside the index and survive a failed job; a rerun keeps the finished
# shards that were made with the same encoder and layers.
rule cache_features:
    input:
        metadata="data/metadata/{corpus}.parquet",
        encoder="models/encoder.json",
        shapes=ancient(SHAPES),
    output:
        index="data/features/{corpus}/index.parquet",
    params:
        settings=canonical(config["features"]),
    threads: MODEL_THREADS
    resources:
        **job_resources("cache_features", MODEL_THREADS, MODEL_GPUS),
    log:
        "logs/features/{corpus}.log",
    benchmark:
        "benchmarks/features/{corpus}.tsv"
    conda:
        "../envs/training.yaml"
    script:
        "../workflow_scripts/cache_features.py"
