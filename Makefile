# weaksup — build, test, benchmark and demo.
#
#   make demo   run the whole system end to end on a generated world
#   make test   run the test suite (installs what it needs on first use)
#
# Both depend on `make deps`, which installs the Debian packages the project
# needs when they are missing (apt-get, through sudo when not root) and
# downloads the Go modules.

GO       ?= go
BIN      := bin/weaksup
# The Apache Beam driver (`weaksup pipeline run --runner NAME` runs it): a
# command of its own, since Beam and its runners add ~60 MB to a binary.
BEAMBIN  := bin/weaksup-beam
TORCHLIB := build/lib/libweaksup_torch.so
# Debian packages: libtorch for training, WordNet for canonicalization tests
# against the real database, PyTorch/torchvision for the numerical parity
# checks (SciPy and mpmath the confidence intervals of the findings);
# libturbojpeg decodes training JPEGs several times faster than Go's
# decoder (the libjpeg build tag; the plain Go build works without it);
# iproute2's ip makes the network namespaces of the two-host tests.
APT_PACKAGES := libtorch-dev libgloo-dev wordnet-base python3-torch python3-torchvision python3-scipy python3-mpmath libturbojpeg0-dev iproute2
# Real photographs (desktop backgrounds) for the near-duplicate benchmark of
# the e2e suite.
E2E_APT_PACKAGES := mate-backgrounds lomiri-wallpapers-16.04 lomiri-wallpapers-20.04
SUDO     := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
GOTEST_TIMEOUT ?= 15m
GOTAGS   ?= libjpeg
# The linter, pinned; installed under build/tools/VERSION from the module
# proxy on first use (a new pin installs anew), so that go.mod keeps only
# what the product links.
STATICCHECK_VERSION := v0.7.0
STATICCHECK := build/tools/$(STATICCHECK_VERSION)/staticcheck
# Packages for the race detector: those without libtorch (whose tests run
# too slowly under it), and the short list make test runs. The crawler's
# tests classify slow hosts by wall-clock limits of a fraction of a second,
# which the detector's slowdown on a busy machine can exceed: they run
# under it in `make race` only.
RACE_SHORT := ./loader/ ./pipeline/ ./store/ ./progress/ ./atomicfile/ ./storage/
RACE_ALL   := $(RACE_SHORT) ./ingest/ ./canonicalize/ ./dedup/ ./hashtag/ ./internal/... ./phash/ ./shards/ ./thumbnail/ ./workdir/ ./datasets/

.PHONY: all deps apt-deps apt-install go-deps build beam-worker torch torch-check torch-check-sid torch2 torch2-cuda gpu-check-bundle lint test race bench e2e demo demo-quick findings findings-quick generate clean

all: build

deps: apt-deps go-deps

apt-deps:
	@$(MAKE) --no-print-directory apt-install PKGS="$(APT_PACKAGES)"

