# modsniff — build, test and measure. `make help` lists the targets.

GO        ?= go
BIN       ?= bin/modsniff
FUZZTIME  ?= 30s
BENCHSIZE ?= 1024
DEMO      ?= samples/interception-mitmproxy-tls12.pcapng

.PHONY: all build build-nocgo test test-race demo bench fuzz lint samples lab torture clean help

all: build

help:
	@echo "make build        build $(BIN) (cgo + libpcap for live capture)"
	@echo "make build-nocgo  build without cgo: analyze works, live capture says it is unavailable"
	@echo "make demo         analyze a bundled sample capture ($(DEMO))"
	@echo "make test         vet and test everything (replays every sample; root runs the netns tests)"
	@echo "make bench        measure the default and handshake-heavy mixes at $(BENCHSIZE) MiB and 4x: one table of MB/s, packets/s, peak RSS, GC CPU, analysis time, tshark ratio"
	@echo "make fuzz         run every fuzz target for FUZZTIME=$(FUZZTIME)"
	@echo "make torture      analyze generated hostile captures within RSS, time and note budgets"
	@echo "make lint         gofmt and go vet"
	@echo "make samples      regenerate the synthesized sample captures"
	@echo "make lab          re-record the lab samples with the real go command (root)"

build:
	$(GO) build -o $(BIN) ./cmd/modsniff

build-nocgo:
	CGO_ENABLED=0 $(GO) build -o $(BIN)-nocgo ./cmd/modsniff

demo: build
	@echo "\$$ modsniff analyze $(DEMO)"
	@./$(BIN) analyze $(DEMO) || true

test: lint
	$(GO) test -count=1 ./...
	@# Without cgo: analyze works, live capture says why it cannot.
	CGO_ENABLED=0 $(GO) build -o $(BIN)-nocgo ./cmd/modsniff
	./$(BIN)-nocgo analyze --fail-on never samples/healthy-direct-tls13.pcapng > /dev/null
	./$(BIN)-nocgo capture -i lo --duration 1s 2>&1 | grep -q 'built without cgo/libpcap'

test-race:
	$(GO) test -race -count=1 ./...

lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./capture/ ./decode/... ./samples/bench/
	MODSNIFF=$(BIN) ./samples/bench/bench.sh $(BENCHSIZE)

fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$f ($(FUZZTIME))"; \
	    $(GO) test $$pkg -run '^$$' -fuzz "^$$f\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 100x; \
	  done; \
	done

torture: build
	$(GO) run ./samples/torture/run -modsniff $(BIN)

samples:
	$(GO) test ./samples -run TestSamplesReproducible -update

lab: build
	./samples/lab/record.sh

clean:
	rm -rf bin
