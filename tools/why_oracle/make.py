"""Golden files for the "why" tools, computed by Hugging Face transformers.

For the tiny GPT-2 of tests/data/oracle/tiny_2l and its 16 input ids, writes into
tests/data/why/:

- lens.safetensors: `lens.{i}` [T, vocab], the logit lens's probabilities: hidden_states.{i}
  through the final layer norm (except the last, which is already after it) and the tied head,
  then softmax, for i = 0..n_layer.
- ablate_{case}.safetensors: `logits` and `hidden_states.{i}` of a forward pass with units
  switched off by hooks, as `glassbox --ablate` defines them:
  h.L.head.H: a forward pre-hook on c_proj zeroes (or mean-replaces) the head's slice of its
  input (transformers 5 ignores head_mask); h.L.mlp: a forward hook replaces the MLP's output
  (after c_proj, bias included); h.L.mlp.neuron.N: a forward hook on the GELU replaces one output.
- cases.json: each case's units and whether it replaces with the mean over positions.

Run: python3 -m venv .venv && .venv/bin/pip install -r tools/why_oracle/requirements.txt
     .venv/bin/python tools/why_oracle/make.py
"""

import json
import pathlib

import torch
from safetensors.numpy import load_file, save_file
from transformers import GPT2LMHeadModel

ROOT = pathlib.Path(__file__).resolve().parents[2]
MODEL = ROOT / "tests/data/oracle/tiny_2l"
OUT = ROOT / "tests/data/why"

CASES = {
    "heads": (["h.0.head.1", "h.1.head.3"], False),
    "heads_mean": (["h.0.head.1", "h.1.head.3"], True),
    "mlp": (["h.1.mlp"], False),
    "mlp_mean": (["h.0.mlp"], True),
    "neurons": (["h.0.mlp.neuron.5", "h.0.mlp.neuron.200", "h.1.mlp.neuron.17"], False),
    "neurons_mean": (["h.1.mlp.neuron.17"], True),
    "mixed": (["h.0.head.2", "h.0.mlp.neuron.9", "h.1.mlp"], False),
}


def replace(x, mean):
    """Zero, or the mean over positions (dimension 1 of [batch, T, ...])."""
    if mean:
        return x.mean(dim=1, keepdim=True).expand_as(x)
    return torch.zeros_like(x)


def install(model, unit, mean):
    parts = unit.split(".")
    layer = int(parts[1])
    block = model.transformer.h[layer]
    if parts[2] == "head":
        head = int(parts[3])
        d = model.config.n_embd // model.config.n_head
        cols = slice(head * d, (head + 1) * d)

        def pre_hook(module, args):
            x = args[0].clone()
            x[..., cols] = replace(x[..., cols], mean)
            return (x,)

        return block.attn.c_proj.register_forward_pre_hook(pre_hook)
    if len(parts) == 3:
        return block.mlp.register_forward_hook(lambda m, a, out: replace(out, mean))
    neuron = int(parts[4])

    def act_hook(module, args, out):
        out = out.clone()
        out[..., neuron : neuron + 1] = replace(out[..., neuron : neuron + 1], mean)
        return out

    return block.mlp.act.register_forward_hook(act_hook)


def main():
    torch.manual_seed(0)
    model = GPT2LMHeadModel.from_pretrained(MODEL, attn_implementation="eager").eval()
    ids = load_file(MODEL / "expected.safetensors")["input_ids"].astype("int64")
    input_ids = torch.tensor(ids)[None]
    OUT.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        out = model(input_ids, output_hidden_states=True)
        n_layer = model.config.n_layer
        lens = {}
        for i, hidden in enumerate(out.hidden_states):
            normed = hidden if i == n_layer else model.transformer.ln_f(hidden)
            lens[f"lens.{i}"] = torch.softmax(model.lm_head(normed)[0], dim=-1).numpy()
        lens["input_ids"] = ids.astype("int32")
        save_file(lens, OUT / "lens.safetensors")
        cases = {}
        for name, (units, mean) in CASES.items():
            hooks = [install(model, unit, mean) for unit in units]
            out = model(input_ids, output_hidden_states=True)
            for hook in hooks:
                hook.remove()
            tensors = {"logits": out.logits[0].numpy(), "input_ids": ids.astype("int32")}
            for i, hidden in enumerate(out.hidden_states):
                tensors[f"hidden_states.{i}"] = hidden[0].numpy()
            save_file(tensors, OUT / f"ablate_{name}.safetensors")
            cases[name] = {"units": units, "mean": mean}
    (OUT / "cases.json").write_text(json.dumps(cases, indent=1) + "\n")
    print(f"wrote {len(cases)} ablation cases and the lens to {OUT}")


if __name__ == "__main__":
    main()
