# Two commands: `make lab` opens the course, `make test` runs every test.
# Both create .venv on first use and install requirements.txt plus dip_teach into it.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PIP    := $(BIN)/python -m pip --disable-pip-version-check
MODE   ?= test

.PHONY: lab test unit notebooks setup student instructor clean-venv

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q -r requirements.txt
	$(PIP) install -q --no-deps -e .
	@touch $(STAMP)
	@echo "environment ready in $(VENV)"

setup: $(STAMP)

## lab: open JupyterLab on the course (notebook 00)
# --allow-root only when run as root (containers, CI); a normal user never needs it
ROOTFLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)
lab: $(STAMP)
	$(BIN)/jupyter lab $(ROOTFLAG) $(LABFLAGS) --notebook-dir=. notebooks/00_welcome.ipynb

## test: unit tests + every notebook under nbval, in the fast `test` run mode
test: $(STAMP)
	DIP_TEACH_MODE=$(MODE) $(BIN)/python -m pytest tests notebooks --nbval-lax --nbval-current-env -p no:cacheprovider

unit: $(STAMP)
	DIP_TEACH_MODE=test $(BIN)/python -m pytest tests -p no:cacheprovider

notebooks: $(STAMP)
	DIP_TEACH_MODE=$(MODE) $(BIN)/python -m pytest notebooks --nbval-lax --nbval-current-env -p no:cacheprovider

clean-venv:
	rm -rf $(VENV)

## student: copies of the notebooks in student/, every answer removed (prompts, options, signatures kept)
student: $(STAMP)
	$(BIN)/python scripts/make_student.py notebooks --out student

## instructor: copies in instructor/ with the solutions and teacher notes, outputs cleared
instructor: $(STAMP)
	$(BIN)/python scripts/make_student.py notebooks --instructor --out instructor
