//! The embedding space in 3D: chosen rows of the token embedding and the prompt's residual
//! streams after every block, on the unit sphere (cosine geometry, as nearest neighbours use),
//! placed along their three principal components, computed on the GPU.

use serde::Serialize;

use super::{tensor, Runner, WhyError};
use crate::graph::probe::{Ablations, Probes, PCA_MAX_POINTS};
use crate::graph::Graph;
use crate::model::Model;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EmbeddingReport {
    /// The tokens placed, and where.
    pub tokens: Vec<u32>,
    pub points: Vec<[f32; 3]>,
    /// Share of the points' variance along each component.
    pub explained: [f32; 3],
    /// Per prompt position, its residual stream entering each block and after the final norm
    /// (as the logit lens reads it: through the final layer norm), layers 0..=n_layer.
    pub paths: Vec<Vec<[f32; 3]>>,
}

/// The tokens shown by default: every token of a small vocabulary; otherwise the prompt's
/// tokens and the nearest neighbours of each (`k` per token), at most [`PCA_MAX_POINTS`].
pub async fn default_tokens(
    runner: &Runner<'_>,
    model: &Model,
    ids: &[u32],
    k: usize,
) -> Result<Vec<u32>, WhyError> {
    let v = model.config.vocab_size;
    if v <= 64 {
        return Ok((0..v as u32).collect());
    }
    let mut tokens: Vec<u32> = Vec::new();
    for &id in ids {
        if tokens.contains(&id) {
            continue;
        }
        let near = super::neighbors::neighbors(runner, model, &[(1, id)], k + 1).await?;
        for n in near.neighbors {
            if !tokens.contains(&n.id) && tokens.len() < PCA_MAX_POINTS {
                tokens.push(n.id);
            }
        }
    }
    Ok(tokens)
}

fn unit_rows(values: &[f32], c: usize) -> Vec<f32> {
    values
        .chunks_exact(c)
        .flat_map(|row| {
            let norm = row.iter().map(|x| x * x).sum::<f32>().sqrt();
            row.iter()
                .map(move |x| if norm > 0.0 { x / norm } else { 0.0 })
        })
        .collect()
}

/// Places `tokens` and the prompt's residual streams in the tokens' principal components.
pub async fn embedding(
    runner: &Runner<'_>,
    model: &Model,
    ids: &[u32],
    tokens: &[u32],
    ablations: &Ablations,
) -> Result<EmbeddingReport, WhyError> {
    let config = &model.config;
    if !(2..=PCA_MAX_POINTS).contains(&tokens.len()) {
        return Err(WhyError::Invalid(format!(
            "--tokens: {} tokens; the embedding space places 2..={PCA_MAX_POINTS}",
            tokens.len()
        )));
    }
    let c = config.n_embd;
    let mut rows = Vec::with_capacity(tokens.len() * c);
    for &id in tokens {
        rows.extend(super::neighbors::query_vector(model, &[(1, id)])?);
    }
    ablations.check(config).map_err(WhyError::Invalid)?;
    crate::model::validate_ids(config, ids)?;
    let probes = Probes {
        ablations: ablations.clone(),
        lens_top: Some(1),
        ..Probes::default()
    };
    let lens = Graph::probed(config, ids.len(), &probes);
    let normed: Vec<_> = (0..=config.n_layer)
        .map(|l| match l == config.n_layer {
            true => tensor(&lens, lens.final_norm()),
            false => tensor(&lens, &format!("lens.{l}.ln")),
        })
        .collect();
    let layers = runner.run(&lens, ids, &[], &normed).await?;
    // Row (layer, position) of the extra points.
    let extra: Vec<f32> = layers.iter().flat_map(|l| unit_rows(l, c)).collect();
    let points = unit_rows(&rows, c);
    let m = extra.len() / c;
    let graph = Graph::embedding_space(config, tokens.len(), m);
    let inputs = [
        (tensor(&graph, "points"), points.as_slice()),
        (tensor(&graph, "extra"), extra.as_slice()),
    ];
    let wanted = ["pca.points", "pca.extra", "pca.variance"].map(|n| tensor(&graph, n));
    let values = runner.run(&graph, &[], &inputs, &wanted).await?;
    let triple = |v: &[f32]| [v[0], v[1], v[2]];
    let total: f32 = {
        // The points' whole variance: the mean squared distance from their mean.
        let mean: Vec<f32> = (0..c)
            .map(|j| points.chunks_exact(c).map(|r| r[j]).sum::<f32>() / tokens.len() as f32)
            .collect();
        points
            .chunks_exact(c)
            .map(|r| {
                r.iter()
                    .zip(&mean)
                    .map(|(x, m)| (x - m) * (x - m))
                    .sum::<f32>()
            })
            .sum::<f32>()
            / tokens.len() as f32
    };
    let variance = &values[2];
    let explained = [0, 1, 2].map(|q| {
        if total > 0.0 {
            variance[q] / total
        } else {
            0.0
        }
    });
    let t = ids.len();
    let coords: Vec<[f32; 3]> = values[1].chunks_exact(3).map(triple).collect();
    let paths = (0..t)
        .map(|position| {
            (0..=config.n_layer)
                .map(|l| coords[l * t + position])
                .collect()
        })
        .collect();
    Ok(EmbeddingReport {
        tokens: tokens.to_vec(),
        points: values[0].chunks_exact(3).map(triple).collect(),
        explained,
        paths,
    })
}
