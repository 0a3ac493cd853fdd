# Grounding: a description prompt on held-out tagged clips, each reply scored by the clip's tag
# words it names against another clip's. Its items, features and answers come from the rules of
# every evaluation (evaluate.smk); these add its floor, the untrained adapter, and its table.


# The adapter as training starts it (same shape, same seed), saved as a trained one is, so that
# evaluate_adapter reads it unchanged. Not a variant: it is asked only the grounding evaluation.
rule untrained_adapter:
    input:
        features=feature_indexes(),
        llm="models/llm.json",
        encoder="models/encoder.json",
        shapes=ancient(SHAPES),
    output:
        weights="models/adapters/{}/adapter.safetensors".format(UNTRAINED),
        spec="models/adapters/{}/balsa_adapter.json".format(UNTRAINED),
    params:
        template=prompt_template(),
        features=canonical(config["features"]),
        adapter=canonical(config["adapter"]),
        seed=config["training"]["seed"],
    threads: MODEL_THREADS
    resources:
        **job_resources("untrained_adapter", MODEL_THREADS, MODEL_GPUS),
    log:
        "logs/train/{}.log".format(UNTRAINED),
    benchmark:
        "benchmarks/train/{}.tsv".format(UNTRAINED)
    conda:
        "../envs/training.yaml"
    script:
        "../workflow_scripts/untrained_adapter.py"


rule grounding_table:
    input:
        answers=expand(
            "results/eval/{evaluation}/{model}.answers.parquet", evaluation=GROUNDING, model=PIPELINE.grounding_models
        ),
    output:
        table=report("results/grounding.csv", caption="../report/grounding.rst", category="Results", labels={"table": "grounding (csv)"}),
        plot=report("results/grounding.png", caption="../report/grounding.rst", category="Results", labels={"table": "grounding"}),
    params:
        models=PIPELINE.grounding_models,
        seed=config["evaluation"][GROUNDING]["seed"],
    resources:
        **job_resources("grounding_table"),
    log:
        "logs/evaluate/grounding_table.log",
    benchmark:
        "benchmarks/evaluate/grounding_table.tsv"
    conda:
        "../envs/evaluation.yaml"
    script:
        "../workflow_scripts/grounding_table.py"


# Small jobs: they run where Snakemake runs, not as cluster jobs.
localrules:
    grounding_table,
