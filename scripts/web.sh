#!/usr/bin/env bash
# glassbox in the browser.
#   bash scripts/web.sh build   writes the static site to dist/ (html, js, wasm; publish it as is)
#   bash scripts/web.sh serve   builds, then serves dist/ on http://127.0.0.1:8080
#   bash scripts/web.sh test    builds, then checks the page in headless Chromium (web/test)
# WebGPU exists only in a secure context: open the page from 127.0.0.1 or over HTTPS.
set -euo pipefail
cd "$(dirname "$0")/.."

# The wasm-bindgen command line must be the version of the wasm-bindgen crate in Cargo.lock.
bindgen_version=$(grep -A1 '^name = "wasm-bindgen"$' Cargo.lock | sed -n 's/^version = "\(.*\)"$/\1/p')

ensure_tools() {
    if command -v rustup >/dev/null 2>&1; then
        rustup target add wasm32-unknown-unknown >/dev/null 2>&1
    fi
    if ! wasm-bindgen --version 2>/dev/null | grep -qF "$bindgen_version"; then
        echo "installing wasm-bindgen-cli $bindgen_version (once; a few minutes)"
        cargo install --quiet wasm-bindgen-cli --version "$bindgen_version"
    fi
}

build() {
    ensure_tools
    cargo build --release -p glassbox-web --target wasm32-unknown-unknown
    rm -rf dist
    mkdir -p dist
    wasm-bindgen --target web --no-typescript --out-dir dist --out-name glassbox \
        target/wasm32-unknown-unknown/release/glassbox_web.wasm
    cp web/static/* dist/
    local raw gz
    raw=$(stat -c %s dist/glassbox_bg.wasm)
    gz=$(gzip -9 -c dist/glassbox_bg.wasm | wc -c)
    echo "dist/: glassbox_bg.wasm is $((raw / 1024)) KiB, $((gz / 1024)) KiB gzipped"
}

serve() {
    build
    echo "serving dist/ on http://127.0.0.1:8080 (Ctrl-C stops)"
    exec python3 -m http.server 8080 --bind 127.0.0.1 --directory dist
}

browser_test() {
    build
    cargo build --release --bin glassbox
    (cd web/test && npm ci --silent --no-audit --no-fund)
    node web/test/browser.mjs
}

case "${1:-}" in
build) build ;;
serve) serve ;;
test) browser_test ;;
*)
    echo "usage: bash scripts/web.sh build|serve|test" >&2
    exit 2
    ;;
esac
