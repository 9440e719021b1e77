"""More Llama-family reference cases, computed by Hugging Face transformers, beside the two of
../shared/oracle (tiny_llama, tiny_qwen2), covering what those do not:

- llama_odd (LlamaForCausalLM): head_dim 10 (not a power of two), one key/value head for four
  query heads, rope_theta 500000 with `llama3` scaling over an original context of 8 and a
  sequence of 20 tokens (past it), q/k/v/o and MLP biases (`attention_bias`, `mlp_bias`), a tied
  head, weights stored as F16.
- mistral_sharded (MistralForCausalLM): two key/value heads for six query heads (head_dim 8),
  rope_theta 1000000, an untied head, F32 weights saved in two shards with
  `model.safetensors.index.json`.

Both are written by `save_pretrained`, so their config.json carries the rope settings as
transformers 5 does (`rope_parameters`). Weights are random and deliberately large (norm gains
and biases too), as in the shared cases. Half-precision weights are rounded first and the
expected tensors computed in float32 from the rounded values. Each folder gets
expected.safetensors as ../shared/oracle/README.md defines it: input_ids, logits,
hidden_states.{i} (the last after the final RMSNorm), attentions.{l} [n_head, T, T].

Run: python3 -m venv .venv && .venv/bin/pip install -r tools/llama_oracle/requirements.txt
     .venv/bin/python tools/llama_oracle/make.py
"""

import pathlib
import shutil

import torch
from safetensors.numpy import save_file
from transformers import LlamaConfig, LlamaForCausalLM, MistralConfig, MistralForCausalLM

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "tests/data/oracle"


def randomize(model, seed):
    """Every parameter drawn at a scale that makes it matter: linear weights N(0, 0.25),
    biases N(0, 0.5), norm gains 1 + N(0, 0.3)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            noise = torch.randn(parameter.shape, generator=generator)
            if name.endswith("norm.weight"):
                parameter.copy_(1.0 + 0.3 * noise)
            elif name.endswith(".bias"):
                parameter.copy_(0.5 * noise)
            else:
                parameter.copy_(0.25 * noise)


def write(name, model, dtype, ids, **save):
    folder = OUT / name
    if folder.exists():
        shutil.rmtree(folder)
    model = model.eval()
    with torch.no_grad():
        # Parameters only: converting the whole model would round the rotary frequencies
        # (a buffer) too, which transformers keeps in float32.
        for parameter in model.parameters():
            parameter.copy_(parameter.to(dtype).to(torch.float32))
        out = model(torch.tensor(ids)[None], output_hidden_states=True, output_attentions=True)
    tensors = {"input_ids": torch.tensor(ids, dtype=torch.int32).numpy(), "logits": out.logits[0].numpy()}
    for i, hidden in enumerate(out.hidden_states):
        tensors[f"hidden_states.{i}"] = hidden[0].contiguous().numpy()
    for layer, attention in enumerate(out.attentions):
        tensors[f"attentions.{layer}"] = attention[0].contiguous().numpy()
    model.to(dtype).save_pretrained(folder, **save)
    save_file(tensors, folder / "expected.safetensors")
    (folder / "generation_config.json").unlink(missing_ok=True)
    print(name, sorted(p.name for p in folder.iterdir()))


def main():
    torch.manual_seed(0)
    odd = LlamaConfig(
        vocab_size=89,
        hidden_size=40,
        intermediate_size=72,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=1,
        max_position_embeddings=32,
        rms_norm_eps=1e-5,
        hidden_act="silu",
        tie_word_embeddings=True,
        attention_bias=True,
        mlp_bias=True,
        rope_parameters={
            "rope_type": "llama3",
            "rope_theta": 500000.0,
            "factor": 4.0,
            "low_freq_factor": 1.0,
            "high_freq_factor": 4.0,
            "original_max_position_embeddings": 8,
        },
        attn_implementation="eager",
    )
    model = LlamaForCausalLM(odd)
    randomize(model, 1)
    ids = [(i * 37 + 11) % odd.vocab_size for i in range(20)]
    write("llama_odd", model, torch.float16, ids)

    mistral = MistralConfig(
        vocab_size=71,
        hidden_size=48,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=6,
        num_key_value_heads=2,
        max_position_embeddings=32,
        rms_norm_eps=1e-6,
        hidden_act="silu",
        tie_word_embeddings=False,
        sliding_window=None,
        rope_parameters={"rope_type": "default", "rope_theta": 1000000.0},
        attn_implementation="eager",
    )
    model = MistralForCausalLM(mistral)
    randomize(model, 2)
    ids = [(i * 13 + 5) % mistral.vocab_size for i in range(11)]
    write("mistral_sharded", model, torch.float32, ids, max_shard_size="150KB")


if __name__ == "__main__":
    main()