apt-install:
	@missing=""; for p in $(PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	fi

go-deps:
	$(GO) mod download

# The binary finds the shim next to itself, so bin/ holds both.
build: $(BIN) $(BEAMBIN) torch
	@# A copy renamed into place: a weaksup starting meanwhile loads the old
	@# shim or the new one, never half of one.
	cp -f $(TORCHLIB) bin/.libweaksup_torch.so.tmp && mv -f bin/.libweaksup_torch.so.tmp bin/libweaksup_torch.so

# disable_grpc_modules leaves out Cloud Storage's gRPC DirectPath (xDS and
# its Envoy protos): weaksup reaches gs:// over HTTP, and the tag keeps
# about 20 MB of that out of the binary.
$(BIN): FORCE
	@mkdir -p bin
	$(GO) build -tags '$(GOTAGS) disable_grpc_modules' -o $(BIN) ./cmd/weaksup

$(BEAMBIN): FORCE
	@mkdir -p bin
	$(GO) build -tags '$(GOTAGS)' -o $(BEAMBIN) ./cmd/weaksup-beam

# The worker binary for Dataflow, Flink and Spark: linux/amd64, pure Go
# (the SDK container has no libturbojpeg), passed as --worker_binary.
beam-worker:
	@mkdir -p bin
	CGO_ENABLED=0 GOOS=linux GOARCH=amd64 $(GO) build -trimpath -o bin/weaksup-beam-linux-amd64 ./cmd/weaksup-beam

# The libtorch shim. TORCH_DIR=/path/to/libtorch builds it against another
# libtorch (e.g. the one inside a CUDA PyTorch install).
torch: $(TORCHLIB)

$(TORCHLIB): FORCE
	$(MAKE) -C torch/csrc OUT=$(CURDIR)/build/lib $(if $(TORCH_DIR),TORCH_DIR=$(TORCH_DIR))

# Debian trixie's libtorch 2.6, beside the system's 1.13 (scripts/trixie;
# the system's apt sources stay as they are): its headers and Gloo's for a
# compile check of every shim source (2.5 MB, fetched once), and roots made
# by debootstrap in which the shim is built and tested (make torch2: about
# 2 GB; make torch2-cuda: the CUDA libtorch, CUDA 12.4 and NCCL besides).
TRIXIE := build/trixie

torch-check: $(TRIXIE)/headers/.done
	$(MAKE) -C torch/csrc check TORCH_DIR=$(CURDIR)/$(TRIXIE)/headers/usr

$(TRIXIE)/headers/.done:
	@command -v curl >/dev/null || $(MAKE) --no-print-directory apt-install PKGS="curl"
	scripts/trixie headers $(TRIXIE)/headers

# The same check against the newest libtorch Debian has (unstable; not
# part of make test, since it changes).
torch-check-sid:
	@command -v curl >/dev/null || $(MAKE) --no-print-directory apt-install PKGS="curl"
	rm -rf $(TRIXIE)/sid-headers
	scripts/trixie headers $(TRIXIE)/sid-headers sid
	$(MAKE) -C torch/csrc check TORCH_DIR=$(CURDIR)/$(TRIXIE)/sid-headers/usr

torch2: deps build
	@$(MAKE) --no-print-directory apt-install PKGS="debootstrap"
	scripts/torch2 cpu

torch2-cuda: deps build
	@$(MAKE) --no-print-directory apt-install PKGS="debootstrap"
	scripts/torch2 cuda

# What scripts/gpu-check runs from on a CUDA host with PyTorch and no Go:
# weaksup and weaksup-gpucheck (they find the libturbojpeg copied beside
# them), the shim's sources, the check and its Python side, as a folder and
# a tarball under build/gpu-check.
GPUCHECK := build/gpu-check/weaksup-gpu-check
gpu-check-bundle: deps
	rm -rf $(GPUCHECK) && mkdir -p $(GPUCHECK)/bin $(GPUCHECK)/csrc
	$(GO) build -tags '$(GOTAGS)' -ldflags '-extldflags=-Wl,-rpath,$$ORIGIN' -o $(GPUCHECK)/bin/weaksup ./cmd/weaksup
	$(GO) build -tags '$(GOTAGS)' -ldflags '-extldflags=-Wl,-rpath,$$ORIGIN' -o $(GPUCHECK)/bin/weaksup-gpucheck ./cmd/weaksup-gpucheck
	cp -L $$(ldd $(GPUCHECK)/bin/weaksup | awk '/libturbojpeg/ { print $$3 }') $(GPUCHECK)/bin/
	cp -r torch/csrc/Makefile torch/csrc/*.cpp torch/csrc/*.h torch/csrc/compat $(GPUCHECK)/csrc/
	cp scripts/gpu-check scripts/gpu-check.py $(firstword $(wildcard train/testdata/parity.py nets/testdata/parity.py)) $(GPUCHECK)/
	tar -C build/gpu-check -czf build/gpu-check/weaksup-gpu-check.tar.gz weaksup-gpu-check
	@echo "copy build/gpu-check/weaksup-gpu-check.tar.gz to the CUDA host, then: tar xzf weaksup-gpu-check.tar.gz && weaksup-gpu-check/gpu-check --out gpu-report"

# vet and staticcheck, over every build the tests use (the e2e tag
# included, and the pure-Go JPEG path).
lint: go-deps $(STATICCHECK)
	$(GO) vet -tags '$(GOTAGS)' ./...
	$(STATICCHECK) -tags '$(GOTAGS)' ./...
	$(STATICCHECK) -tags 'e2e $(GOTAGS)' ./...
	$(STATICCHECK) ./internal/jpegturbo/ ./loader/

$(STATICCHECK):
	GOBIN=$(CURDIR)/build/tools/$(STATICCHECK_VERSION) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

test: deps build lint torch-check
	$(GO) test -tags '$(GOTAGS)' -timeout $(GOTEST_TIMEOUT) ./...
	# The pure-Go JPEG path of the codec and the loader, for builds without
	# libturbojpeg.
	$(GO) test -timeout $(GOTEST_TIMEOUT) ./internal/jpegturbo/ ./loader/
	# The race detector over the loader's prefetching, the pipeline and the
	# store; `make race` covers every package that does not run libtorch.
	$(GO) test -race -timeout $(GOTEST_TIMEOUT) $(RACE_SHORT)

race: deps
	$(GO) test -race -timeout $(GOTEST_TIMEOUT) $(RACE_ALL)

bench: deps build
	$(GO) test -tags '$(GOTAGS)' -run '^$$' -bench . ./... | tee bench.out

# Slow end-to-end suites: full-size crawls, Arrow JS read-back, the
# near-duplicate benchmark on real photographs, longer training checks.
e2e: deps build
	@$(MAKE) --no-print-directory apt-install PKGS="$(E2E_APT_PACKAGES)"
	@# node and npm read the shards back with Arrow's JavaScript package;
	@# Debian's are installed only where no node is on the PATH.
	@command -v npm >/dev/null || $(MAKE) --no-print-directory apt-install PKGS="nodejs npm"
	$(GO) test -tags 'e2e $(GOTAGS)' -timeout 60m ./...

demo: deps build
	./$(BIN) demo

demo-quick: deps build
	./$(BIN) demo --quick

# Every claim of the recipe measured on the demo world: 3 seeds per
# comparison, 5 for pretrained against scratch, each with its 95% interval
# (about 90 minutes on an idle 2-core machine): $(FINDINGS_OUT)/findings.md.
# Reruns resume.
FINDINGS_OUT ?= findings-run
findings: deps build
	./$(BIN) findings --out $(FINDINGS_OUT)

findings-quick: deps build
	./$(BIN) findings --quick --out $(FINDINGS_OUT)-quick

# Regenerate the embedded WordNet index from Debian's wordnet-base.
generate: deps
	$(GO) generate ./...

clean:
	rm -rf bin build

FORCE:
