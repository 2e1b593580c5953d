# DMAC Containers — `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]-*.ipynb))
# The bound on one cell, everywhere a notebook runs: [tool.dmac] cell-timeout in pyproject.toml, or DMAC_CELL_TIMEOUT
# (CI's, where five notebooks share two cores; helpers.core.limits reads the same two)
CELL_TIMEOUT := $(or $(DMAC_CELL_TIMEOUT),$(shell sed -n 's/^cell-timeout = \([0-9][0-9]*\).*/\1/p' pyproject.toml))
# nbval: strict output comparison, one sanitize file, a bound on every cell
NBVAL := --nbval --nbval-current-env --nbval-sanitize-with tests/sanitize.cfg --nbval-cell-timeout=$(CELL_TIMEOUT)
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.DEFAULT_GOAL := help
.PHONY: update-lock lock binder-requirements matrix matrix-engine engines-stop test-room slides bench bench-suite bundle bundle-check load-bundle room-registry help lab test test-deps setup env daemon images preflight test-helpers test-notebooks run outputs clean clean-all lint

help: ## list the targets
	@grep -hE '^[a-zA-Z0-9_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*?## "}{printf "  make %-16s %s\n", $$1, $$2}'

lab: setup ## open the course in JupyterLab (sets everything up first; PORT=… to choose the port)
	$(PY) -m helpers.infra.lab $(if $(PORT),--port $(PORT),)

# Phase 1, alone and first: what restarts or stops the daemon or reloads the base images (notebook 04, the
#   offline bundle round trip, the daemon stopping mid-notebook). First, so that from its end on the host daemon
#   stays up: CI starts its rootless and hub lanes (daemons of their own) beside phases 2 and 3.
# Phase 2: nbval over the notebooks in order, then the helpers' tests, Binder/no-daemon and browser tests
#   (namespace dmac; stored outputs come from the same cold, sequential run: `make outputs`).
# Phase 3: two more learners at once on the same daemon (two pytest-xdist workers, each in namespaces of its
#   own, dmac-rerun-gwN, taking notebooks as they come so both finish together): every notebook killed halfway,
#   run again without its clean-up, then once more with every solution applied on top of what that left
#   (each solution must be accepted). tests/learners/test_solutions.py is the matrix's and Podman's.
# Decoys (resources of "the learner's own") are checked around phases 2 and 3; phase 1 restarts the
# daemon, which by nature stops every container that is not protected by live-restore.
EXCLUSIVE := $(filter %04-upgrading-docker.ipynb,$(NOTEBOOKS))
SHARED := $(filter-out $(EXCLUSIVE),$(NOTEBOOKS))
LEARNER_TESTS := tests/learners/test_solutions.py tests/learners/test_rerun.py
RERUN_TESTS := tests/learners/test_rerun.py

# Every notebook cell that touches Docker, counted in the kernel (helpers/core/audit.py) for
# tests/test_docker_in_sight.py: commands shown against Docker work done out of sight
test: export DMAC_DOCKER_AUDIT := $(CURDIR)/build/audit/docker-in-sight.jsonl
test: setup test-deps ## run the whole test suite: helpers' pytest + nbval over every notebook + more learners
	rm -f $(DMAC_DOCKER_AUDIT)
	DMAC_DECOYS=0 $(VENV)/bin/pytest $(NBVAL) $(EXCLUSIVE) tests/exclusive
	$(VENV)/bin/pytest $(NBVAL) $(SHARED) tests --ignore=tests/exclusive $(addprefix --ignore=,$(LEARNER_TESTS)) \
	  --durations=25
	$(VENV)/bin/pytest -n 2 --dist load $(RERUN_TESTS) --durations=17

# tests/unit needs no daemon: run with none reachable, so a test that starts needing one fails here (make test runs them
# too, with its daemon)
test-unit: env ## the tests that need no Docker daemon (seconds, plus a Binder environment install)
	DMAC_DECOYS=0 DOCKER_HOST=unix:///nonexistent/docker.sock $(VENV)/bin/pytest -q tests/unit

setup: env daemon images ## environment, Docker daemon and base images (idempotent)

env: $(VENV)/.installed ## create the Python environment (.venv) exactly as uv.lock says

