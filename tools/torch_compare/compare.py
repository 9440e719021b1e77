"""Prints glassbox beside Hugging Face transformers on the same GPU, as ratios.

Usage: compare.py TORCH.json BENCH_GPT2_SMALL.json BENCH_SMOLLM2_135M.json

TORCH.json is torch_bench.py's report (PyTorch eager, float32, TF32 off, CUDA events);
the bench reports are `glassbox bench --json-out` of the same run on the same machine, with
--seq-lens covering the lengths torch_bench measures. glassbox's pass is its fast path, wall
clock from submit to idle; its decode step is the wall clock of one step. A ratio above 1 means
glassbox is slower.
"""
import json
import sys


def rows(torch_shape, bench):
    scaling = {row["seq_len"]: row for row in bench["scaling"]}
    for t in (1, 64, 256, 1024):
        key = f"forward_T{t}_ms"
        if key in torch_shape and t in scaling:
            yield f"pass, {t} tokens", scaling[t]["gpu_fast_ms"], torch_shape[key]
    yield "decode step", bench["decode"]["gpu_ms"], torch_shape["decode_step_ms"]


def main():
    torch_report = json.load(open(sys.argv[1]))
    print(f"device: {torch_report['device']}, torch {torch_report['torch']}")
    for shape, path in zip(("gpt2-small", "smollm2-135m"), sys.argv[2:]):
        bench = json.load(open(path))
        print(f"== {shape}")
        print(f"  {'':<18} {'glassbox ms':>12} {'transformers ms':>16} {'ratio':>7}")
        for what, ours, theirs in rows(torch_report[shape], bench):
            print(f"  {what:<18} {ours:>12.3f} {theirs:>16.3f} {ours / theirs:>6.2f}x")


main()
