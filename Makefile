# The two commands of the README. Both install what they need on first use.
.PHONY: run test

## run: build and serve Gatehouse on http://127.0.0.1:3000 (SQLite in ./data)
run:
	./scripts/run.sh $(ARGS)

## test: formatting, clippy, every Rust test and the Playwright suite
test:
	./scripts/test.sh
