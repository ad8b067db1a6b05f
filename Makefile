# Two entry points on a fresh machine: `make demo` and `make test`. Each installs what it needs
# into .venv (plain torch/torchvision from the registry: CUDA builds that run on the CPU): the demo
# the package alone, the tests also the test extras (TVM, NVRTC, psycopg2, pytest). One stamp per set.
# --no-cache-dir: no second copy of the multi-GB torch wheels in pip's cache (a CI install once ran out of disk).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_STAMP := $(VENV)/.installed-demo
TEST_STAMP := $(VENV)/.installed-test

.PHONY: demo test install check-example-contention clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --no-cache-dir --upgrade pip

$(DEMO_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --no-cache-dir -e .
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --no-cache-dir -e ".[test]"
	touch $@ $(DEMO_STAMP)

install: $(TEST_STAMP)

demo: $(DEMO_STAMP)
	$(BIN)/hwaware latency resnet50 --gpu agx --by-layer

# Two workers (pytest-xdist; a test file stays on one worker, so its module fixtures are built once), one OpenMP
# thread each so that they do not contend for two cores; TEST_WORKERS=0 runs the tests in pytest's own process.
TEST_WORKERS ?= 2
test: $(TEST_STAMP)
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile

# The example search beside one busy process per core must finish in under two minutes (issue 12).
check-example-contention: $(DEMO_STAMP)
	$(BIN)/python scripts/example_under_contention.py

clean:
	rm -rf $(VENV) build *.egg-info
