//! Activation patching: run a clean and a corrupted prompt, copy one activation from the clean
//! run into the corrupted one, re-run what lies downstream and measure how much of the clean
//! answer comes back. The sweep patches every layer at every position (or every head).

use serde::Serialize;

use super::{tensor, Prepared, Runner, WhyError};
use crate::graph::probe::Ablations;
use crate::graph::{Graph, TensorId};
use crate::model::Config;

/// Which activation is copied from the clean run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Site {
    /// The residual stream entering block L, at one position.
    Resid,
    /// Block L's attention output (after `c_proj`), at one position.
    Attn,
    /// Block L's MLP output, at one position.
    Mlp,
    /// One head's slice of the merged attention output (before `c_proj`), at every position.
    Head,
}

impl Site {
    pub const ALL: [Site; 4] = [Site::Resid, Site::Attn, Site::Mlp, Site::Head];

    pub fn name(self) -> &'static str {
        match self {
            Site::Resid => "resid",
            Site::Attn => "attn",
            Site::Mlp => "mlp",
            Site::Head => "head",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PatchRow {
    pub layer: usize,
    /// Per position (per head for `head`): the normalised recovery, (patched - corrupt) /
    /// (clean - corrupt) of the logit difference; 1 is the clean answer fully back.
    pub recovery: Vec<f32>,
    /// The patched runs' logit differences.
    pub logit_diff: Vec<f32>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PatchReport {
    pub site: Site,
    pub answer: u32,
    pub wrong: u32,
    /// logit[answer] - logit[wrong] at the last position, clean and corrupted.
    pub clean_logit_diff: f32,
    pub corrupt_logit_diff: f32,
    /// What the columns count: `position` or `head`.
    pub columns: &'static str,
    pub layers: Vec<PatchRow>,
}

/// What to patch: the tensor, the op that writes it, and element ranges within it.
struct Patch {
    tensor: TensorId,
    producer: usize,
    ranges: Vec<std::ops::Range<usize>>,
}

fn producer(graph: &Graph, tensor: TensorId) -> usize {
    graph
        .ops
        .iter()
        .position(|op| op.outputs.contains(&tensor))
        .expect("an activation has an op that writes it")
}

fn input_of(graph: &Graph, op: &str, index: usize) -> TensorId {
    graph.ops[graph.op_index(op).expect("graph op")].inputs[index]
}

fn patch_at(graph: &Graph, site: Site, layer: usize, column: usize) -> Patch {
    let config = &graph.config;
    let (c, t) = (config.n_embd, graph.seq_len);
    let d = c / config.n_head;
    let tensor = match site {
        Site::Resid => graph.hidden_state(layer),
        Site::Attn => tensor(graph, &format!("h.{layer}.attn.proj")),
        Site::Mlp => input_of(graph, &format!("h.{layer}.resid_out"), 1),
        // The input of the op writing `attn.proj` (GPT-2's `c_proj`, the Llama family's `o_proj`).
        Site::Head => {
            let proj = producer(graph, tensor(graph, &format!("h.{layer}.attn.proj")));
            graph.ops[proj].inputs[0]
        }
    };
    let ranges = match site {
        Site::Head => (0..t)
            .map(|row| row * c + column * d..row * c + (column + 1) * d)
            .collect(),
        _ => std::iter::once(column * c..(column + 1) * c).collect(),
    };
    Patch {
        tensor,
        producer: producer(graph, tensor),
        ranges,
    }
}

/// logit[answer] - logit[wrong] at the last position of a run.
async fn logit_diff(
    runner: &Runner<'_>,
    prepared: &Prepared<'_>,
    graph: &Graph,
    pair: (u32, u32),
) -> Result<f32, WhyError> {
    let v = graph.config.vocab_size;
    let last = graph.seq_len - 1;
    let logits = tensor(graph, "logits");
    let at = |id: u32| last * v + id as usize;
    let values = match (runner, prepared) {
        (Runner::Gpu { gpu, .. }, Prepared::Gpu(built)) => {
            built
                .tensor(logits)
                .read_elements(gpu, &[at(pair.0), at(pair.1)])
                .await?
        }
        (_, Prepared::Cpu(run)) => vec![
            run.values.get(logits)[at(pair.0)],
            run.values.get(logits)[at(pair.1)],
        ],
        _ => unreachable!("a graph prepared for another backend"),
    };
    Ok(values[0] - values[1])
}

/// Copies `patch` from the clean run into the corrupted one, re-running from the producing op
/// (which restores what the previous patch changed) to the end.
fn run_patched(
    runner: &Runner,
    clean: &Prepared,
    corrupt: &mut Prepared,
    graph: &Graph,
    patch: &Patch,
) {
    let end = graph.ops.len();
    match (runner, clean, corrupt) {
        (Runner::Cpu(_), Prepared::Cpu(clean), Prepared::Cpu(run)) => {
            run.run_op(patch.producer);
            let source = clean.values.get(patch.tensor).to_vec();
            for range in &patch.ranges {
                run.values.values[patch.tensor][range.clone()]
                    .copy_from_slice(&source[range.clone()]);
            }
            (patch.producer + 1..end).for_each(|index| run.run_op(index));
        }
        (Runner::Gpu { gpu, registry, .. }, Prepared::Gpu(clean), Prepared::Gpu(run)) => {
            run.run_patched(
                gpu,
                registry,
                patch.producer,
                clean.tensor(patch.tensor),
                patch.tensor,
                &patch.ranges,
            );
        }
        _ => unreachable!("graphs prepared for another backend"),
    }
}

/// The request's checks: equal lengths, answer tokens inside the vocabulary.
fn check(
    config: &Config,
    clean: &[u32],
    corrupt: &[u32],
    pair: (u32, u32),
) -> Result<(), WhyError> {
    crate::model::validate_ids(config, clean)?;
    crate::model::validate_ids(config, corrupt)?;
    if clean.len() != corrupt.len() {
        return Err(WhyError::Invalid(format!(
            "--clean-ids has {} tokens and --corrupt-ids {}: patching copies activations position by position, so the prompts must have the same length",
            clean.len(),
            corrupt.len()
        )));
    }
    for (flag, id) in [("--answer", pair.0), ("--wrong", pair.1)] {
        if id as usize >= config.vocab_size {
            return Err(WhyError::Invalid(format!(
                "{flag} {id}: expected 0..={} (the vocabulary's size is {})",
                config.vocab_size - 1,
                config.vocab_size
            )));
        }
    }
    Ok(())
}

/// The sweep over layers x positions (x heads for [`Site::Head`]).
pub async fn patch(
    runner: &Runner<'_>,
    config: &Config,
    (clean_ids, corrupt_ids): (&[u32], &[u32]),
    (answer, wrong): (u32, u32),
    site: Site,
    ablations: &Ablations,
) -> Result<PatchReport, WhyError> {
    ablations.check(config).map_err(WhyError::Invalid)?;
    check(config, clean_ids, corrupt_ids, (answer, wrong))?;
    if let Runner::Gpu { weights, .. } = runner {
        // Buffer copies move whole 4-byte words; f16 rows and head slices must be even.
        let d = config.n_embd / config.n_head;
        if weights.precision.bytes() == 2 && (config.n_embd % 2 == 1 || d % 2 == 1) {
            return Err(WhyError::Invalid(format!(
                "patching with f16 storage copies whole 4-byte words, so n_embd ({}) and the head size ({d}) must be even; use --precision f32",
                config.n_embd
            )));
        }
    }
    let graph = Graph::forward_ablated(config, clean_ids.len(), ablations);
    let end = graph.ops.len();
    let pair = (answer, wrong);
    let mut clean = runner.prepare(&graph, clean_ids, &[]).await?;
    runner.run_range(&mut clean, 0..end);
    let mut corrupt = runner.prepare(&graph, corrupt_ids, &[]).await?;
    runner.run_range(&mut corrupt, 0..end);
    let clean_diff = logit_diff(runner, &clean, &graph, pair).await?;
    let corrupt_diff = logit_diff(runner, &corrupt, &graph, pair).await?;
    if clean_diff == corrupt_diff {
        return Err(WhyError::Invalid(format!(
            "the clean and corrupted prompts give the same logit difference ({clean_diff}) between {answer} and {wrong}: there is nothing to recover"
        )));
    }
    let columns = match site {
        Site::Head => config.n_head,
        _ => clean_ids.len(),
    };
    let mut layers = Vec::with_capacity(config.n_layer);
    for layer in 0..config.n_layer {
        let mut row = PatchRow {
            layer,
            recovery: Vec::with_capacity(columns),
            logit_diff: Vec::with_capacity(columns),
        };
        for column in 0..columns {
            let patch = patch_at(&graph, site, layer, column);
            run_patched(runner, &clean, &mut corrupt, &graph, &patch);
            let diff = logit_diff(runner, &corrupt, &graph, pair).await?;
            row.logit_diff.push(diff);
            row.recovery
                .push((diff - corrupt_diff) / (clean_diff - corrupt_diff));
        }
        // The next layer's patches re-run only from their own (later) op: undo this layer's
        // last patch first, so that it does not stay in the corrupted run.
        let producer = patch_at(&graph, site, layer, 0).producer;
        runner.run_range(&mut corrupt, producer..end);
        layers.push(row);
    }
    Ok(PatchReport {
        site,
        answer,
        wrong,
        clean_logit_diff: clean_diff,
        corrupt_logit_diff: corrupt_diff,
        columns: match site {
            Site::Head => "head",
            _ => "position",
        },
        layers,
    })
}
