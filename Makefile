# Two commands: `make lab` opens the course, `make test` runs every test (`make test-fast`: the package
# tests only, about a minute on 2 cores: docs/RESULTS.md). Each sets itself up. ddim-teach needs Python 3.11 or newer.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
COURSE_STAMP := $(VENV)/.installed-course
DEV_STAMP    := $(VENV)/.installed-dev
# Torch: PyPI's Linux wheel of torch pulls several GB of CUDA libraries (nvidia-*), which a CPU course never uses.
# On Linux the CPU build comes from PyTorch's own index (TORCH=cuda: PyPI's default build instead). Where that index
# cannot be reached (an offline mirror), pip's own configuration decides, and the note below says so.
TORCH ?= cpu
TORCH_CPU_INDEX := https://download.pytorch.org/whl/cpu
TORCH_INDEX_UP   = $(shell $(PYTHON) -c "import urllib.request as u; u.urlopen('$(TORCH_CPU_INDEX)/torch/', timeout=5)" >/dev/null 2>&1 && echo yes)
TORCH_FLAGS      = $(if $(and $(filter cpu,$(TORCH)),$(filter Linux,$(shell uname -s))),$(if $(TORCH_INDEX_UP),--extra-index-url $(TORCH_CPU_INDEX),$(info note: $(TORCH_CPU_INDEX) is not reachable; torch comes from pip's configured index)))
PIP_INSTALL   = $(PY) -m pip install --quiet --disable-pip-version-check $(TORCH_FLAGS) -c requirements.lock "torch==2.13.0"
NEED_311     := import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)
KERNEL := ddim-teach
PORT   ?= 8888
LECTURE_PORT ?= 8866
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)

# The course's language: `make lab COURSE_LANG=zh` opens the Chinese course (notebooks/zh, built by
# scripts/build_zh.py) with JupyterLab's own menus in Chinese; `make lecture COURSE_LANG=zh` serves the Chinese
# lecture app. `LANG=zh` (or en) given on make's command line means the same; it is then not passed on to
# the programs as their locale, which `zh` is not.
ifeq ($(origin LANG),command line)
ifneq ($(filter en zh,$(LANG)),)
COURSE_LANG := $(LANG)
unexport LANG
endif
endif
COURSE_LANG ?= en
ifeq ($(filter en zh,$(COURSE_LANG)),)
$(error COURSE_LANG must be en or zh, got '$(COURSE_LANG)')
endif
COURSE_DIR := $(if $(filter zh,$(COURSE_LANG)),notebooks/zh,notebooks)
# JupyterLab's official language pack, installed on first use; i18n/zh/jupyterlab/overrides.json makes
# Chinese the default locale of this session (Settings > Language still switches). Both languages' overrides also
# turn off JupyterLab's "get notified about official Jupyter news?" prompt, which would sit over the first figure.
LAB_ZH_PACK  = $(if $(filter zh,$(COURSE_LANG)),@$(PY) -c "import jupyterlab_language_pack_zh_CN" 2>/dev/null || $(PIP_INSTALL) jupyterlab-language-pack-zh-CN)
LAB_SETTINGS_FLAGS := --LabApp.app_settings_dir=$(CURDIR)/i18n/$(COURSE_LANG)/jupyterlab
# The student's view: nbgrader (installed for the tests and for instructors) shows no menu, panel or server
# extension in `make lab` and `make lecture`; jupyter-config/student/ turns them off for these two commands only.
STUDENT_ENV := JUPYTER_CONFIG_PATH=$(CURDIR)/jupyter-config/student$${JUPYTER_CONFIG_PATH:+:$$JUPYTER_CONFIG_PATH}

.PHONY: lab lecture student test test-fast setup setup-course bench train clean-venv reset-outputs

# The venv, made only from a Python new enough (requires-python in pyproject.toml says >=3.11).
$(PY):
	@$(PYTHON) -c '$(NEED_311)' 2>/dev/null || { \
	  echo "error: ddim-teach needs Python 3.11 or newer; '$(PYTHON)' is $$($(PYTHON) -V 2>&1 || echo 'not found')."; \
	  echo "       Install Python 3.11+ and name it, e.g.: make PYTHON=python3.11 $(or $(MAKECMDGOALS),setup)"; \
	  exit 1; }
	$(PYTHON) -m venv $(VENV)

# An old venv made from an older Python is refused with the same clear message.
define CHECK_VENV
	@$(PY) -c '$(NEED_311)' || { \
	  echo "error: $(VENV) runs $$($(PY) -V 2>&1), but ddim-teach needs Python 3.11 or newer."; \
	  echo "       Remove it (make clean-venv) and run e.g.: make PYTHON=python3.11 $(or $(MAKECMDGOALS),setup)"; \
	  exit 1; }
endef

# The course: the package and its course extra (JupyterLab, widgets, Voila, SymPy).
$(COURSE_STAMP): pyproject.toml requirements.lock | $(PY)
	$(CHECK_VENV)
	$(PIP_INSTALL) -e ".[course]"
	touch $@

# Development: the course plus what the tests need (the dev extra).
$(DEV_STAMP): pyproject.toml requirements.lock | $(PY)
	$(CHECK_VENV)
	$(PIP_INSTALL) -e ".[course,dev]"
	touch $@ $(COURSE_STAMP)

# The kernel is registered for the user on every run, so that it points at this clone's venv even after
# another clone (or a deleted one) registered the same name.
setup-course: $(COURSE_STAMP)
	@$(PY) -m ipykernel install --user --name $(KERNEL) --display-name "Python (ddim-teach)" >/dev/null

setup: $(DEV_STAMP)
	@$(PY) -m ipykernel install --user --name $(KERNEL) --display-name "Python (ddim-teach)" >/dev/null

lab: setup-course
	$(LAB_ZH_PACK)
	$(STUDENT_ENV) $(VENV)/bin/jupyter lab --notebook-dir=$(COURSE_DIR) --port=$(PORT) $(ROOT_FLAG) $(LAB_SETTINGS_FLAGS)

# The explorer as a clean app (no code cells, large fonts) for projecting in class; Ctrl-C stops it.
lecture: setup-course
	$(STUDENT_ENV) $(VENV)/bin/voila $(COURSE_DIR)/lecture_explorer.ipynb --port=$(LECTURE_PORT) --Voila.ip=127.0.0.1

# The student's release: every notebook without its folded solutions, in student/ (scripts/make_student.py).
student: setup-course
	$(PY) scripts/make_student.py

# Two pytest workers (pytest-xdist), a test file at a time, or a notebook with its Chinese edition (tests/conftest.py
# schedules the pair as one unit, English first, so the Chinese kernel reuses the English one's U-Net forward passes);
# every kernel keeps the 2 threads its outputs were recorded with, and threads that wait sleep instead of spinning
# (OMP_WAIT_POLICY=PASSIVE), so two workers share the 2 cores. TEST_WORKERS=0 runs everything in one process.
# Its run time: docs/RESULTS.md, `make test`.
TEST_WORKERS ?= 2
test: setup
	OMP_NUM_THREADS=2 OMP_WAIT_POLICY=PASSIVE $(PY) -m pytest $(if $(filter-out 0,$(TEST_WORKERS)),-n $(TEST_WORKERS) --dist loadfile)

# The package tests without notebooks, the browser or anything marked slow: the inner loop (its run time: docs/RESULTS.md).
test-fast: setup
	OMP_NUM_THREADS=2 $(PY) -m pytest tests -q -m "not slow and not notebook and not browser"

bench: setup-course
	$(PY) -m ddim_teach.bench

# Starts a run at checkpoints/unet.pt, or continues the one there.
train: setup-course
	$(PY) -m ddim_teach.train --out checkpoints/unet.pt $(if $(wildcard checkpoints/unet.pt),--resume)

reset-outputs: setup-course
	$(VENV)/bin/jupyter nbconvert --clear-output --inplace notebooks/*.ipynb

clean-venv:
	rm -rf $(VENV)