# One lock, uv.lock, for every install: `make env` (so lab, test, CI), Binder (binder/requirements.txt is
# exported from it) and conda users (environment.yml reads that file). uv itself is bootstrapped from PyPI
# with the host's pip into .uv/ (a fresh machine needs only python3 with venv, and make). uv uses the
# host's python3 and never downloads one ([tool.uv] in pyproject.toml), and the system's certificates
# (a TLS-intercepting proxy's CA is trusted there).
UV_VERSION := 0.13.9
UV_HOME := .uv
UV := $(UV_HOME)/bin/uv
export UV_SYSTEM_CERTS := 1
export UV_PROJECT_ENVIRONMENT := $(VENV)
BINDER_REQUIREMENTS := binder/requirements.txt

$(UV):
	@test -x $(UV_HOME)/bin/python || $(PYTHON) -m venv $(UV_HOME)
	$(UV_HOME)/bin/python -m pip install --quiet 'uv==$(UV_VERSION)'

# --locked: a pyproject.toml edited without `make update-lock` stops here instead of installing something else
$(VENV)/.installed: uv.lock pyproject.toml | $(UV)
	$(UV) sync --locked --extra test --python $(PYTHON) --quiet
	@touch $@

update-lock: $(UV) ## re-resolve uv.lock to the newest versions pyproject.toml allows (deliberately), then Binder's list
	$(UV) lock --upgrade --python $(PYTHON)
	$(MAKE) --no-print-directory binder-requirements

lock: $(UV) ## after editing pyproject.toml: re-lock changing as few versions as possible, then Binder's list
	$(UV) lock --python $(PYTHON)
	$(MAKE) --no-print-directory binder-requirements

# no hashes: conda's pip section installs it together with `-e .`, which pip's hash mode refuses
binder-requirements: $(UV) ## write binder/requirements.txt and hub/requirements.txt from uv.lock
	$(UV) export --locked --no-emit-project --no-dev --no-hashes --quiet --output-file $(BINDER_REQUIREMENTS)
	$(UV) export --locked --no-emit-project --no-dev --extra hub --quiet --output-file hub/requirements.txt

daemon: env ## make sure a Docker daemon answers (installs and starts one as root on Debian/Ubuntu)
	$(PY) -m helpers.infra.setup daemon

images: env ## make sure the base images exist (pull, or bootstrap offline)
	$(PY) -m helpers.infra.setup images

test-deps: env ## what only the tests need (Chromium for the browser test)
	$(PY) -m helpers.infra.setup browser

preflight: env ## print this machine's readiness report; LEARNERS=30 adds a room check for the hub
	$(PY) -m $(if $(LEARNERS),helpers.infra.sizing --learners $(LEARNERS),helpers.lessons.preflight)

test-helpers: setup ## only the helpers' tests (not the whole-course learners, not the daemon-restarting ones)
	$(VENV)/bin/pytest tests --ignore=tests/exclusive $(addprefix --ignore=,$(LEARNER_TESTS))

test-notebooks: setup ## only the notebooks (nbval); NB=notebooks/05-... for one
	$(VENV)/bin/pytest $(NBVAL) $(or $(NB),$(NOTEBOOKS))

run: setup ## run notebooks with papermill into build/run (SOLUTIONS=True NB=...; ALLOW_DAEMON_RESTART=True for 04)
	@mkdir -p build/run
	@for nb in $(or $(NB),$(NOTEBOOKS)); do \
	  echo "papermill $$nb"; \
	  $(VENV)/bin/papermill --log-level WARNING --execution-timeout $(CELL_TIMEOUT) $$nb build/run/$$(basename $$nb) -p SOLUTIONS $(or $(SOLUTIONS),False) \
	    $$(case $$nb in *04-*) echo -p ALLOW_DAEMON_RESTART $(or $(ALLOW_DAEMON_RESTART),False);; esac) || exit 1; \
	done

