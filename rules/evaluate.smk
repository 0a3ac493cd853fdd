rule hallucination_items:
    input:
        metadata=metadata_tables(),
        truth=demo_truth(),
    output:
        "data/eval/hallucination_items.parquet",
    params:
        settings=canonical(config["evaluation"]["hallucination"]),
    log:
        "logs/evaluate/hallucination_items.log",
    benchmark:
        "benchmarks/evaluate/hallucination_items.tsv"
    conda:
        "../envs/training.yaml"
    script:
        "../workflow_scripts/hallucination_items.py"


rule evaluate_adapter:
    input:
        questions="data/eval/hallucination_items.parquet",
        adapter="models/adapters/{variant}/adapter.safetensors",
        features=feature_indexes(),
        llm="models/llm.json",
    output:
        answers="results/eval/hallucination/{variant}.answers.parquet",
        metrics="results/eval/hallucination/{variant}.json",
    params:
        settings=canonical(config["evaluation"]["hallucination"]),
    threads: MODEL_THREADS
    log:
        "logs/evaluate/{variant}.log",
    benchmark:
        "benchmarks/evaluate/{variant}.tsv"
    conda:
        "../envs/training.yaml"
    script:
        "../workflow_scripts/evaluate_hallucination.py"


# The backbone answers with the true tags written where the audio would be: the best an
# adapter standing in for that text could do.
rule evaluate_text_ceiling:
    input:
        questions="data/eval/hallucination_items.parquet",
        llm="models/llm.json",
    output:
        answers="results/eval/hallucination/text_ceiling.answers.parquet",
        metrics="results/eval/hallucination/text_ceiling.json",
    params:
        settings=canonical(config["evaluation"]["hallucination"]),
        begin_audio=config["prompts"]["begin_audio"],
        end_audio=config["prompts"]["end_audio"],
    threads: MODEL_THREADS
    log:
        "logs/evaluate/text_ceiling.log",
    benchmark:
        "benchmarks/evaluate/text_ceiling.tsv"
    conda:
        "../envs/training.yaml"
    script:
        "../workflow_scripts/evaluate_hallucination.py"


rule table4:
    input:
        expand("results/eval/hallucination/{model}.json", model=evaluated_models()),
    output:
        table="results/table4.csv",
        plot="results/table4.png",
    log:
        "logs/table4.log",
    benchmark:
        "benchmarks/table4.tsv"
    conda:
        "../envs/training.yaml"
    script:
        "../workflow_scripts/table4.py"
