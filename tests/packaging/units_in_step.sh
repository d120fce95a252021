#!/usr/bin/env bash
# kinship@.service repeats kinship.service's hardening line for line: from
# "# Hardening:" to the end, the two files must be the same.
# usage: units_in_step.sh SOURCE_DIR
set -euo pipefail

src="$1"
block() { sed -n '/^# Hardening:/,$p' "$1"; }

main="$(block "$src/systemd/kinship.service")"
inst="$(block "$src/systemd/kinship@.service")"
if [[ -z "$main" ]]; then
  echo "units_in_step: no '# Hardening:' line in kinship.service" >&2
  exit 1
fi
if [[ "$main" != "$inst" ]]; then
  echo "units_in_step: kinship@.service's hardening differs from kinship.service's:" >&2
  diff <(echo "$main") <(echo "$inst") >&2 || true
  exit 1
fi
echo "units_in_step: $(wc -l <<<"$main") lines alike"
