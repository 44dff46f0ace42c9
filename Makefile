# Two commands: `make lab` opens the course, `make test` runs every test. Each sets itself up.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
KERNEL := ddim-teach
PORT   ?= 8888
LECTURE_PORT ?= 8866
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)

.PHONY: lab lecture test setup bench train clean-venv reset-outputs

$(STAMP): pyproject.toml requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c requirements.lock "torch==2.13.0" -e ".[dev]"
	touch $(STAMP)

# The kernel is registered for the user on every run, so that it points at this clone's venv even after
# another clone (or a deleted one) registered the same name.
setup: $(STAMP)
	@$(PY) -m ipykernel install --user --name $(KERNEL) --display-name "Python (ddim-teach)" >/dev/null

lab: setup
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks --port=$(PORT) $(ROOT_FLAG)

# The explorer as a clean app (no code cells, large fonts) for projecting in class; Ctrl-C stops it.
lecture: setup
	$(VENV)/bin/voila notebooks/lecture_explorer.ipynb --port=$(LECTURE_PORT) --Voila.ip=127.0.0.1

test: setup
	OMP_NUM_THREADS=2 $(PY) -m pytest

bench: setup
	$(PY) -m ddim_teach.bench

train: setup
	$(PY) -m ddim_teach.train --out checkpoints/unet.pt --resume

reset-outputs: setup
	$(VENV)/bin/jupyter nbconvert --clear-output --inplace notebooks/*.ipynb

clean-venv:
	rm -rf $(VENV)
