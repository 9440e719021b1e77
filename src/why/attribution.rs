//! Direct logit attribution: how much each part of the residual stream writes toward one
//! token's logit, with the final layer norm's scale frozen at the position's own (the
//! convention of TransformerLens). The terms sum to the logit.

use serde::Serialize;

use super::{tensor, Runner, WhyError};
use crate::graph::probe::{Ablations, AttributionTarget, Probes};
use crate::graph::Graph;
use crate::model::Config;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Term {
    /// `embed` (token plus position), `h.L.head.H`, `h.L.attn.bias` (the attention output
    /// projection's bias), `h.L.mlp` (its output bias included) or `ln_f.bias`.
    pub name: String,
    pub value: f32,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AttributionReport {
    pub token: u32,
    pub position: usize,
    /// The model's logit for the token at the position.
    pub logit: f32,
    /// The terms' sum, which equals the logit up to rounding.
    pub total: f32,
    pub terms: Vec<Term>,
}

/// The token the model ranks first at `position`, read from a forward pass.
async fn predicted(
    runner: &Runner<'_>,
    config: &Config,
    ids: &[u32],
    position: usize,
    ablations: &Ablations,
) -> Result<u32, WhyError> {
    let graph = Graph::forward_ablated(config, ids.len(), ablations);
    let logits = runner
        .run(&graph, ids, &[], &[tensor(&graph, "logits")])
        .await?;
    let row = &logits[0][position * config.vocab_size..][..config.vocab_size];
    Ok(crate::cpu::sampling::argmax(row))
}

/// Attribution of `token` (default: the predicted one) at `position` (default: the last).
pub async fn attribute(
    runner: &Runner<'_>,
    config: &Config,
    ids: &[u32],
    token: Option<u32>,
    position: Option<usize>,
    ablations: &Ablations,
) -> Result<AttributionReport, WhyError> {
    if config.llama().is_some() {
        return Err(WhyError::Invalid(
            "direct logit attribution is computed through GPT-2's final layer norm; for the Llama family's RMSNorm it is not built yet".to_string(),
        ));
    }
    ablations.check(config).map_err(WhyError::Invalid)?;
    crate::model::validate_ids(config, ids)?;
    let position = position.unwrap_or(ids.len() - 1);
    if position >= ids.len() {
        return Err(WhyError::Invalid(format!(
            "--position {position}: expected 0..={} (the prompt has {} tokens)",
            ids.len() - 1,
            ids.len()
        )));
    }
    let token = match token {
        Some(token) if token as usize >= config.vocab_size => {
            return Err(WhyError::Invalid(format!(
                "--token {token}: expected 0..={} (the vocabulary's size is {})",
                config.vocab_size - 1,
                config.vocab_size
            )))
        }
        Some(token) => token,
        None => predicted(runner, config, ids, position, ablations).await?,
    };
    let probes = Probes {
        ablations: ablations.clone(),
        attribution: Some(AttributionTarget { token, position }),
        ..Probes::default()
    };
    let graph = Graph::probed(config, ids.len(), &probes);
    let mut names = vec!["logits".to_string(), "attribution.embed".to_string()];
    for l in 0..config.n_layer {
        names.push(format!("h.{l}.attribution.attn"));
        names.push(format!("h.{l}.attribution.mlp"));
    }
    names.push("attribution.ln_f.bias".to_string());
    let tensors: Vec<_> = names.iter().map(|n| tensor(&graph, n)).collect();
    let values = runner.run(&graph, ids, &[], &tensors).await?;
    let logit = values[0][position * config.vocab_size + token as usize];
    let mut terms = vec![Term {
        name: "embed".to_string(),
        value: values[1][0],
    }];
    for l in 0..config.n_layer {
        let attn = &values[2 + 2 * l];
        for (head, &value) in attn[..config.n_head].iter().enumerate() {
            terms.push(Term {
                name: format!("h.{l}.head.{head}"),
                value,
            });
        }
        terms.push(Term {
            name: format!("h.{l}.attn.bias"),
            value: attn[config.n_head],
        });
        terms.push(Term {
            name: format!("h.{l}.mlp"),
            value: values[3 + 2 * l][0],
        });
    }
    terms.push(Term {
        name: "ln_f.bias".to_string(),
        value: values[values.len() - 1][0],
    });
    let total = terms.iter().map(|t| f64::from(t.value)).sum::<f64>() as f32;
    Ok(AttributionReport {
        token,
        position,
        logit,
        total,
        terms,
    })
}
