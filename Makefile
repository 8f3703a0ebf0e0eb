# newsbrief: `make digest` and `make test` are the whole set-up on a fresh machine.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
CONFIG ?= config.yaml
TINY   := config.tiny.yaml
# The CPU build of torch; an unpinned torch pulls several GB of CUDA wheels.
TORCH  ?= torch==2.13.0

.PHONY: setup digest test models tiny-models bench bench-quick bench-langid bench-segment bench-stories bench-memory bench-nights bench-scale lint format doctor docs clean

setup: $(VENV)/.installed

# Re-installs only when the pins change. pip's output goes to a log that is shown when it fails.
$(VENV)/.installed: requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "setting up $(VENV) (log: $(VENV)/install.log)"
	@{ $(PY) -m pip install -q --upgrade pip && \
	   $(PY) -m pip install -q "$(TORCH)" && \
	   $(PY) -m pip install -q -r requirements.txt && \
	   $(PY) -m pip install -q --no-deps -e . ; } > $(VENV)/install.log 2>&1 \
	  || { grep -v "is ignored: it is neither" $(VENV)/install.log; exit 1; }
	@touch $@

## Fetch the models config.yaml routes to, then the new items of the feeds it lists (each failure
## is reported, not fatal; no feeds: nothing is fetched), then process the inbox.
digest: setup
	-@$(PY) -m pipeline models download --config $(CONFIG)
	-@$(PY) -m pipeline fetch --config $(CONFIG)
	$(PY) -m pipeline digest --config $(CONFIG)

## Fetch and convert the routed models, then check each one's output on built-in texts (a model
## that could not be fetched is reported by both; `verify` decides the exit code).
models: setup
	-$(PY) -m pipeline models download --config $(CONFIG)
	$(PY) -m pipeline models verify --config $(CONFIG)

## Tiny random-weight models of the real classes, for tests and offline trials (meaningless English).
tiny-models: setup
	$(PY) -m tests.fixtures.tiny_models models/tiny

test: setup
	$(PY) -m pytest -q

bench: setup
	$(PY) -m bench.speed

bench-quick: setup
	$(PY) -m bench.speed --quick

bench-langid: setup
	$(PY) -m bench.langid

bench-memory: setup
	$(PY) -m bench.memory

## The 1,000-article synthetic inbox on the local executor and on a local Ray cluster; nodes for a night.
bench-scale: setup
	$(PY) -m bench.scale

bench-segment: setup
	$(PY) -m bench.segment

## Story grouping against ECB+ gold events (../shared/eval/stories), next to two baselines; across
## languages on real news (../shared/eval/realnews, seeds, cross-validated constants); key figures
## on our own English gold sets; headlines against ECB+ titles.
bench-stories: setup tiny-models
	$(PY) -m bench.stories
	$(PY) -m bench.realnews
	$(PY) -m bench.figures
	$(PY) -m bench.headlines

## A year of nights on a real state database: time per night as the stories kept grow.
bench-nights: setup
	$(PY) -m bench.nights

## docs/configuration-reference.md from the options classes (tests/test_docs.py fails when it is stale).
docs: setup
	$(PY) -m pipeline.configdoc docs/configuration-reference.md

lint: setup
	$(PY) -m ruff check pipeline tests bench
	$(PY) -m ruff format --check pipeline tests bench

format: setup
	$(PY) -m ruff format pipeline tests bench
	$(PY) -m ruff check --fix pipeline tests bench

doctor: setup
	$(PY) -m pipeline doctor --config $(CONFIG)

clean:
	rm -rf $(VENV) output models/tiny bench/.cache .pytest_cache