# The stored outputs come from the newest engine the project runs: ON=docker-28c, Engine 28.5 with the containerd image
# store, as Docker Desktop and Engine 29 run it (ON= records on this host's daemon), with its socket and CLI at their
# usual paths (--as-host). nbval compares every engine, both image stores, with these outputs. Notebook 04 restarts
# its daemon, so it is recorded last on this host's, after the engine has stopped: a container still running there
# would make it skip its restart demonstration.
ON ?= docker-28c
OUTPUT_NBS = $(or $(NB),$(NOTEBOOKS))
EXECUTE = $(VENV)/bin/jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.timeout=$(CELL_TIMEOUT)
outputs: setup ## regenerate the stored outputs from a real run on the newest engine (NB=... for one; ON= this host)
	$(if $(ON),$(PY) -m helpers.infra.engines build $(ON) && $(PY) -m helpers.infra.engines start $(ON) > /dev/null,)
	@for nb in $(filter-out $(EXCLUSIVE),$(OUTPUT_NBS)); do \
	  echo "executing $$nb$(if $(ON), on $(ON))"; \
	  $(if $(ON),$(PY) -m helpers.infra.engines run --as-host $(ON) -- env DMAC_NAMESPACE=dmac,) $(EXECUTE) $$nb || exit 1; \
	done
	$(if $(and $(ON),$(filter $(EXCLUSIVE),$(OUTPUT_NBS))),$(PY) -m helpers.infra.engines stop $(ON),)
	@for nb in $(filter $(EXCLUSIVE),$(OUTPUT_NBS)); do \
	  echo "executing $$nb on this host's daemon (it restarts the daemon)"; \
	  $(EXECUTE) $$nb || exit 1; \
	done

BUNDLE ?= build/dmac-bundle.tar

bundle: setup ## write the offline bundle (images, wheels, Debian packages) to $(BUNDLE); run the course first
	$(PY) -m helpers.infra.bundle save $(BUNDLE)

bundle-check: env ## prove BUNDLE installs with no network: a --network none Debian installs it and runs notebook 00
	$(PY) -m helpers.infra.bundle_check $(BUNDLE)

room-registry: setup ## serve the course images to the room (TLS, read-only; HOST=address; FROM_BUNDLE=bundle offline)
	$(PY) -m helpers.infra.room start $(if $(HOST),--host $(HOST)) $(if $(FROM_BUNDLE),--from-bundle $(FROM_BUNDLE))

