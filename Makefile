# devicephys — the two commands a new user needs: `make demo` and `make test`.
PY := .venv/bin/python
OUT ?= results

.PHONY: setup demo test test-all bench clean

setup:  ## build (first time) or reuse the environment in .venv
	@bash scripts/setup.sh

demo: setup  ## run the pipeline on the default device, results in $(OUT)/
	@$(PY) -m devicephys run --out $(OUT)

test: setup  ## the default test suite (fast checks, real engines)
	@$(PY) -m pytest -q

test-all: setup  ## every test, the slow ones included
	@$(PY) -m pytest -q -m "slow or not slow"

bench: setup  ## benchmarks (side-by-side ratios, not run by CI)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(OUT) .pytest_cache
