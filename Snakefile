# balsa: BALSa/LISTEN as a Snakemake DAG.
#   demo corpus -> metadata -> target sets (backbone LLM) -> encoder features -> adapter training
#   -> evaluation items and features -> answers per model -> results/table4.csv, results/table5.csv
from snakemake.utils import min_version

min_version("9.0")


configfile: "config.yaml"


report: "report/workflow.rst"


include: "rules/common.smk"
include: "rules/demo.smk"
include: "rules/metadata.smk"
include: "rules/models.smk"
include: "rules/generate.smk"
include: "rules/features.smk"
include: "rules/train.smk"
include: "rules/evaluate.smk"
include: "rules/grounding.smk"


rule all:
    default_target: True
    input:
        "results/table4.csv",
        "results/table4.png",
        "results/table5.csv",
        "results/table5.png",
        "results/grounding.csv",
        "results/grounding.png",
        "results/data_summary.csv",
        "results/generation_quality.csv",
