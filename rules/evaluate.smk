# Every evaluation of Tables IV and V: its items (from released files, or built from held-out
# clips), the features of its clips, one answer sheet per model, then the two tables.
rule evaluation_clips:
    input:
        metadata=metadata_tables(),
        truth=demo_truth(),
    output:
        clips="data/eval/clips.parquet",
    resources:
        **job_resources("evaluation_clips"),
    log:
        "logs/evaluate/clips.log",
    benchmark:
        "benchmarks/evaluate/clips.tsv"
    conda:
        "../envs/evaluation.yaml"
    script:
        "../workflow_scripts/evaluation_clips.py"


rule evaluation_items:
    input:
        files=benchmark_files,
        clips="data/eval/clips.parquet",
    output:
        questions="data/eval/items/{evaluation}.parquet",
    params:
        benchmark=lambda wildcards: canonical(config["evaluation"]["benchmarks"].get(wildcards.evaluation)),
        settings=evaluation_item_settings,
    resources:
        **job_resources("evaluation_items"),
    log:
        "logs/evaluate/items/{evaluation}.log",
    benchmark:
        "benchmarks/evaluate/items/{evaluation}.tsv"
    conda:
        "../envs/evaluation.yaml"
    script:
        "../workflow_scripts/evaluation_items.py"


# Clips of the training corpora are already in their corpus's cache; the rest are encoded here.
rule evaluation_features:
    input:
        questions="data/eval/items/{evaluation}.parquet",
        encoder="models/encoder.json",
        shapes=ancient(SHAPES),
    output:
        index="data/eval/features/{evaluation}/index.parquet",
    params:
        settings=canonical(config["features"]),
    threads: MODEL_THREADS
    resources:
        **job_resources("evaluation_features", MODEL_THREADS, MODEL_GPUS),
    log:
        "logs/evaluate/features/{evaluation}.log",
    benchmark:
        "benchmarks/evaluate/features/{evaluation}.tsv"
    conda:
        "../envs/evaluation.yaml"
    script:
        "../workflow_scripts/evaluation_features.py"


rule evaluate_adapter:
    input:
        questions="data/eval/items/{evaluation}.parquet",
        features="data/eval/features/{evaluation}/index.parquet",
        corpus_features=feature_indexes(),
        adapter="models/adapters/{variant}/adapter.safetensors",
        llm="models/llm.json",
        shapes=ancient(SHAPES),
    output:
        answers="results/eval/{evaluation}/{variant}.answers.parquet",
        metrics="results/eval/{evaluation}/{variant}.json",
    params:
        answering=canonical(config["evaluation"]["answering"]),
        judge=judge_settings,
    threads: MODEL_THREADS
    resources:
        **job_resources("evaluate_adapter", MODEL_THREADS, MODEL_GPUS),
    log:
        "logs/evaluate/{evaluation}/{variant}.log",
    benchmark:
        "benchmarks/evaluate/{evaluation}/{variant}.tsv"
    conda:
        "../envs/evaluation.yaml"
    script:
        "../workflow_scripts/evaluate_adapter.py"


# The backbone reads each clip's tags or caption where the audio would be: the best an adapter
# standing in for that text could do, and the text-only reference of the forgetting rate.
rule evaluate_text_ceiling:
    input:
        questions="data/eval/items/{evaluation}.parquet",
        llm="models/llm.json",
        shapes=ancient(SHAPES),
    output:
        answers="results/eval/{evaluation}/text_ceiling.answers.parquet",
        metrics="results/eval/{evaluation}/text_ceiling.json",
    params:
        answering=canonical(config["evaluation"]["answering"]),
        judge=judge_settings,
        template=prompt_template(),
    threads: MODEL_THREADS
    resources:
        **job_resources("evaluate_text_ceiling", MODEL_THREADS, MODEL_GPUS),
    log:
        "logs/evaluate/{evaluation}/text_ceiling.log",
    benchmark:
        "benchmarks/evaluate/{evaluation}/text_ceiling.tsv"
    conda:
        "../envs/evaluation.yaml"
    script:
        "../workflow_scripts/evaluate_text_ceiling.py"


# A baseline audio LLM behind an OpenAI-compatible endpoint (evaluation.baselines), asked the items
# the adapters are: those whose clips have cached features. Its answers depend on the server's
# model alone (not on concurrency or timeouts). It only sends requests, so it runs on the
# submitting host, which reaches the endpoint.
rule evaluate_baseline:
    input:
        questions="data/eval/items/{evaluation}.parquet",
        features="data/eval/features/{evaluation}/index.parquet",
        corpus_features=feature_indexes(),
    output:
        answers="results/eval/{evaluation}/{baseline}.answers.parquet",
        metrics="results/eval/{evaluation}/{baseline}.json",
    params:
        answering=canonical(config["evaluation"]["answering"]),
        judge=judge_settings,
        endpoint=baseline_endpoint,
    resources:
        **job_resources("evaluate_baseline"),
    log:
        "logs/evaluate/{evaluation}/{baseline}.log",
    benchmark:
        "benchmarks/evaluate/{evaluation}/{baseline}.tsv"
    conda:
        "../envs/evaluation.yaml"
    script:
        "../workflow_scripts/evaluate_baseline.py"


# The answer sheets give each metric its interval and chance level, and pair the models' items.
rule evaluation_tables:
    input:
        metrics=expand(
            "results/eval/{evaluation}/{model}.json", evaluation=EVALUATIONS_RUN, model=PIPELINE.evaluated_models
        ),
        answers=expand(
            "results/eval/{evaluation}/{model}.answers.parquet",
            evaluation=EVALUATIONS_RUN,
            model=PIPELINE.evaluated_models,
        ),
    output:
        table4=report("results/table4.csv", caption="../report/table4.rst", category="Results", labels={"table": "IV (csv)"}),
        table4_plot=report("results/table4.png", caption="../report/table4.rst", category="Results", labels={"table": "IV"}),
        table5=report("results/table5.csv", caption="../report/table5.rst", category="Results", labels={"table": "V (csv)"}),
        table5_plot=report("results/table5.png", caption="../report/table5.rst", category="Results", labels={"table": "V"}),
        details=report("results/eval_details.csv", caption="../report/details.rst", category="Results", labels={"table": "every metric"}),
        comparisons=report("results/comparisons.csv", caption="../report/comparisons.rst", category="Results", labels={"table": "paired comparisons"}),
    params:
        models=PIPELINE.evaluated_models,
        unconfigured=PIPELINE.evaluation.unconfigured,
        text_model=PIPELINE.text_model,
    resources:
        **job_resources("evaluation_tables"),
    log:
        "logs/evaluate/tables.log",
    benchmark:
        "benchmarks/evaluate/tables.tsv"
    conda:
        "../envs/evaluation.yaml"
    script:
        "../workflow_scripts/evaluation_tables.py"


# Small jobs: they run where Snakemake runs, not as cluster jobs.
localrules:
    evaluation_clips,
    evaluation_items,
    evaluate_baseline,
    evaluation_tables,
