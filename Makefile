# Two commands: `make lab` opens the course, `make test` runs every test.
# Both create .venv on first use and install requirements.txt (which includes dip_teach
# itself) into it, pinned to the exact versions CI uses by .ci/constraints.txt.
# `make setup CONSTRAINTS=` installs within requirements.txt's bounds instead.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# nbgrader's own environment (the course + nbgrader), for grading and its test
GRADE_VENV := .venv-grade
PIP    := $(BIN)/python -m pip --disable-pip-version-check
CONSTRAINTS ?= .ci/constraints.txt
MODE   ?= test
# `make html` runs the notebooks in lab mode unless MODE is given on the command line
HTML_MODE := $(if $(filter command line environment,$(origin MODE)),$(MODE),lab)

.PHONY: lab test unit notebooks setup student instructor clean-venv html demo constraints test-colab test-kernel6 weights nbgrader grade-venv test-hub hub-constraints

$(STAMP): requirements.txt pyproject.toml $(CONSTRAINTS)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q -r requirements.txt $(if $(CONSTRAINTS),-c $(CONSTRAINTS))
	@touch $(STAMP)
	@echo "environment ready in $(VENV)"

## setup: create .venv and install everything (done by the other targets on first use)
setup: $(STAMP)

## lab: open JupyterLab on the course (notebook 00)
# --allow-root only when run as root (containers, CI); a normal user never needs it
ROOTFLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)
lab: $(STAMP)
	$(BIN)/jupyter lab $(ROOTFLAG) $(LABFLAGS) --notebook-dir=. notebooks/00_welcome.ipynb

# The package's docstring examples run as tests (python -m dip_teach is the CLI, not a module to import)
DOCTESTS := dip_teach --doctest-modules --ignore=dip_teach/__main__.py
# The fast tier: no fresh install, no notebook or kernel run, no browser, nothing slow (markers in pyproject.toml)
FAST := not slow and not browser and not network and not notebook and not hub

## test: every test (unit, docstring examples, slow, browser, nbgrader) + every notebook under nbval, in the `test` run mode
# (the grading test runs nbgrader from its own environment, .venv-grade, built here on first use;
#  the real JupyterHub test needs the Hub's own environment: `make test-hub`, which .ci/run calls)
test: $(STAMP) $(GRADE_VENV)/.installed
	DIP_TEACH_MODE=$(MODE) $(BIN)/python -m pytest tests notebooks $(DOCTESTS) --nbval-lax --nbval-current-env -m "not hub" -p no:cacheprovider

## unit: the fast tier (a few minutes): unit tests and docstring examples
unit: $(STAMP)
	DIP_TEACH_MODE=test $(BIN)/python -m pytest tests $(DOCTESTS) -m "$(FAST)" -p no:cacheprovider

notebooks: $(STAMP)
	DIP_TEACH_MODE=$(MODE) $(BIN)/python -m pytest notebooks --nbval-lax --nbval-current-env -p no:cacheprovider

clean-venv:
	rm -rf $(VENV) $(COLAB_VENV) $(K6_VENV) $(GRADE_VENV) $(HUB_VENV)

# Where students run it: two more environments, each in its own folder, for CI (.ci/run).
COLAB_VENV := .venv-colab
K6_VENV    := .venv-k6

$(COLAB_VENV)/.installed: .ci/colab-requirements.txt pyproject.toml
	@test -x $(COLAB_VENV)/bin/python || $(PYTHON) -m venv $(COLAB_VENV)
	$(COLAB_VENV)/bin/python -m pip --disable-pip-version-check install -q -r .ci/colab-requirements.txt
	$(COLAB_VENV)/bin/python -m pip --disable-pip-version-check install -q --no-deps -e .
	@touch $@

## test-colab: every notebook with Google Colab's kernel, widget and IPython versions, live views on
test-colab: $(COLAB_VENV)/.installed
	DIP_TEACH_MODE=test DIP_TEACH_HEADLESS=0 $(COLAB_VENV)/bin/python -m pytest notebooks --nbval-lax --nbval-current-env -p no:cacheprovider
	DIP_TEACH_MODE=test $(COLAB_VENV)/bin/python -m pytest tests/test_live.py -k clicks_reach -p no:cacheprovider

$(K6_VENV)/.installed: requirements.txt pyproject.toml .ci/constraints.txt
	@test -x $(K6_VENV)/bin/python || $(PYTHON) -m venv $(K6_VENV)
	sed 's/^ipykernel==.*/ipykernel==6.31.0/' .ci/constraints.txt > $(K6_VENV)/constraints.txt
	$(K6_VENV)/bin/python -m pip --disable-pip-version-check install -q -r requirements.txt playwright -c $(K6_VENV)/constraints.txt
	@touch $@

