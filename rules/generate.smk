# Target generation. A set's params are only what its targets depend on, so editing one
# prompt reruns that set and what trains on it. Finished shards live in <set>.shards/ beside
# the declared outputs, which Snakemake deletes when a job fails: a rerun reuses them.
rule generate_targets:
    input:
        metadata=["data/metadata/{corpus}.parquet"],
        llm=generation_models,
        shapes=generation_shape_check,
        questions=question_file,
    output:
        targets="data/targets/{corpus}/{target_set}.parquet",
        quality="data/targets/{corpus}/{target_set}.quality.json",
    wildcard_constraints:
        target_set="|".join(SINGLE_AUDIO_SETS),
    params:
        target_set=target_set_params,
        template=prompt_template(),
        generation=lambda wildcards: canonical(generation_params(config, wildcards.target_set)),
    threads: MODEL_THREADS
    resources:
        **job_resources("generate_targets", MODEL_THREADS, generation_gpus),
    log:
        "logs/generate/{corpus}/{target_set}.log",
    benchmark:
        "benchmarks/generate/{corpus}/{target_set}.tsv"
    conda:
        "../envs/generation.yaml"
    script:
        "../workflow_scripts/generate_targets.py"


# BALSa-MA: the backbone writes about two clips at once, on the pairs of the corpora stage.
rule generate_pair_targets:
    input:
        metadata=metadata_tables(),
        pairs="data/pairs/pairs.parquet",
        llm=generation_models,
        shapes=generation_shape_check,
    output:
        targets="data/pair_targets/{target_set}.parquet",
        quality="data/pair_targets/{target_set}.quality.json",
    wildcard_constraints:
        target_set="|".join(PAIR_SETS),
    params:
        target_set=target_set_params,
        template=prompt_template(),
        generation=lambda wildcards: canonical(generation_params(config, wildcards.target_set)),
    threads: MODEL_THREADS
    resources:
        **job_resources("generate_pair_targets", MODEL_THREADS, generation_gpus),
    log:
        "logs/generate/pairs/{target_set}.log",
    benchmark:
        "benchmarks/generate/pairs/{target_set}.tsv"
    conda:
        "../envs/generation.yaml"
    script:
        "../workflow_scripts/generate_pair_targets.py"


rule generation_quality:
    input:
        reports=all_quality_reports(),
    output:
        table=report("results/generation_quality.csv", caption="../report/generation_quality.rst", category="Data"),
    resources:
        **job_resources("generation_quality"),
    log:
        "logs/generation_quality.log",
    benchmark:
        "benchmarks/generation_quality.tsv"
    conda:
        "../envs/data.yaml"
    script:
        "../workflow_scripts/generation_quality.py"


# Small jobs: they run where Snakemake runs, not as cluster jobs.
localrules:
    generation_quality,
