# Two commands on a fresh machine: `make sweep` (set up + a real sweep) and `make test` (set up + tests).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup data browser sweep test test-fast bench lint clean

setup: $(STAMP) data

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.14.1 torchvision==0.29.1
	$(BIN)/pip install --quiet -e '.[test]'
	# W&B's own sweep engine, the reference the W&B tests compare with. --no-deps: it pins
	# numpy<2, which torch and pandas here outgrew; its validation and samplers run on numpy 2.
	# Its other needs (jsonref, jsonschema, pydantic) are in the [test] extra.
	$(BIN)/pip install --quiet --no-deps 'sweeps==0.3.0'
	touch $(STAMP)

# Fashion-MNIST from Debian (the trainables fall back to torchvision's download without it).
data:
	@bash scripts/apt-install.sh dataset-fashion-mnist /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz

# Headless Chromium for the report's browser test.
browser:
	@bash scripts/apt-install.sh chromium /usr/bin/chromium

sweep: setup
	$(BIN)/raysearch run examples/quickstart.yaml

test: setup browser
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/pytest -q

# The sub-minute tier, for every save: no Ray, no benchmarks, nothing slow.
test-fast: setup
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/pytest -q -m "not ray and not slow and not bench"

# The benchmarks of BENCHMARKS.md, side by side in one run (about three hours on 2 cores: the
# race is 12 contenders x 5 seeds x BUDGET seconds plus the tutorial grid once, driver_load
# ~50 min). Installs the [bench] extra (Syne Tune, a contender in the race).
BUDGET ?= 60
SEEDS  ?= 0 1 2 3 4
bench: setup
	$(BIN)/pip install --quiet -e '.[test,bench]'
	$(BIN)/python -m bench.cli_startup --repeat 5 --out bench/results/cli_startup.json
	$(BIN)/python -m bench.overhead --n 50 200 --out bench/results/overhead.json
	$(BIN)/python -m bench.throughput --epochs 3 --out bench/results/throughput.json
	$(BIN)/python -m bench.scaling --trials 8 --epochs 2 --out bench/results/scaling.json
	$(BIN)/python -m bench.optuna_roundtrip --trials 20 --calls 20 --out bench/results/optuna_roundtrip.json
	$(BIN)/python -m bench.sklearn_search --seeds 0 1 2 --out bench/results/sklearn_search.json
	$(BIN)/python -m bench.many_fits --repeat 4 --fits 8 --out bench/results/many_fits.json
	$(BIN)/python -m bench.first_result --seeds 5 --out bench/results/first_result.json
	$(BIN)/python -m bench.cli_exit --repeat 6 --out bench/results/cli_exit.json
	$(BIN)/python -m bench.ray_start --repeat 12 --out bench/results/ray_start.json
	$(BIN)/python -m bench.preloaded_torch --seeds 4 --out bench/results/preloaded_torch_now.json
	$(BIN)/python -m bench.driver_load --trials 1000 --iterations 100 --checkpoint-every 10 \
		--repeat 2 --out bench/results/driver_load.json
	$(BIN)/python -m bench.race --budget $(BUDGET) --seeds $(SEEDS) --grid \
		--out bench/results/race.json --plot bench/race.png

lint: setup
	$(BIN)/ruff check .
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) runs .pytest_cache
