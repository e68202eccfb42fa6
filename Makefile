# Everything installs itself into .venv on first use; `make test` and `make bench` work on a fresh clone.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3

.PHONY: venv test lint bench bench-full bench-quick bench-reference bench-reference-full speed clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[test]"
	touch $@

venv: $(VENV)/.installed

test: venv
	$(PY) -m pytest -q

lint: venv
	$(VENV)/bin/ruff check focal_boost tests examples benchmarks

# The benchmark writes to ./focal_boost_results/<name>/ (ignored by git): `make bench` leaves the checkout clean.
bench: venv
	$(VENV)/bin/focal-boost bench

bench-full: venv
	$(VENV)/bin/focal-boost bench --suite full

bench-quick: venv
	$(VENV)/bin/focal-boost bench --quick

# Developers: refresh the committed reference run that the README quotes.
bench-reference: venv
	$(VENV)/bin/focal-boost bench --out benchmarks/results/default

bench-reference-full: venv
	$(VENV)/bin/focal-boost bench --suite full --out benchmarks/results/full

speed: venv
	$(PY) benchmarks/speed.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache focal_boost_results
