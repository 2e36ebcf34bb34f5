# The two commands of the README, and the rest of the everyday ones. `make help` lists them.
.PHONY: help run test check bench bench-scale flame migration schema

## help: list the targets
help:
	@sed -n 's/^## //p' $(MAKEFILE_LIST)

## run: build and serve Gatehouse on http://localhost:3000 (SQLite in ./data)
run:
	./scripts/run.sh $(ARGS)

## test: formatting, clippy, every Rust test and the Playwright suite
test:
	./scripts/test.sh

## check: the inner loop, a few minutes warm: formatting, clippy and the unit tests (no installs, no browser)
check:
	cargo fmt --all -- --check
	cargo clippy --all-targets -- -D warnings
	cargo test --workspace --exclude frontend --lib

## bench: release build, then every ratio of bench/run.py side by side; fails on a missed target (ARGS=--report-only to only report)
bench:
	./scripts/bench.sh $(ARGS)

## bench-scale: PostgreSQL with 1M accounts, 5M sessions, 10M refresh tokens (not part of test; about 25 min): make bench-scale ARGS="--scale 0.01"
bench-scale:
	./scripts/bench-scale.sh $(ARGS)

## flame: flame graphs of the authenticated call and of /devices: make flame LABEL=after
flame:
	./scripts/flame.sh $(LABEL)

## migration: a new pair of migrations, one per dialect: make migration NAME=create_notes
migration:
	./scripts/new-migration.sh $(NAME)

## schema: rewrite app/src/store/schema.rs from a freshly migrated database
schema:
	GATEHOUSE_WRITE_SCHEMA=1 cargo test -p app --lib --features ssr --quiet -- schema_check::schema_rs_matches_the_sqlite_migrations
	cargo fmt -p app
