#!/usr/bin/env python3
"""Train a tiny GPT-2 that sorts 6 letters from {A,B,C}, export it in HF GPT-2 layout.

Task (as in bbycroft's LLM visualization "sort" model): tokens A=0, B=1, C=2.
The model sees [in0..in5, out0..out4] (11 tokens) and is trained to predict
out_k at position 5+k (k=0..5); loss is cross-entropy on positions 5..10 only.

Outputs (in --out): config.json and model.safetensors (GPT-2 Conv1D layout,
weights [in, out], names without a "transformer." prefix, lm head tied to wte).
"""
import os

# One CPU thread only; must be set before jax is imported.
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
for _v in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ.setdefault(_v, "1")
os.environ.setdefault("JAX_PLATFORMS", "cpu")
# XLA still starts helper threads (compilation, dispatch); pin the whole process to one core
# so training never takes more than one CPU.
if hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

import argparse
import itertools
import json
import math
import time

import numpy as np
import jax
import jax.numpy as jnp
import optax
from safetensors.numpy import save_file

N_LAYER, N_HEAD, N_EMBD = 3, 3, 48
VOCAB, N_POS, N_IN = 3, 11, 6
EPS = 1e-5

CONFIG = {
    "architectures": ["GPT2LMHeadModel"],
    "model_type": "gpt2",
    "n_layer": N_LAYER,
    "n_head": N_HEAD,
    "n_embd": N_EMBD,
    "vocab_size": VOCAB,
    "n_positions": N_POS,
    "n_ctx": N_POS,
    "layer_norm_epsilon": EPS,
    "activation_function": "gelu_new",
}


def init_params(key):
    """GPT-2 initialisation: N(0, 0.02), residual projections scaled by 1/sqrt(2*n_layer)."""
    C = N_EMBD
    keys = iter(jax.random.split(key, 2 + 4 * N_LAYER))
    normal = lambda shape, std=0.02: std * jax.random.normal(next(keys), shape, jnp.float32)
    proj_std = 0.02 / math.sqrt(2 * N_LAYER)
    p = {"wte.weight": normal((VOCAB, C)), "wpe.weight": normal((N_POS, C))}
    for l in range(N_LAYER):
        h = f"h.{l}."
        p[h + "ln_1.weight"] = jnp.ones((C,), jnp.float32)
        p[h + "ln_1.bias"] = jnp.zeros((C,), jnp.float32)
        p[h + "attn.c_attn.weight"] = normal((C, 3 * C))
        p[h + "attn.c_attn.bias"] = jnp.zeros((3 * C,), jnp.float32)
        p[h + "attn.c_proj.weight"] = normal((C, C), proj_std)
        p[h + "attn.c_proj.bias"] = jnp.zeros((C,), jnp.float32)
        p[h + "ln_2.weight"] = jnp.ones((C,), jnp.float32)
        p[h + "ln_2.bias"] = jnp.zeros((C,), jnp.float32)
        p[h + "mlp.c_fc.weight"] = normal((C, 4 * C))
        p[h + "mlp.c_fc.bias"] = jnp.zeros((4 * C,), jnp.float32)
        p[h + "mlp.c_proj.weight"] = normal((4 * C, C), proj_std)
        p[h + "mlp.c_proj.bias"] = jnp.zeros((C,), jnp.float32)
    p["ln_f.weight"] = jnp.ones((C,), jnp.float32)
    p["ln_f.bias"] = jnp.zeros((C,), jnp.float32)
    return p


def layer_norm(x, w, b):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)  # biased variance
    return (x - mu) / jnp.sqrt(var + EPS) * w + b


def gelu_new(x):
    return 0.5 * x * (1.0 + jnp.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))