## test-kernel6: the live controls on ipykernel 6 (the poll route): a real kernel, then JupyterLab in Chromium
test-kernel6: $(K6_VENV)/.installed
	DIP_TEACH_MODE=test $(K6_VENV)/bin/python -m pytest tests/test_browser.py tests/test_live.py -k "clicks_reach or test_browser" -p no:cacheprovider

# A class on a JupyterHub: the Hub (deploy/requirements-hub.txt), nbgitpuller and the course in one
# environment, as in a Hub's user image, and configurable-http-proxy (npm, pinned by its lock file).
HUB_VENV  := .venv-hub

$(HUB_VENV)/.installed: requirements.txt deploy/requirements-hub.txt pyproject.toml .ci/constraints.txt .ci/hub-constraints.txt deploy/proxy/package-lock.json
	@test -x $(HUB_VENV)/bin/python || $(PYTHON) -m venv $(HUB_VENV)
	$(HUB_VENV)/bin/python -m pip --disable-pip-version-check install -q -r requirements.txt -r deploy/requirements-hub.txt -c .ci/constraints.txt -c .ci/hub-constraints.txt
	mkdir -p $(HUB_VENV)/proxy && cp deploy/proxy/package.json deploy/proxy/package-lock.json $(HUB_VENV)/proxy/
	npm ci --prefix $(HUB_VENV)/proxy --omit=dev --no-audit --no-fund --loglevel=error
	@touch $@

## test-hub: a real JupyterHub on loopback: students log in, pull the student copy with nbgitpuller, run a notebook at once
test-hub: $(HUB_VENV)/.installed
	DIP_TEACH_MODE=test $(HUB_VENV)/bin/python -m pytest tests/test_hub.py -p no:cacheprovider

## hub-constraints: pin what .venv-hub adds to .ci/constraints.txt; run after changing deploy/requirements-hub.txt
hub-constraints:
	$(HUB_VENV)/bin/python scripts/freeze_constraints.py --minus .ci/constraints.txt > .ci/hub-constraints.txt

## weights: download ImageNet AlexNet (notebook 09's real classifier) once into torch's cache, SHA-256 checked
# (give the whole digest with `make weights ALEXNET_SHA256=<64 hex digits>` to check all of it)
weights: $(STAMP)
	$(BIN)/python scripts/fetch_weights.py $(if $(ALEXNET_SHA256),--sha256 $(ALEXNET_SHA256))

## student: copies of the notebooks in student/, every answer removed (prompts, options, signatures kept)
student: $(STAMP)
	$(BIN)/python scripts/make_student.py notebooks --out student

## instructor: copies in instructor/ with the solutions and teacher notes, outputs cleared
instructor: $(STAMP)
	$(BIN)/python scripts/make_student.py notebooks --instructor --out instructor

## nbgrader: an nbgrader source course in grading/ (one assignment per notebook with exercises; checks become graded tests)
nbgrader: $(STAMP)
	$(BIN)/python scripts/make_nbgrader.py notebooks --out grading

# nbgrader (and the notebook package it needs) in an environment of its own, with the course installed:
# the students' JupyterLab in .venv stays without nbgrader's Formgrader and Assignments extensions.
$(GRADE_VENV)/.installed: requirements.txt pyproject.toml .ci/constraints.txt .ci/grade-requirements.txt
	@test -x $(GRADE_VENV)/bin/python || $(PYTHON) -m venv $(GRADE_VENV)
	$(GRADE_VENV)/bin/python -m pip --disable-pip-version-check install -q -r requirements.txt -r .ci/grade-requirements.txt -c .ci/constraints.txt
	@touch $@

## grade-venv: the environment teachers grade in (.venv-grade: the course + nbgrader 0.9.6)
grade-venv: $(GRADE_VENV)/.installed

## html: run every notebook (lab mode; `make html MODE=test` for the quick run) into a static site in build/html
html: $(STAMP)
	$(BIN)/python scripts/build_html.py --mode $(HTML_MODE) --out build/html

## demo: the workshop app as a standalone page (Voila): pick image and task, Run, watch, Stop
DEMO_PORT ?= 8866
demo: $(STAMP)
	$(BIN)/voila demo/workshop.ipynb --port=$(DEMO_PORT) $(VOILAFLAGS)

## constraints: pin CI (and `make setup`) to exactly what .venv holds now; run after changing requirements.txt
constraints:
	$(BIN)/python scripts/freeze_constraints.py > .ci/constraints.txt
