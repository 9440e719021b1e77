#!/usr/bin/env python3
"""Train a tiny Llama (transformers' LlamaForCausalLM) to sort six letters from {A, B, C}, the
task of the built-in GPT-2 sorter (tools/train_sort), and save it with `save_pretrained`.

The model: 2 decoder layers, 48 channels, 4 query heads sharing 2 key/value heads (head_dim
12), a gated MLP of 96 neurons, RMSNorm, rotary positions (theta 10000) and a tied head: every
part of the Llama architecture at a size the eye can follow. It sees [in0..in5, out0..out4] (11
tokens, A=0, B=1, C=2) and is trained to predict out_k at position 5+k; the loss is
cross-entropy on positions 5..10 only.

One CPU thread, fixed seeds and deterministic kernels: the same weights on every run.

Run: python3 -m venv .venv && .venv/bin/pip install -r tools/train_llama_sort/requirements.txt
     .venv/bin/python tools/train_llama_sort/train.py --out scenes/llama_sort
"""
import argparse
import itertools
import os
import time

import numpy as np
import torch
from transformers import LlamaConfig, LlamaForCausalLM

VOCAB, N_POS, N_IN = 3, 11, 6


def config():
    return LlamaConfig(
        vocab_size=VOCAB,
        hidden_size=48,
        intermediate_size=96,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=N_POS,
        rms_norm_eps=1e-5,
        hidden_act="silu",
        tie_word_embeddings=True,
        rope_parameters={"rope_type": "default", "rope_theta": 10000.0},
        bos_token_id=None,
        eos_token_id=None,
        attn_implementation="eager",
    )


ALL_INPUTS = np.array(list(itertools.product(range(VOCAB), repeat=N_IN)), dtype=np.int64)


def make_batch(inputs):
    """inputs [B, 6] -> (ids [B, 11], targets [B, 6]) with ids = inputs ++ sorted[:5]."""
    srt = np.sort(inputs, axis=1)
    return np.concatenate([inputs, srt[:, :-1]], axis=1), srt


def generate(model, inputs):
    seq = torch.tensor(inputs)
    with torch.no_grad():
        for _ in range(N_IN):
            nxt = model(seq).logits[:, -1, :].argmax(-1)
            seq = torch.cat([seq, nxt[:, None]], dim=1)
    return seq[:, N_IN:].numpy()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="scenes/llama_sort")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=3e-3)
    args = ap.parse_args()

    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    torch.use_deterministic_algorithms(True)
    rng = np.random.default_rng(args.seed)
    model = LlamaForCausalLM(config())
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    warmup = 100
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda s: min(1.0, (s + 1) / warmup) * (0.05 + 0.95 * 0.5 * (1 + np.cos(np.pi * min(1.0, s / args.steps)))),
    )
    t0 = time.time()
    model.train()
    for it in range(1, args.steps + 1):
        ids, targets = make_batch(ALL_INPUTS[rng.integers(0, len(ALL_INPUTS), args.batch)])
        logits = model(torch.tensor(ids)).logits[:, N_IN - 1 :, :]
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, VOCAB), torch.tensor(targets).reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        if it % 250 == 0 or it == 1:
            print(f"step {it:5d}  loss {loss.item():.5f}", flush=True)
    train_s = time.time() - t0

    model.eval()
    out = generate(model, ALL_INPUTS)
    acc = float((out == np.sort(ALL_INPUTS, axis=1)).all(axis=1).mean())
    model.save_pretrained(args.out)
    for extra in ["generation_config.json"]:
        path = os.path.join(args.out, extra)
        if os.path.exists(path):
            os.remove(path)
    path = os.path.join(args.out, "model.safetensors")
    os.chmod(path, 0o644)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"training time: {train_s:.1f} s ({args.steps} steps, batch {args.batch}, 1 CPU thread)")
    print(f"parameters: {n_params}")
    print(f"model.safetensors: {os.path.getsize(path)} bytes")
    print(f"greedy generation fully sorted: {acc:.4f} ({int(round(acc * len(ALL_INPUTS)))}/{len(ALL_INPUTS)})")
    for i, o in zip(ALL_INPUTS[[0, 100, 400, 728]], generate(model, ALL_INPUTS[[0, 100, 400, 728]])):
        print("  " + "".join("ABC"[t] for t in i) + " -> " + "".join("ABC"[t] for t in o))
    if acc < 0.99:
        raise SystemExit(f"accuracy {acc:.4f} below 0.99")


if __name__ == "__main__":
    main()
