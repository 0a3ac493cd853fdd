rule metadata:
    input:
        corpus_annotation_files,
    output:
        metadata="data/metadata/{corpus}.parquet",
        rejects="data/metadata/{corpus}.rejects.parquet",
    params:
        corpus=lambda wildcards: canonical(config["corpora"][wildcards.corpus]),
        hygiene=canonical(config["audio_hygiene"]),
    log:
        "logs/metadata/{corpus}.log",
    benchmark:
        "benchmarks/metadata/{corpus}.tsv"
    conda:
        "../envs/data.yaml"
    script:
        "../workflow_scripts/metadata.py"
