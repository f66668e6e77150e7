# Two commands on a fresh clone:  `make lab` (learn) and `make test` (check everything).
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PYTHON ?= python3

# Tests never use a learner's keys or .env, never reach the network, and run
# heavy lesson settings in their quick form. One torch thread per process: the
# embedded models run faster that way, and test workers do not fight over cores.
TEST_ENV := env -u GITHUB_TOKEN -u GITHUB_MODELS_ENDPOINT -u GITHUB_MODELS_CATALOG -u AZURE_AI_API_KEY \
	-u AZURE_AI_ENDPOINT -u AZURE_AI_MODEL -u AZURE_AI_REASONING_MODEL -u AZURE_AI_MULTIMODAL_MODEL \
	-u NVIDIA_API_KEY -u NIM_BASE_URL -u PHI_COURSE_BASE_URL -u PHI_COURSE_API_KEY -u PHI_COURSE_MODEL \
	-u OLLAMA_HOST -u PHI_COURSE_STANDIN_URL -u PHI_COURSE_TEST_STANDIN_LOG \
	PHI_COURSE_NO_DOTENV=1 PHI_COURSE_QUICK=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 \
	TOKENIZERS_PARALLELISM=false MPLBACKEND=Agg OMP_NUM_THREADS=1

.PHONY: help install git-filter lab test lint check-notebooks unit notebooks models eval-models bench strip doctor clean

help:
	@echo "make lab          set up and open the course in JupyterLab"
	@echo "make test         set up and run lint, unit tests and every lesson (offline)"
	@echo "make doctor       show which routes are live here"
	@echo "make models       retrain the embedded models (about 30 minutes on 2 cores)"
	@echo "make eval-models  score the embedded models (about 7 minutes on 2 cores)"
	@echo "make bench        measure tokens/s on each local engine"
	@echo "make strip        strip outputs from the lesson notebooks (lessons/ and lessons/zh/) before committing"

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt -r requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3" >/dev/null
	touch $(STAMP)

# JupyterLab settings the course needs (widget state saved with a notebook, so a reopened
# lesson shows its widgets), for this venv's JupyterLab only.
OVERRIDES := $(VENV)/share/jupyter/lab/settings/overrides.json
$(OVERRIDES): tools/jupyterlab-overrides.json $(STAMP)
	mkdir -p $(dir $@)
	cp $< $@

# Opening and saving a lesson must not make git see a change: git runs tools/nbclean.py on
# lessons as a clean filter (.gitattributes). Needs a git checkout; a downloaded zip skips it.
git-filter:
	@git rev-parse --is-inside-work-tree >/dev/null 2>&1 && \
	  git config filter.nbclean.clean "$(PYTHON) tools/nbclean.py --stdin" && \
	  git config filter.nbclean.smudge cat || true

install: $(STAMP) $(OVERRIDES)

# As root (containers, many cloud machines) JupyterLab wants --allow-root; with no screen it
# prints the address to open instead of starting a text-mode browser.
LAB_FLAGS := $(if $(filter 0,$(shell id -u)),--allow-root) \
	$(if $(or $(DISPLAY),$(WAYLAND_DISPLAY),$(filter Darwin,$(shell uname -s))),,--no-browser)

lab: install git-filter
	$(VENV)/bin/jupyter lab $(LAB_FLAGS) lessons/

doctor: install
	$(PY) -m phi_course doctor

lint: install
	$(VENV)/bin/ruff check .

check-notebooks: install
	$(PY) tools/nbclean.py --check lessons

# On every core (pytest-xdist), slowest tests first, one stand-in shared by all workers. Every
# lesson runs twice in one kernel, without and with keys (tests/test_canary.py); the ten slowest
# tests are listed at the end, so a regression shows.
test: lint check-notebooks git-filter
	$(TEST_ENV) $(PY) -m pytest tests -n auto --dist worksteal --durations=10 -p no:cacheprovider $(PYTEST_ARGS)

unit: install
	$(TEST_ENV) $(PY) -m pytest tests $(PYTEST_ARGS)

notebooks: install
	$(TEST_ENV) $(PY) -m pytest lessons --nbmake --nbmake-timeout=300 $(PYTEST_ARGS)

# Every model at once in one-thread processes (phi_course/training/parallel.py says why).
models: install
	$(PY) -m phi_course.training all --jobs 2

eval-models: install
	$(PY) -m phi_course.training eval
	$(PY) -m phi_course.vision eval

bench: install
	$(TEST_ENV) $(PY) tools/bench.py

strip: install
	$(PY) tools/nbclean.py lessons

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

.PHONY: book browser

# The web book in build/book: every lesson with the outputs `make test` saved (build/executed/),
# running only lessons with no saved run of their current code. Offline (tools/book/build.py).
book: install
	$(TEST_ENV) $(PY) tools/book/build.py

# The widgets in a real browser alone (JupyterLab driven in the system Chromium; `make test` runs it
# too). Screenshots and timings in build/screenshots/.
browser: install
	$(TEST_ENV) $(PY) -m pytest tests/test_browser.py -p no:cacheprovider $(PYTEST_ARGS)
