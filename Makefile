# dsdviz: the two entry points of a fresh machine (see README.md).
#   make figures   create the venv if missing, install, regenerate figures/ in quick mode
#   make test      create the venv if missing, install, run the whole test suite
#   make test-fast the fast tier (< 3 min on 2 cores): every module, notebooks at smoke size, no slow/browser tests
#   make lab       JupyterLab on notebooks/ in the same environment (options: LAB_ARGS="--port 9999")
#   make slim-notebooks  drop pictures and widgets from the notebooks' stored outputs (before committing)
PYTHON ?= python3
VENV ?= .venv
TORCH_SPEC ?= torch==2.14.1 torchvision==0.29.1
SHARED ?= ../shared
PYTEST_ARGS ?=
LAB_ARGS ?=
BIN := $(VENV)/bin
STAMP := $(VENV)/.dsdviz-installed

# Point the library at the project's offline weights and data when they are present.
# (The library itself never looks there; it reads these documented variables.)
ifneq ($(wildcard $(SHARED)/weights/vgg19_imagenet_to_relu3_1.pth),)
export DSDVIZ_VGG19_WEIGHTS ?= $(abspath $(SHARED)/weights/vgg19_imagenet_to_relu3_1.pth)
endif
ifneq ($(wildcard $(SHARED)/data),)
export DSDVIZ_DATA ?= $(abspath $(SHARED)/data)
endif
export DSDVIZ_SHARED ?= $(abspath $(SHARED))
export MPLBACKEND ?= Agg

.PHONY: venv figures figures-full test test-fast bench lab slim-notebooks

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet $(TORCH_SPEC)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $@

venv: $(STAMP)

figures: $(STAMP)
	$(BIN)/dsdviz figures --quick

figures-full: $(STAMP)
	$(BIN)/dsdviz figures --full

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-fast: $(STAMP)
	DSDVIZ_SMOKE=1 $(BIN)/python -m pytest -m "not slow and not browser" --nbval-sanitize-with tools/nbval_smoke.cfg $(PYTEST_ARGS)

bench: $(STAMP)
	for script in benchmarks/bench_*.py; do $(BIN)/python $$script || exit 1; done

lab: $(STAMP)
	$(BIN)/jupyter lab $(LAB_ARGS) notebooks/

slim-notebooks: $(STAMP)
	$(BIN)/python tools/slim_notebooks.py notebooks/*.ipynb
