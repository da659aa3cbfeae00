# moat — see BUILD.md. Every target installs what it needs through
# scripts/deps.sh (apt, only what is missing).

GO      ?= go
BIN     := bin
# libseccomp is reached through cgo, so cgo is always on.
export CGO_ENABLED := 1

ARM64_ENV := CC=aarch64-linux-gnu-gcc GOARCH=arm64 \
	PKG_CONFIG_PATH=/usr/lib/aarch64-linux-gnu/pkgconfig
# A fully static binary: libseccomp.a from libseccomp-dev, glibc's static
# libc; netgo/osusergo keep the Go standard library off glibc's NSS, which
# cannot work statically.
STATIC_FLAGS := -tags netgo,osusergo -ldflags '-linkmode external -extldflags "-static"'

.PHONY: all build static arm64 test unit e2e test-debian test-docker test-oci bench demo deps deps-arm64 fmt check vet clean

all: build

build: deps
	$(GO) build -o $(BIN)/moat ./cmd/moat

static: deps
	$(GO) build $(STATIC_FLAGS) -o $(BIN)/moat-static ./cmd/moat

arm64: deps-arm64
	$(ARM64_ENV) $(GO) build -o $(BIN)/moat-arm64 ./cmd/moat

# Everything CI runs, one suite after another (so they don't fight for the
# two cores): unit tests of every package and the end-to-end tests in
# test/e2e (they build their own moat and the C programs; they need root),
# then the Debian suite and the Docker/containerd suite.
# CI=true turns a missing prerequisite (root, ptrace, namespaces, gcc,
# busybox) into a failure instead of a skip, here and in the suites it
# runs first: the README's test command must never pass by skipping.
test: export CI := true
test: deps test-debian test-docker
	@$(GO) test -count=1 -timeout 15m ./...

unit: deps
	$(GO) test -count=1 $$($(GO) list ./... | grep -v '^moat/test/')

e2e: deps
	$(GO) test -count=1 -timeout 10m ./test/...

# The Debian differential, overlay and escape tests (build tag debian, so a
# plain `go test ./...` leaves them out): the first run builds the Debian
# tree with debootstrap (about a minute, cached in /var/cache/moat-test).
test-debian: deps
	$(GO) test -count=1 -timeout 30m -tags debian ./test/debian

# moat as a runtime of a real dockerd and containerd (build tag docker):
# the tests start private daemons (own sockets and directories), import a
# busybox image, run the cases and stop everything again.
test-docker: deps
	@./scripts/deps.sh --docker
	$(GO) test -count=1 -timeout 15m -tags docker ./test/docker

# The OCI runtime validation suite (opencontainers/runtime-tools v0.9.0),
# built outside the repository in /var/cache/moat-oci; needs root. Prints
# pass/fail per validation test; `test/oci/run.sh -v NAME…` for details.
test-oci: deps
	./test/oci/run.sh

bench: deps
	$(GO) test -run '^$$' -bench . -benchtime 1x ./test/bench

# Build, then run a command in a sandbox whose root is the host's /.
demo: build
	./$(BIN)/moat do busybox echo hello from a moat sandbox

deps:
	@./scripts/deps.sh

deps-arm64:
	@./scripts/deps.sh --arm64

fmt:
	gofmt -w $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')

# gofmt, go vet on the host architecture and go vet of the arm64 build.
check: vet
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

vet: deps deps-arm64
	$(GO) vet ./...
	$(ARM64_ENV) $(GO) vet ./...

clean:
	rm -rf $(BIN)