load-bundle: ## on a machine without network: install and load BUNDLE=… (then make lab / make test)
	@test -n "$(BUNDLE)" -a -f "$(BUNDLE)" || { echo "usage: make load-bundle BUNDLE=path/to/dmac-bundle.tar"; exit 2; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	PYTHONPATH=$(CURDIR) $(PYTHON) -m helpers.infra.bundle load $(BUNDLE) --venv $(VENV)

slides: env ## give every notebook RISE slide metadata (Markdown headings open slides)
	$(PY) scripts/slides.py

bench: setup ## measure cold and warm run times per notebook into docs/benchmark.{md,csv} (~15 min)
	$(PY) scripts/bench.py notebooks

bench-suite: env ## time make setup + make test in a fresh clone on a fresh daemon, then warm (~50 min)
	$(PY) scripts/bench.py suite

# Engine matrix: the course on Docker Engine 26.1 (Debian trixie) and 28.5 (Debian sid), and 28.5 again with the
# containerd image store (docker-28c: Docker Desktop's and a fresh Engine 29's default), each Debian's docker.io
# running as a dockerd in a container on this daemon (helpers/infra/engines.py; the tests run in its network and PID
# namespaces with its data root at /var/lib/docker, as on that engine's own host: published ports answer on
# 127.0.0.1, its paths and PIDs exist). Per engine: nbval over the notebooks as `make test` runs them (namespace
# dmac; not 04, which restarts the daemon; on docker-28 and docker-28c; one nbval at a time on the machine), and
# every solution with papermill (on docker-26 and docker-28c; docker-28's are docker-28c's engine)
# (tests/learners/test_solutions.py, namespace dmac-b-<engine>, 04 without restart); each engine is a queue of its own,
# one nbval at a time (helpers/infra/matrix.py). Results go to docs/compat.json, rendered into docs/compat.md and the
# README by `python -m helpers.infra.compat table`.
ENGINES ?= docker-26 docker-28 docker-28c
ENGINE ?= docker-28

matrix: setup ## the course on Docker Engines 26, 28 and 28 with the containerd image store (COLD=1: no cache) -> docs/compat.md
	@for e in $(ENGINES); do \
	  $(PY) -m helpers.infra.engines build $$e $(if $(COLD),--cold,) && \
	  $(if $(COLD),$(PY) -m helpers.infra.engines stop $$e --purge &&,) \
	  $(PY) -m helpers.infra.engines start $$e || exit 1; \
	done
	$(PY) -m helpers.infra.matrix --nbval "$(NBVAL)" --notebooks "$(SHARED)" $(ENGINES)

matrix-engine: ## one engine of the matrix: ENGINE=docker-26, docker-28 or docker-28c (nbval, then the solutions)
	$(MAKE) --no-print-directory matrix ENGINES=$(ENGINE)

# DMAC_HOST_FILES=0: CI runs it beside lanes that add accounts to this host (rootless, the hub); it makes no security
# demonstration that could touch host files, and its decoys (the learner's own resources) are still checked
test-room: env ## the room registry serving a second daemon, and the live engine checks (after make matrix, engines up)
	DMAC_ROOM_TESTS=1 DMAC_HOST_FILES=0 $(VENV)/bin/pytest -q tests/test_room.py tests/test_engines.py

engines-stop: env ## stop the matrix's engine containers (PURGE=1 also removes their data volumes)
	@for e in $(ENGINES); do $(PY) -m helpers.infra.engines stop $$e $(if $(PURGE),--purge,); done

# Podman 5 (Debian trixie's podman 5.4 in a container on this daemon, helpers/infra/engines.py: its Docker-compatible
# API on a socket, the docker CLI and Compose pointed at it with DOCKER_HOST, as learners use Podman with Docker
# tooling): every notebook with SOLUTIONS=True (tests/learners/test_solutions.py, two learners at once on two pytest-xdist
# workers, namespaces dmac-p-gw0 and dmac-p-gw1, so it may run beside make matrix), then tests/test_podman.py on
# it. No nbval: Podman's outputs differ from Docker's by design (build logs, names). Results under engine
# "podman-5" in docs/compat.json (⚠: the notebook said what Podman does differently).
PODMAN_REPORTS = $(CURDIR)/build/engines/podman-5/reports
.PHONY: matrix-podman
matrix-podman: setup ## the course on Podman 5 with the docker CLI (solutions; COLD=1: no cache) -> docs/compat.json
	$(PY) -m helpers.infra.engines build podman-5 $(if $(COLD),--cold,)
	$(if $(COLD),$(PY) -m helpers.infra.engines stop podman-5 --purge,)
	$(PY) -m helpers.infra.engines start podman-5
	rm -rf $(PODMAN_REPORTS) && mkdir -p $(PODMAN_REPORTS)
	DMAC_SOLUTIONS_NAMESPACE=dmac-p DMAC_TEST_RUNS=$(PODMAN_REPORTS)/runs $(PY) -m helpers.infra.engines run \
	  --time solutions podman-5 -- $(VENV)/bin/pytest -n 2 --dist load tests/learners/test_solutions.py \
	  --junitxml=$(PODMAN_REPORTS)/solutions.xml; solutions=$$?; \
	  $(PY) -m helpers.infra.compat record podman-5; recorded=$$?; $(PY) -m helpers.infra.compat table; \
	  DMAC_TEST_NAMESPACE=dmac-p $(VENV)/bin/pytest -q tests/test_podman.py; podman=$$?; \
	  test $$solutions$$recorded$$podman = 000

# Rootless Docker (run as root): a course user's own dockerd-rootless.sh on this host (Debian's rootlesskit,
# slirp4netns, uidmap), the course run as that user from their own clone with their own .venv
# (helpers/infra/rootless.py), every notebook with SOLUTIONS=True (nbval is for the rootful engines); results under
# engine "rootless" in docs/compat.json. KEEP=1 leaves the daemon running; ONLY=02,03 runs some notebooks.
.PHONY: matrix-rootless
matrix-rootless: setup ## the course on rootless Docker as user dmac-learner (root; ~8 min) -> docs/compat.json
	$(PY) -m helpers.infra.rootless_matrix matrix $(if $(KEEP),--keep,) $(if $(ONLY),--notebooks $(ONLY),)

# Workshop hub (root): JupyterHub for a room on this host (helpers/infra/hub.py, hub/jupyterhub_config.py). One Unix
# account per learner (dmac-l01, ...: LEARNERS=N, or ROSTER=file with one name per line), each with a password on
# the printed sheet, their own clone of the course and their own rootless Docker daemon, started with their server
# and stopped when it stops or is culled, inside a cgroup with the limits MEM=2g CPUS=1 PIDS=2048, on a disk of their own of DISK=10g. JupyterHub and
# the course's packages are installed once in /opt/dmac-hub. PORT=8000; HTTPS with a room CA by default (TLS=0: plain HTTP on loopback only).
# (LEARNERS is the hub's count of learners; the test list above is LEARNER_TESTS.)
HUB_LEARNERS = $(or $(LEARNERS),3)
HUB_ENV = $(if $(PORT),DMAC_HUB_PORT=$(PORT)) $(if $(MEM),DMAC_HUB_MEMORY=$(MEM)) $(if $(CPUS),DMAC_HUB_CPUS=$(CPUS)) $(if $(DISK),DMAC_HUB_DISK=$(DISK)) \
  $(if $(PIDS),DMAC_HUB_PIDS=$(PIDS)) $(if $(CULL),DMAC_HUB_CULL_SECONDS=$(CULL)) $(if $(TLS),DMAC_HUB_TLS=$(TLS))
.PHONY: hub hub-stop hub-status test-hub
hub: setup ## JupyterHub for a room: LEARNERS=3 or ROSTER=file, each learner a rootless daemon of their own (root)
	$(HUB_ENV) $(PY) -m helpers.infra.hub start $(if $(ROSTER),--roster $(ROSTER),--learners $(HUB_LEARNERS))

hub-stop: env ## stop the hub, the learners' servers and daemons (PURGE=1: also remove their accounts and homes)
	$(PY) -m helpers.infra.hub stop $(if $(PURGE),--purge,)

hub-status: env ## who runs a server, with memory and processes per learner
	$(PY) -m helpers.infra.hub status

# test-hub runs without the decoys: the accounts change /etc/passwd, which they fingerprint (the test checks the rest)
test-hub: setup test-deps ## the hub end to end: 3 learners, notebooks at once, isolation, limits, culling (root; 4-6 min)
	DMAC_HUB_TESTS=1 DMAC_DECOYS=0 DMAC_NAMESPACE=dmac-hub DMAC_TEST_NAMESPACE=dmac-hub $(VENV)/bin/pytest -m hub tests/hub

# cgroup v2 (root): this host runs cgroup v1, so a real cgroup v2 host runs as a VM, Debian trixie under QEMU with
# software emulation (TCG; helpers/infra/cgroupvm.py). Its disk is made offline with debootstrap and mkfs.ext4 and cached
# under build/vm/ (keyed by its packages and files); one boot runs the checks in the VM (helpers/infra/cgroupvm_guest.py),
# which prints what it measured as JSON on its serial console; tests/vm asserts every value -> build/vm/results.json.
# QEMU, debootstrap and e2fsprogs are installed with apt-get when missing.
.PHONY: test-cgroup2
test-cgroup2: env ## the cgroup v2 lane: a Debian trixie VM under QEMU (TCG): limits, OOM, docker update, stats, I/O, the hub's cgroup, rootless with delegation (root)
	DMAC_VM_TESTS=1 DMAC_DECOYS=0 $(VENV)/bin/pytest -q tests/vm

# Kubernetes (deploy/kubernetes): the Zero to JupyterHub values rendered with Helm and checked against the chart's
# schema and Kubernetes' (kubernetes-validate), with the learner pod as KubeSpawner makes it. Offline: CHART=path to
# the chart (a checkout's jupyterhub/ folder or the packaged .tgz). Never talks to a cluster.
.PHONY: k8s-validate
k8s-validate: env ## validate the Kubernetes deployment offline (CHART=path/to/zero-to-jupyterhub chart)
	@test -n "$(CHART)" || { echo "usage: make k8s-validate CHART=path/to/jupyterhub-chart"; exit 2; }
	$(PY) deploy/kubernetes/validate.py --chart $(CHART)

lint: env ## ruff, mypy and the import contracts of helpers/' layers ([tool.importlinter] in pyproject.toml)
	$(VENV)/bin/ruff check helpers tests scripts notebooks conftest.py
	$(VENV)/bin/mypy helpers tests scripts conftest.py
	$(VENV)/bin/lint-imports --no-cache

clean: env ## remove this namespace's course resources (labelled only) and build/
	$(PY) -m helpers.core.cleanup
	rm -rf build

clean-all: env ## remove every course namespace and the bootstrapped base images
	$(PY) -m helpers.core.cleanup --all-namespaces --include-base
	rm -rf build
