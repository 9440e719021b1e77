//! The logit lens: what the residual stream would predict after every block.

use serde::Serialize;

use super::{ids_of, tensor, Runner, WhyError};
use crate::graph::probe::{Ablations, Probes};
use crate::graph::Graph;

/// A token and its probability.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Ranked {
    pub id: u32,
    pub prob: f32,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LensPosition {
    /// The most likely next tokens, most likely first.
    pub top: Vec<Ranked>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LensLayer {
    /// Reads `hidden_states.{layer}`: the input of block `layer`, or for the last one the
    /// model's own output.
    pub layer: usize,
    pub positions: Vec<LensPosition>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LensReport {
    pub layers: Vec<LensLayer>,
}

/// Checks a top-k request (`flag` names it in the error) against the vocabulary.
pub fn check_top(flag: &str, top: usize, vocab_size: usize) -> Result<(), WhyError> {
    if top == 0 || top > vocab_size {
        return Err(WhyError::Invalid(format!(
            "{flag} {top}: expected 1..={vocab_size} (the vocabulary's size)"
        )));
    }
    Ok(())
}

/// The lens over `ids` with `ablations` applied, keeping `top` tokens per layer and position.
pub async fn lens(
    runner: &Runner<'_>,
    graph_config: &crate::model::Config,
    ids: &[u32],
    top: usize,
    ablations: &Ablations,
) -> Result<LensReport, WhyError> {
    check_top("--top", top, graph_config.vocab_size)?;
    ablations.check(graph_config).map_err(WhyError::Invalid)?;
    crate::model::validate_ids(graph_config, ids)?;
    let probes = Probes {
        ablations: ablations.clone(),
        lens_top: Some(top),
        ..Probes::default()
    };
    let graph = Graph::probed(graph_config, ids.len(), &probes);
    let layers = 0..=graph_config.n_layer;
    let tensors: Vec<_> = layers
        .clone()
        .flat_map(|l| {
            [
                tensor(&graph, &format!("lens.{l}.top.value")),
                tensor(&graph, &format!("lens.{l}.top.index")),
            ]
        })
        .collect();
    let values = runner.run(&graph, ids, &[], &tensors).await?;
    let layers = layers
        .zip(values.chunks_exact(2))
        .map(|(layer, pair)| LensLayer {
            layer,
            positions: pair[0]
                .chunks_exact(top)
                .zip(pair[1].chunks_exact(top))
                .map(|(probs, index)| LensPosition {
                    top: ids_of(index)
                        .into_iter()
                        .zip(probs)
                        .map(|(id, &prob)| Ranked { id, prob })
                        .collect(),
                })
                .collect(),
        })
        .collect();
    Ok(LensReport { layers })
}
