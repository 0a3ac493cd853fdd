# Only the settings a target depends on are params, so editing one prompt reruns only the
# targets of that prompt kind and what is trained on them.
rule generate_targets:
    input:
        metadata="data/metadata/{corpus}.parquet",
        llm="models/llm.json",
    output:
        "data/targets/{corpus}/{kind}.parquet",
    params:
        begin_audio=config["prompts"]["begin_audio"],
        end_audio=config["prompts"]["end_audio"],
        instruction=lambda wildcards: config["prompts"]["generation"][wildcards.kind],
        samples_per_seed=lambda wildcards: samples_per_seed(config, wildcards.kind),
        generation=canonical(config["generation"]),
    threads: MODEL_THREADS
    log:
        "logs/generate/{corpus}/{kind}.log",
    benchmark:
        "benchmarks/generate/{corpus}/{kind}.tsv"
    conda:
        "../envs/generation.yaml"
    script:
        "../workflow_scripts/generate_targets.py"