def forward(p, ids):
    """Standard GPT-2 forward. ids: int [B, T] -> logits [B, T, VOCAB]."""
    B, T = ids.shape
    C, H = N_EMBD, N_HEAD
    D = C // H
    x = p["wte.weight"][ids] + p["wpe.weight"][:T][None]
    mask = jnp.tril(jnp.ones((T, T), bool))
    for l in range(N_LAYER):
        h = f"h.{l}."
        a = layer_norm(x, p[h + "ln_1.weight"], p[h + "ln_1.bias"])
        qkv = a @ p[h + "attn.c_attn.weight"] + p[h + "attn.c_attn.bias"]
        q, k, v = jnp.split(qkv, 3, axis=-1)  # q = cols [0,C), k = [C,2C), v = [2C,3C)
        heads = lambda t: t.reshape(B, T, H, D).transpose(0, 2, 1, 3)  # contiguous D-chunks
        q, k, v = heads(q), heads(k), heads(v)
        s = (q @ k.transpose(0, 1, 3, 2)) / math.sqrt(D)
        s = jnp.where(mask, s, -1e10)
        att = jax.nn.softmax(s, axis=-1)
        y = (att @ v).transpose(0, 2, 1, 3).reshape(B, T, C)
        x = x + y @ p[h + "attn.c_proj.weight"] + p[h + "attn.c_proj.bias"]
        m = layer_norm(x, p[h + "ln_2.weight"], p[h + "ln_2.bias"])
        m = gelu_new(m @ p[h + "mlp.c_fc.weight"] + p[h + "mlp.c_fc.bias"])
        x = x + m @ p[h + "mlp.c_proj.weight"] + p[h + "mlp.c_proj.bias"]
    x = layer_norm(x, p["ln_f.weight"], p["ln_f.bias"])
    return x @ p["wte.weight"].T  # tied head, no bias


ALL_INPUTS = np.array(list(itertools.product(range(VOCAB), repeat=N_IN)), dtype=np.int32)  # 729 x 6


def make_batch(inputs):
    """inputs [B,6] -> (ids [B,11], targets [B,6]) with ids = inputs ++ sorted[:5]."""
    srt = np.sort(inputs, axis=1)
    return np.concatenate([inputs, srt[:, :-1]], axis=1), srt


def loss_fn(p, ids, targets):
    logits = forward(p, ids)[:, N_IN - 1:, :]  # positions 5..10
    return optax.softmax_cross_entropy_with_integer_labels(logits, targets).mean()


def generate(p, inputs):
    """Greedy autoregressive generation of 6 tokens after the 6 inputs."""
    fwd = jax.jit(forward)
    seq = np.asarray(inputs, dtype=np.int32)
    for _ in range(N_IN):
        logits = np.asarray(fwd(p, jnp.asarray(seq)))
        nxt = logits[:, -1, :].argmax(-1).astype(np.int32)
        seq = np.concatenate([seq, nxt[:, None]], axis=1)
    return seq[:, N_IN:]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="scenes/sort")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=3e-3)
    args = ap.parse_args()

    t0 = time.time()
    rng = np.random.default_rng(args.seed)
    params = init_params(jax.random.PRNGKey(args.seed))
    sched = optax.warmup_cosine_decay_schedule(0.0, args.lr, 100, args.steps, args.lr * 0.05)
    opt = optax.chain(optax.clip_by_global_norm(1.0), optax.adamw(sched, weight_decay=0.01))
    opt_state = opt.init(params)

    @jax.jit
    def step(p, s, ids, targets):
        loss, g = jax.value_and_grad(loss_fn)(p, ids, targets)
        upd, s = opt.update(g, s, p)
        return optax.apply_updates(p, upd), s, loss

    for it in range(1, args.steps + 1):
        ids, tgt = make_batch(ALL_INPUTS[rng.integers(0, len(ALL_INPUTS), args.batch)])
        params, opt_state, loss = step(params, opt_state, jnp.asarray(ids), jnp.asarray(tgt))
        if it % 250 == 0 or it == 1:
            print(f"step {it:5d}  loss {float(loss):.5f}", flush=True)
    train_s = time.time() - t0

    out = generate(params, ALL_INPUTS)
    acc = float((out == np.sort(ALL_INPUTS, axis=1)).all(axis=1).mean())

    os.makedirs(args.out, exist_ok=True)
    tensors = {k: np.ascontiguousarray(np.asarray(v, dtype=np.float32)) for k, v in params.items()}
    path = os.path.join(args.out, "model.safetensors")
    save_file(tensors, path, metadata={"format": "pt"})
    os.chmod(path, 0o644)
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump(CONFIG, f, indent=2)
        f.write("\n")

    n_params = sum(int(v.size) for v in tensors.values())
    print(f"training time: {train_s:.1f} s ({args.steps} steps, batch {args.batch}, 1 CPU thread)")
    print(f"parameters: {n_params}")
    print(f"model.safetensors: {os.path.getsize(path)} bytes")
    print(f"greedy generation fully sorted: {acc:.4f} ({int(round(acc * len(ALL_INPUTS)))}/{len(ALL_INPUTS)})")
    ex = ALL_INPUTS[[0, 100, 400, 728]]
    for i, o in zip(ex, generate(params, ex)):
        print("  " + "".join("ABC"[t] for t in i) + " -> " + "".join("ABC"[t] for t in o))
    if acc < 0.99:
        raise SystemExit(f"accuracy {acc:.4f} below 0.99")


if __name__ == "__main__":
    main()
