# The two commands of the README, and the benchmark. Each installs what it needs on first use.
.PHONY: run test bench

## run: build and serve Gatehouse on http://127.0.0.1:3000 (SQLite in ./data)
run:
	./scripts/run.sh $(ARGS)

## test: formatting, clippy, every Rust test and the Playwright suite
test:
	./scripts/test.sh

## bench: release build, then every ratio of bench/run.py side by side (a few minutes)
bench:
	./scripts/bench.sh
