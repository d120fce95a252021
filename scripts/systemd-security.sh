#!/usr/bin/env bash
# Prints the exposure `systemd-analyze security --offline=true` gives each
# unit file (by default systemd/kinship.service and systemd/kinship@.service):
#   kinship.service: exposure 1.4 OK
# Offline mode reads only the files given: no running systemd, installed
# binary or kinship user is needed.
#
#   --max N     exit 1 when a unit's exposure is above N (e.g. 2.0)
#   --verbose   also print the settings that add to the exposure
#
# Exits 77 (the usual "skipped" code) when systemd-analyze is missing.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

usage() {
  echo "usage: $0 [--max N] [--verbose] [UNIT_FILE...]" >&2
  exit 2
}

max=""
verbose=0
units=()
while (($# > 0)); do
  case "$1" in
    --max)
      (($# >= 2)) || usage
      [[ "$2" =~ ^[0-9]+(\.[0-9]+)?$ ]] || usage
      max="$2"
      shift 2
      ;;
    --verbose) verbose=1; shift ;;
    -h | --help) usage ;;
    -*) usage ;;
    *) units+=("$1"); shift ;;
  esac
done
((${#units[@]} > 0)) || units=("$repo/systemd/kinship.service" "$repo/systemd/kinship@.service")

if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "systemd-security.sh: systemd-analyze not found (Debian: apt-get install systemd)" >&2
  exit 77
fi

status=0
for unit in "${units[@]}"; do
  name="$(basename "$unit")"
  if [[ ! -f "$unit" ]]; then
    echo "$name: no such file: $unit" >&2
    status=1
    continue
  fi
  # Without --threshold it exits 0 whatever the rating; the last line is
  # "→ Overall exposure level for kinship.service: 1.4 OK 🙂".
  if ! out="$(systemd-analyze security --offline=true --no-pager "$unit" 2>&1)"; then
    echo "$out" >&2
    echo "$name: systemd-analyze security failed" >&2
    status=1
    continue
  fi
  overall="$(grep -E 'Overall exposure level for' <<<"$out" | tail -n 1 || true)"
  if [[ ! "$overall" =~ :\ ([0-9]+\.[0-9]+)\ ([A-Z]+) ]]; then
    echo "$out" >&2
    echo "$name: no overall exposure in systemd-analyze's output" >&2
    status=1
    continue
  fi
  exposure="${BASH_REMATCH[1]}"
  rating="${BASH_REMATCH[2]}"
  line="$name: exposure $exposure $rating"
  if [[ -n "$max" ]] && awk -v e="$exposure" -v m="$max" 'BEGIN { exit !(e > m) }'; then
    line+=", above --max $max"
    status=1
  fi
  echo "$line"
  if ((verbose)); then
    grep -E '^✗' <<<"$out" | sed 's/^/  /' || true
  fi
done
exit "$status"
