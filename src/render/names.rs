//! Plain names for the graph's tensors, the words a learner reads on the picture ("Q, K, V
//! weights", "MLP hidden, after GELU"); the graph's own names (PyTorch's) show on hover.

/// The plain name of a tensor, from its graph name; the block it belongs to is said by the
/// block's bracket, not repeated here. Names this table does not know are shown as they are.
pub fn plain_name(name: &str) -> String {
    let local = match name
        .strip_prefix("h.")
        .or_else(|| name.strip_prefix("layers."))
    {
        Some(rest) => rest.split_once('.').map_or(rest, |(_, local)| local),
        None => name,
    };
    let known = match local {
        "input_ids" => "token ids",
        "position" => "position of the new token",
        "next_token" => "next token (sampled)",
        "wte.weight" => "token embeddings",
        "wpe.weight" => "position embeddings",
        "embed" => "input embedding",
        "ln_1" | "ln_2" | "ln_f" => "layer norm",
        "ln_1.weight" | "ln_2.weight" | "ln_f.weight" => "layer norm scale",
        "ln_1.bias" | "ln_2.bias" | "ln_f.bias" => "layer norm shift",
        "ln_1.mean" | "ln_2.mean" | "ln_f.mean" => "mean",
        "ln_1.rstd" | "ln_2.rstd" | "ln_f.rstd" => "1 / std",
        "attn.c_attn.weight" => "Q, K, V weights",
        "attn.c_attn.bias" => "Q, K, V biases",
        "attn.qkv" => "Q, K, V",
        "attn.q" => "queries Q",
        "attn.k" => "keys K",
        "attn.v" => "values V",
        "attn.k_cache" => "key cache",
        "attn.v_cache" => "value cache",
        "attn.scores" => "attention scores",
        "attn.probs" => "attention (softmax)",
        "attn.probs.max" | "probs.max" => "row max",
        "attn.probs.sum" | "probs.sum" => "row sum",
        "attn.mix" => "attention output",
        "attn.c_proj.weight" => "projection weights",
        "attn.c_proj.bias" => "projection bias",
        "attn.proj" => "attention projection",
        "resid_mid" => "residual + attention",
        "resid_out" => "residual + MLP",
        "mlp.c_fc.weight" => "MLP weights (up)",
        "mlp.c_fc.bias" => "MLP bias (up)",
        "mlp.fc" => "MLP hidden",
        "mlp.gelu" => "MLP hidden, after GELU",
        "mlp.c_proj.weight" => "MLP weights (down)",
        "mlp.c_proj.bias" => "MLP bias (down)",
        "mlp.proj" => "MLP output",
        "embed_tokens.weight" => "token embeddings",
        "input_layernorm" | "post_attention_layernorm" | "norm" => "RMS norm",
        "input_layernorm.weight" | "post_attention_layernorm.weight" | "norm.weight" => {
            "RMS norm scale"
        }
        "input_layernorm.rstd" | "post_attention_layernorm.rstd" | "norm.rstd" => "1 / RMS",
        "self_attn.q_proj.weight" => "Q weights",
        "self_attn.k_proj.weight" => "K weights",
        "self_attn.v_proj.weight" => "V weights",
        "self_attn.q_proj.bias" => "Q biases",
        "self_attn.k_proj.bias" => "K biases",
        "self_attn.v_proj.bias" => "V biases",
        "self_attn.o_proj.weight" => "output projection weights",
        "self_attn.o_proj.bias" => "output projection bias",
        "attn.q_proj" => "Q (before rotation)",
        "attn.k_proj" => "K (before rotation)",
        "attn.v_proj" => "V",
        "mlp.gate_proj.weight" => "MLP gate weights",
        "mlp.up_proj.weight" => "MLP up weights",
        "mlp.down_proj.weight" => "MLP down weights",
        "mlp.gate" => "MLP gate",
        "mlp.up" => "MLP up",
        "mlp.act" => "silu(gate) * up",
        "lm_head.weight" => "output head",
        "logits" => "next-token logits",
        "probs" => "next-token probabilities",
        _ => return name.to_string(),
    };
    known.to_string()
}

#[cfg(test)]
mod tests {
    use super::plain_name;

    #[test]
    fn block_prefix_is_dropped_and_unknown_names_kept() {
        assert_eq!(plain_name("h.11.mlp.gelu"), "MLP hidden, after GELU");
        assert_eq!(plain_name("h.0.attn.c_attn.weight"), "Q, K, V weights");
        assert_eq!(plain_name("probs"), "next-token probabilities");
        assert_eq!(plain_name("h.0.something.new"), "h.0.something.new");
    }
}
