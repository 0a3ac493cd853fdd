rule train_adapter:
    input:
        targets=variant_targets,
        features=feature_indexes(),
        llm="models/llm.json",
        encoder="models/encoder.json",
    output:
        weights="models/adapters/{variant}/adapter.safetensors",
        spec="models/adapters/{variant}/adapter_config.json",
        loss="models/adapters/{variant}/loss.csv",
        loss_plot="models/adapters/{variant}/loss.png",
    params:
        mix=lambda wildcards: canonical(config["variants"][wildcards.variant]),
        begin_audio=config["prompts"]["begin_audio"],
        end_audio=config["prompts"]["end_audio"],
        layers=config["features"]["layers"],
        adapter=canonical(config["adapter"]),
        training=canonical(config["training"]),
    threads: MODEL_THREADS
    log:
        "logs/train/{variant}.log",
    benchmark:
        "benchmarks/train/{variant}.tsv"
    conda:
        "../envs/training.yaml"
    script:
        "../workflow_scripts/train_adapter.py"
