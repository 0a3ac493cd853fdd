rule demo_corpus:
    output:
        esc50="data/demo/esc50/meta/esc50.csv",
        audiocaps=expand("data/demo/audiocaps/{split}.csv", split=["train", "val", "test"]),
        truth="data/demo/events.csv",
    params:
        settings=canonical(config.get("demo_corpus", {})),
    resources:
        **job_resources("demo_corpus"),
    log:
        "logs/demo_corpus.log",
    benchmark:
        "benchmarks/demo_corpus.tsv"
    conda:
        "../envs/data.yaml"
    script:
        "../workflow_scripts/demo_corpus.py"


# Small evaluation sets in the released formats, built from the held-out demo clips.
rule demo_benchmarks:
    input:
        truth="data/demo/events.csv",
    output:
        demo_benchmark_files(),
    params:
        seed=config.get("demo_corpus", {}).get("seed", 0),
    resources:
        **job_resources("demo_benchmarks"),
    log:
        "logs/demo_benchmarks.log",
    benchmark:
        "benchmarks/demo_benchmarks.tsv"
    conda:
        "../envs/data.yaml"
    script:
        "../workflow_scripts/demo_benchmarks.py"


# Small jobs: they run where Snakemake runs, not as cluster jobs.
localrules:
    demo_corpus,
    demo_benchmarks,
