# Two commands do all the set-up: `make run` (execute the notebooks, write build/) and `make test`.
# Both create the virtual environment .venv on first use.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# PyTorch is installed first so a CPU-only machine can pick its build, e.g.
#   make test TORCH="torch --index-url https://download.pytorch.org/whl/cpu"
TORCH  ?= torch==2.13.0
# make run WHAT=chapter01   |  make run WHAT="chapter01/02_sharpe_ratio.ipynb" QUICK=1
WHAT   ?= all
QUICK  ?=
STAMP  := $(VENV)/.installed
# Jupyter refuses to start as root (containers, cloud notebooks) unless told --allow-root.
USER_ID ?= $(shell id -u)
LAB_FLAGS ?= $(if $(filter 0,$(USER_ID)),--allow-root,)

.PHONY: env run test lint pytest lab clean

env: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip show torch >/dev/null 2>&1 || $(BIN)/python -m pip install $(TORCH)
	$(BIN)/python -m pip install -e ".[dev]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m common run $(WHAT) $(if $(QUICK),--quick,)

lint: $(STAMP)
	$(BIN)/ruff check .

pytest: $(STAMP)
	GATAM_QUICK=1 $(BIN)/python -m pytest -n 2 --dist loadfile --nbval-lax tests chapter*/

test: lint pytest

lab: $(STAMP)
	$(BIN)/python -m pip show jupyterlab >/dev/null 2>&1 || $(BIN)/python -m pip install -e ".[lab]"
	$(BIN)/jupyter lab $(LAB_FLAGS)

clean:
	rm -rf build .pytest_cache .ruff_cache
