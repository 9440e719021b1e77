//! Per-head attention scores: what each head's pattern does, as numbers.

use serde::Serialize;

use super::{tensor, Runner, WhyError};
use crate::graph::probe::{Ablations, Probes};
use crate::graph::Graph;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HeadScore {
    pub head: usize,
    /// Mean attention from each token to the one before it.
    pub previous_token: f32,
    /// Mean attention to the first token (the "attention sink").
    pub first_token: f32,
    /// Mean attention of each token to itself.
    pub diagonal: f32,
    /// Mean attention, from a token seen before, to the token that followed its earlier
    /// occurrence (0 when no token repeats).
    pub induction: f32,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LayerHeads {
    pub layer: usize,
    pub heads: Vec<HeadScore>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HeadsReport {
    pub layers: Vec<LayerHeads>,
}

/// Every head's scores over `ids`.
pub async fn head_scores(
    runner: &Runner<'_>,
    config: &crate::model::Config,
    ids: &[u32],
    ablations: &Ablations,
) -> Result<HeadsReport, WhyError> {
    ablations.check(config).map_err(WhyError::Invalid)?;
    crate::model::validate_ids(config, ids)?;
    let probes = Probes {
        ablations: ablations.clone(),
        head_scores: true,
        ..Probes::default()
    };
    let graph = Graph::probed(config, ids.len(), &probes);
    let tensors: Vec<_> = (0..config.n_layer)
        .map(|l| tensor(&graph, &format!("h.{l}.attn.head_scores")))
        .collect();
    let values = runner.run(&graph, ids, &[], &tensors).await?;
    let layers = values
        .iter()
        .enumerate()
        .map(|(layer, scores)| LayerHeads {
            layer,
            heads: scores
                .chunks_exact(4)
                .enumerate()
                .map(|(head, s)| HeadScore {
                    head,
                    previous_token: s[0],
                    first_token: s[1],
                    diagonal: s[2],
                    induction: s[3],
                })
                .collect(),
        })
        .collect();
    Ok(HeadsReport { layers })
}

/// Every layer's attention probabilities over `ids`, [heads, t, t] each (the model view).
pub async fn patterns(
    runner: &Runner<'_>,
    config: &crate::model::Config,
    ids: &[u32],
    ablations: &Ablations,
) -> Result<Vec<Vec<f32>>, WhyError> {
    ablations.check(config).map_err(WhyError::Invalid)?;
    crate::model::validate_ids(config, ids)?;
    let graph = Graph::forward_ablated(config, ids.len(), ablations);
    let tensors: Vec<_> = (0..config.n_layer)
        .map(|l| tensor(&graph, &format!("h.{l}.attn.probs")))
        .collect();
    runner.run(&graph, ids, &[], &tensors).await
}
