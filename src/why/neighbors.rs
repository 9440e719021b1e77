//! Nearest neighbours in the embedding space: the rows of `wte` most similar (by cosine) to a
//! token's own row, or to a sum and difference of rows (king - man + woman).

use serde::Serialize;

use super::{ids_of, tensor, Runner, WhyError};
use crate::graph::Graph;
use crate::model::Model;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Neighbor {
    pub id: u32,
    pub cosine: f32,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NeighborsReport {
    /// The query, as signed token ids: [[1, 5], [-1, 9]] is wte[5] - wte[9].
    pub query: Vec<(i32, u32)>,
    pub neighbors: Vec<Neighbor>,
}

/// The signed token ids of "king - man + woman", each word one token of `tokenizer`. GPT-2's
/// words are read as inside a sentence, after a space (" king"); a character tokenizer's as they
/// are.
pub fn parse_terms(
    text: &str,
    tokenizer: &crate::scene::Tokenizer,
) -> Result<Vec<(i32, u32)>, String> {
    let mut terms = Vec::new();
    let mut sign = 1;
    let mut rest = text;
    loop {
        let end = rest.find(['+', '-']).unwrap_or(rest.len());
        let word = rest[..end].trim();
        if word.is_empty() {
            return Err(format!(
                "{text:?}: expected words joined by + and -, as \"king - man + woman\""
            ));
        }
        let piece = match tokenizer {
            crate::scene::Tokenizer::Gpt2 => format!(" {word}"),
            _ => word.to_string(),
        };
        let ids = tokenizer.encode_piece(&piece).map_err(|e| e.to_string())?;
        match ids.as_slice() {
            [id] => terms.push((sign, *id)),
            _ => {
                return Err(format!(
                    "{piece:?} is {} tokens ({ids:?}); each word must be one token (or give --id)",
                    ids.len()
                ))
            }
        }
        if end == rest.len() {
            return Ok(terms);
        }
        sign = if rest[end..].starts_with('+') { 1 } else { -1 };
        rest = &rest[end + 1..];
    }
}

/// The vector sum of signed rows of `wte`.
pub fn query_vector(model: &Model, terms: &[(i32, u32)]) -> Result<Vec<f32>, WhyError> {
    let config = &model.config;
    let c = config.n_embd;
    let name = crate::model::embedding_name(config);
    let wte = model
        .weights
        .get(name)
        .ok_or_else(|| WhyError::Invalid(format!("the model has no {name}")))?;
    let mut vector = vec![0.0f32; c];
    for &(sign, id) in terms {
        if id as usize >= config.vocab_size {
            return Err(WhyError::Invalid(format!(
                "token {id}: expected 0..={} (the vocabulary's size is {})",
                config.vocab_size - 1,
                config.vocab_size
            )));
        }
        for (out, &w) in vector.iter_mut().zip(&wte[id as usize * c..][..c]) {
            *out += sign as f32 * w;
        }
    }
    Ok(vector)
}

/// The `k` nearest tokens to the signed sum of `terms`' embeddings, most similar first.
pub async fn neighbors(
    runner: &Runner<'_>,
    model: &Model,
    terms: &[(i32, u32)],
    k: usize,
) -> Result<NeighborsReport, WhyError> {
    super::lens::check_top("--k", k, model.config.vocab_size)?;
    let vector = query_vector(model, terms)?;
    let graph = Graph::neighbors(&model.config, 1, k);
    let query = tensor(&graph, "query");
    let values = runner
        .run(
            &graph,
            &[],
            &[(query, &vector)],
            &[
                tensor(&graph, "neighbors.top.value"),
                tensor(&graph, "neighbors.top.index"),
            ],
        )
        .await?;
    let neighbors = ids_of(&values[1])
        .into_iter()
        .zip(&values[0])
        .map(|(id, &cosine)| Neighbor { id, cosine })
        .collect();
    Ok(NeighborsReport {
        query: terms.to_vec(),
        neighbors,
    })
}
