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

# Versions are <UTC date>-<six digits>, one more than the last migration of that day.
today="$(date -u +%Y-%m-%d)"
last="$(find migrations/sqlite migrations/postgres -mindepth 1 -maxdepth 1 -type d -name "${today}-*" -printf '%f\n' |
  sed -E 's/^[0-9]{4}-[0-9]{2}-[0-9]{2}-([0-9]{6}).*/\1/' | sort | tail -n 1)"
version="${today}-$(printf '%06d' $((10#${last:-0} + 1)))"

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
