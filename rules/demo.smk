rule demo_corpus:
    output:
        esc50="data/demo/esc50/meta/esc50.csv",
        audiocaps=expand("data/demo/audiocaps/{split}.csv", split=["train", "val", "test"]),
        truth="data/demo/events.csv",
    params:
        settings=canonical(config.get("demo_corpus", {})),
    log:
        "logs/demo_corpus.log",
    benchmark:
        "benchmarks/demo_corpus.tsv"
    conda:
        "../envs/data.yaml"
    script:
        "../workflow_scripts/demo_corpus.py"
