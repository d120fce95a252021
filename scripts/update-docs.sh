#!/usr/bin/env bash
# Regenerates README.md's option reference from the daemon's own schema
# tables (`kinship --print-schema`), so the docs cannot drift from the code.
#   scripts/update-docs.sh [KINSHIP_BIN]          rewrite README.md
#   scripts/update-docs.sh --check [KINSHIP_BIN]  exit 1 if README.md is stale
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
check=0
if [[ "${1:-}" == "--check" ]]; then
  check=1
  shift
fi
bin="${1:-$repo/build/kinship}"
readme="$repo/README.md"
begin='<!-- BEGIN GENERATED OPTIONS: scripts/update-docs.sh -->'
end='<!-- END GENERATED OPTIONS -->'

generated="$(mktemp)"
trap 'rm -f "$generated" "$generated.new"' EXIT
"$bin" --print-schema | sed 's/^## /### /' >"$generated"

awk -v begin="$begin" -v end="$end" -v file="$generated" '
  $0 == begin { print; while ((getline line < file) > 0) print line; skipping = 1; next }
  $0 == end { skipping = 0 }
  !skipping { print }
' "$readme" >"$generated.new"

if ! grep -qF "$begin" "$readme" || ! grep -qF "$end" "$readme"; then
  echo "update-docs.sh: README.md lacks the generated-options markers" >&2
  exit 1
fi
if ((check)); then
  if ! diff -u "$readme" "$generated.new"; then
    echo "update-docs.sh: README.md's option reference is stale: run scripts/update-docs.sh" >&2
    exit 1
  fi
  echo "update-docs.sh: README.md's option reference matches kinship --print-schema"
else
  cp "$generated.new" "$readme"
  echo "update-docs.sh: README.md updated"
fi
