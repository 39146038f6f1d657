# govbus — the two commands a new machine needs are `make run` and `make test`.
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)
BINARIES := bin/govbus bin/registrysim bin/benchload

.PHONY: all build run test deps vet unit bench check fmt clean

all: build

build:
	@mkdir -p bin
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/govbus ./cmd/govbus
	$(GO) build -o bin/registrysim ./cmd/registrysim
	@if [ -d cmd/benchload ]; then $(GO) build -o bin/benchload ./cmd/benchload; fi

## run: build, start the demo registries and govbus in the foreground, print example calls.
run: build
	@deploy/demo/run.sh

## test: install what the tests need (idempotent), then vet and every test with -race.
test: deps vet unit

deps:
	@scripts/ensure-deps.sh
	@scripts/ensure-jaeger.sh >/dev/null
	@scripts/ensure-soapclients.sh

vet:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

unit: build
	$(GO) test -race -count=1 -timeout 25m ./...

## bench: direct-to-registry vs through-govbus load, alternating rounds, with ratios.
bench: deps build
	@BENCH_NO_BUILD=1 bench/run.sh

check: build
	bin/govbus check -config deploy/demo/govbus.yaml

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin var/bench
