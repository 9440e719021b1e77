//! The difference view: every activation coloured by |GPU - CPU| instead of by value, and the
//! worst error of each op that has run, so that a kernel edited into a wrong one lights up at
//! once. The CPU reference runs the same graph on the same tokens; its tensors are uploaded
//! next to the GPU's and the draw shader compares them cell by cell.

use super::Viewer;
use crate::cpu::CpuRun;
use crate::gpu::{GpuError, GpuTensor};
use crate::values::compare::{compare, Difference};
use crate::values::TensorValues;

/// The worst difference among an op's outputs.
#[derive(Clone, Debug)]
pub struct OpDifference {
    pub op: String,
    pub difference: Difference,
}

/// The reference the view compares against, for the tokens it was computed on.
pub struct DifferenceView {
    ids: Vec<u32>,
    /// The viewer's graph build it was computed for (a new graph may be another model).
    build: u64,
    values: TensorValues,
    reference: Vec<Option<GpuTensor>>,
    /// One entry per op that has run, in graph order.
    pub per_op: Vec<OpDifference>,
}

impl Viewer {
    pub fn difference(&self) -> Option<&DifferenceView> {
        self.difference.as_ref()
    }

    /// Turns the difference view on (computing the CPU reference) or off.
    pub async fn set_difference(&mut self, on: bool) -> Result<(), GpuError> {
        if !on {
            self.difference = None;
            self.renderer
                .set_reference(&self.gpu, &self.graph, None, None);
            self.refresh_states();
            return Ok(());
        }
        self.refresh_difference().await
    }

    /// Recomputes what the view shows after the GPU ran again: the reference when the tokens
    /// or the graph changed, and the worst error per op always (kernels may have changed).
    pub async fn refresh_difference(&mut self) -> Result<(), GpuError> {
        let stale = self
            .difference
            .as_ref()
            .is_none_or(|d| d.ids != self.ids || d.build != self.builds);
        if stale {
            let values = self.reference_values()?;
            let reference = self
                .graph
                .graph()
                .tensors
                .iter()
                .enumerate()
                .map(|(id, tensor)| {
                    tensor
                        .is_computed_float()
                        .then(|| {
                            let precision = self.graph.precision;
                            GpuTensor::with_floats(&self.gpu, tensor, values.get(id), precision)
                        })
                        .transpose()
                })
                .collect::<Result<Vec<_>, _>>()?;
            self.difference = Some(DifferenceView {
                ids: self.ids.clone(),
                build: self.builds,
                values,
                reference,
                per_op: Vec::new(),
            });
        }
        let threshold = self.difference_threshold();
        let view = self.difference.as_mut().expect("set above");
        self.renderer
            .set_reference(&self.gpu, &self.graph, Some(&view.reference), threshold);
        let gpu_values = self.graph.read_all(&self.gpu).await?;
        let mut per_op = Vec::new();
        for op in &self.graph.graph().ops[..self.op_count] {
            let mut worst: Option<Difference> = None;
            for &out in &op.outputs {
                if view.reference[out].is_none() {
                    continue;
                }
                let difference = compare(gpu_values.get(out), view.values.get(out));
                let share =
                    |d: &Difference| d.max_abs / (crate::values::compare::TOLERANCE * d.scale);
                if worst.is_none_or(|w| share(&difference) > share(&w)) {
                    worst = Some(difference);
                }
            }
            if let Some(difference) = worst {
                per_op.push(OpDifference {
                    op: op.name.clone(),
                    difference,
                });
            }
        }
        view.per_op = per_op;
        self.refresh_states();
        Ok(())
    }

    /// Checks the kernels of `family` against the CPU reference, as `glassbox check` does: the
    /// whole graph runs, the worst difference among the family's ops comes back (`None` when no
    /// op of the graph uses the family), and the view is put back as it was.
    pub async fn check_family(&mut self, family: &str) -> Result<Option<OpDifference>, GpuError> {
        let (op_count, current, was_on) = (self.op_count, self.current, self.difference.is_some());
        self.run_to(self.graph.graph().ops.len());
        self.refresh_difference().await?;
        let ops: Vec<&str> = self
            .graph
            .graph()
            .ops
            .iter()
            .filter(|op| op.kind.kernel_name() == family)
            .map(|op| op.name.as_str())
            .collect();
        let share = |d: &OpDifference| d.difference.max_abs / d.difference.scale;
        let worst = self
            .difference
            .as_ref()
            .expect("computed above")
            .per_op
            .iter()
            .filter(|d| ops.contains(&d.op.as_str()))
            .max_by(|a, b| share(a).total_cmp(&share(b)))
            .cloned();
        self.run_to(op_count);
        if let Some(current) = current {
            self.step_to(current);
        }
        match was_on {
            true => self.refresh_difference().await?,
            false => self.set_difference(false).await?,
        }
        Ok(worst)
    }

    /// Every tensor of the graph as the CPU reference computes it for the current tokens; with
    /// ablations, as the run without them computes it.
    fn reference_values(&self) -> Result<TensorValues, GpuError> {
        if self.ablations.is_empty() {
            self.reference_of(self.graph.graph())
        } else {
            self.without_ablations(|graph| self.reference_of(graph))
        }
    }

    /// The CPU reference of `graph` (this viewer's, or the same without ablations).
    fn reference_of(&self, graph: &crate::graph::Graph) -> Result<TensorValues, GpuError> {
        let model = &self.scene.model;
        if !model.has_weights() {
            return Err(GpuError::WeightsNotKept("the CPU reference"));
        }
        if graph.decode_capacity.is_none() {
            return Ok(crate::cpu::forward(graph, model, &self.ids)?);
        }
        let mut run = CpuRun::new(graph, model, &self.ids[..1])?;
        run.sampling = self.sampling;
        for (position, &id) in self.ids.iter().enumerate() {
            run.set_token(id, position)?;
            run.run_all();
        }
        Ok(run.values)
    }
}
