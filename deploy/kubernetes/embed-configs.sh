#!/usr/bin/env bash
# Copies each ready config into the ConfigMaps of the manifests here.
#
# A ConfigMap's `kinship.yaml: |` block is preceded by a comment naming its
# source, "# config/examples/<name>.yaml ...": this script replaces the block
# with that file, indented. tests/integration/config_examples.test.mjs checks
# that the two are equal and that kinship accepts the block.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

for manifest in "$here"/*.yaml; do
  awk -v repo="$repo" '
    function indentOf(s) { match(s, /^ */); return RLENGTH }
    # Inside a block: skip its lines (blank, or indented deeper than the key).
    skipping {
      if ($0 ~ /^[ \t]*$/ || indentOf($0) > keyIndent) next
      skipping = 0
    }
    /^ *# config\/examples\/[A-Za-z0-9_.-]+\.yaml/ {
      source = $0; sub(/^ *# /, "", source); sub(/ .*/, "", source)
    }
    /^ *kinship\.yaml: \|$/ && source != "" {
      print
      keyIndent = indentOf($0)
      pad = sprintf("%*s", keyIndent + 2, "")
      file = repo "/" source
      while ((getline line < file) > 0) print (line == "" ? "" : pad line)
      close(file)
      source = ""; skipping = 1
      next
    }
    { print }
  ' "$manifest" >"$manifest.tmp"
  mv "$manifest.tmp" "$manifest"
done
