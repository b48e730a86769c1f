# Two commands do everything on a fresh machine: `make demo` and `make test`.
# Both are idempotent: each step is skipped when what it makes is already there.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
INPUTS := .cache/inputs
SETUP_STAMP := $(VENV)/.setup-complete
# Test-only tools: Khronos' glTF validator (npm) checks our .glb exports; Debian's Chromium runs the
# web page's tests.
NODE_TOOLS := .cache/node
GLTF_VALIDATOR := gltf-validator@2.0.0-dev.3.10
DEMO_OUT ?= out/demo.mp4

.PHONY: setup system demo serve test test-tools test-fast fuzz lint bench clean

setup: system $(SETUP_STAMP) $(INPUTS)/.complete

system:
	@bash scripts/install_system_deps.sh

$(SETUP_STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	# torch first, pinned: the local CPU wheel; never an unpinned torch (CUDA builds are GBs).
	$(BIN)/python -m pip install --quiet "torch==2.13.0"
	$(BIN)/python -m pip install --quiet -e ".[all,test,dev]"
	@touch $@

$(INPUTS)/.complete: scripts/fetch_inputs.py $(SETUP_STAMP)
	$(BIN)/python scripts/fetch_inputs.py $(INPUTS)
	@touch $@

demo: setup
	@mkdir -p $(dir $(DEMO_OUT))
	$(BIN)/talkingface animate --face $(INPUTS)/astronaut.png --audio $(INPUTS)/two_cities.wav \
		--transcript $(INPUTS)/two_cities.txt -o $(DEMO_OUT)

# The web service on this machine, the demo's photo and speech offered as examples on its page.
serve: setup
	$(BIN)/talkingface serve --examples $(INPUTS)

$(NODE_TOOLS)/.complete:
	@mkdir -p $(NODE_TOOLS)
	npm install --silent --no-audit --no-fund --prefix $(NODE_TOOLS) $(GLTF_VALIDATOR)
	@touch $@

test-tools: $(NODE_TOOLS)/.complete
	@bash scripts/install_system_deps.sh --test

# The suite runs one worker per core, each single-threaded (test files stay whole on one worker, so
# their module fixtures are made once): 2 workers on 2 cores take about 0.6x the time of one worker with
# every core, whose threads mostly wait on each other on the suite's small tensors.
PYTEST := OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(BIN)/python -m pytest -n auto --dist loadfile

test: setup test-tools
	$(PYTEST) -q --durations=20

# The fast tier: everything but the tests marked slow (a few minutes on 2 cores).
test-fast: setup test-tools
	$(PYTEST) -q -m "not slow"

# A longer fuzzing run of the parsers we own (the suite runs a bounded, repeatable one).
fuzz: setup
	TALKINGFACE_FUZZ_EXAMPLES=$${EXAMPLES:-20000} $(BIN)/python -m pytest -q -p no:cacheprovider tests/robustness/test_fuzz.py

# Lint, format and types, as CI runs them.
lint: setup
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/mypy

bench: setup
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .cache out
