#!/usr/bin/env bash
# One command for a machine with a GPU: builds, checks every reference model on both backends
# (`glassbox check`: GPU against the CPU reference, op by op), tunes the kernels for GPT-2 small's
# shapes on this adapter (`glassbox tune`, into a tuned file of its own under target/gpu-check/
# so the user's choices are left alone), then benchmarks GPT-2 small's and SmolLM2-135M's shapes
# with random weights with those choices and prints the tables. The JSON reports land in
# target/gpu-check/. Without a GPU it runs on whatever adapter wgpu finds (lavapipe: slow).
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release
glassbox=target/release/glassbox
out=target/gpu-check
mkdir -p "$out"
export GLASSBOX_CACHE_DIR="$PWD/$out/cache"
rm -rf "$GLASSBOX_CACHE_DIR"

for model in tests/data/oracle/*/; do
    echo "== check $model"
    "$glassbox" check --model "$model" --ids 1,2,3,4,5,6,7 | tail -1
done
echo "== tune --shape gpt2-small"
"$glassbox" tune --shape gpt2-small --reps 3 | tee "$out/tune-gpt2-small.txt"
for shape in gpt2-small smollm2-135m; do
    echo "== bench --shape $shape"
    "$glassbox" bench --shape "$shape" --reps 3 --json-out "$out/bench-$shape.json" | tee "$out/bench-$shape.txt"
done
echo "reports in $out"
