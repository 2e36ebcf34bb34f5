#!/usr/bin/env bash
# `make migration NAME=create_notes`: creates the pair of migrations a schema change
# needs, one per dialect, with the same version so they apply in the same order:
#   migrations/sqlite/<version>_<name>/{up,down}.sql
#   migrations/postgres/<version>_<name>/{up,down}.sql
# Write the SQL in both, then run `make schema` to regenerate app/src/store/schema.rs.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

name="${1:-}"
if ! [[ "$name" =~ ^[a-z][a-z0-9_]*$ ]]; then
  echo "usage: $0 NAME   (lower case, digits and _, e.g. create_notes)" >&2
  exit 2
fi

# Versions are <UTC date>-<six digits> and must sort after every existing migration:
# today's date with the next number, or the next number after the newest one if that is
# dated today or later.
today="$(date -u +%Y-%m-%d)"
newest="$(find migrations/sqlite migrations/postgres -mindepth 1 -maxdepth 1 -type d -printf '%f\n' |
  cut -c1-17 | sort | tail -n 1)"
if [[ -n "$newest" && ! "${newest:0:10}" < "$today" ]]; then
  version="${newest:0:10}-$(printf '%06d' $((10#${newest:11:6} + 1)))"
else
  version="${today}-000001"
fi

for dialect in sqlite postgres; do
  dir="migrations/${dialect}/${version}_${name}"
  if ls -d "migrations/${dialect}/"*"_${name}" >/dev/null 2>&1; then
    echo "a migration named ${name} exists already in migrations/${dialect}" >&2
    exit 1
  fi
  mkdir -p "$dir"
  cat >"$dir/up.sql" <<SQL
-- ${name} (${dialect}). Its twin in migrations/$([ "$dialect" = sqlite ] && echo postgres || echo sqlite) must
-- describe the same tables: \`make test\` compares both with app/src/store/schema.rs.
-- Timestamps are UTC (TIMESTAMP). A row that stands for something temporary gets an
-- \`expires_at\` and a line in AuthService::cleanup_at, so no table grows without bound.
SQL
  cat >"$dir/down.sql" <<SQL
-- Undoes ${version}_${name}.
SQL
  echo "created $dir"
done
echo "next: write the SQL in both up.sql files, then run \`make schema\`"
