from balsa_core.stages.metadata import multi_audio_pairs
from balsa_core.workflow import run_stage

run_stage(snakemake, multi_audio_pairs)
