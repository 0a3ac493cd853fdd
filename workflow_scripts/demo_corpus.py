from balsa_core.stages.demo import demo_corpus
from balsa_core.workflow import run_stage

run_stage(snakemake, demo_corpus)
