#!/usr/bin/env bash
# The test command: installs Mesa's software Vulkan driver (lavapipe) when no Vulkan driver is
# present, so the GPU tests run on machines without a GPU, then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! ls /usr/share/vulkan/icd.d/*.json >/dev/null 2>&1; then
    echo "no Vulkan driver found: installing Mesa lavapipe (mesa-vulkan-drivers)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq mesa-vulkan-drivers libvulkan1 >/dev/null
fi
# lavapipe runs single-threaded unless told otherwise.
export LP_NUM_THREADS="${LP_NUM_THREADS:-$(nproc)}"

cargo test --release "$@"
