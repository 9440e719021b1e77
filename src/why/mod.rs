//! The "why" tools: the logit lens, ablation, activation patching, direct logit attribution,
//! head scores and nearest neighbours in the embedding space. Each is a graph of ops (kernels on
//! the GPU, plain functions on the CPU); this module runs those graphs on either backend and
//! turns what they wrote into results a person or a notebook reads.

pub mod attribution;
pub mod embedding;
pub mod heads;
pub mod lens;
pub mod neighbors;
pub mod patch;

use std::ops::Range;

use crate::cpu::CpuRun;
use crate::gpu::{Gpu, GpuError, GpuGraph, GpuModel, GpuOptions, KernelRegistry};
use crate::graph::{Graph, TensorId};
use crate::model::{LoadError, Model};

/// Why a tool could not run.
#[derive(Debug, thiserror::Error)]
pub enum WhyError {
    #[error(transparent)]
    Gpu(#[from] GpuError),
    #[error(transparent)]
    Load(#[from] LoadError),
    /// A request the model cannot answer (a head it does not have, a token past its vocabulary).
    #[error("{0}")]
    Invalid(String),
}

/// One backend with the model on it, reused by every run of a tool (patching runs many).
#[derive(Clone, Copy)]
pub enum Runner<'a> {
    Cpu(&'a Model),
    Gpu {
        gpu: &'a Gpu,
        registry: &'a KernelRegistry,
        weights: &'a GpuModel,
    },
}

/// A device with the kernels built and a model's weights uploaded, for commands that open one.
pub struct GpuBackend {
    pub gpu: Gpu,
    pub registry: KernelRegistry,
    pub weights: GpuModel,
}

impl GpuBackend {
    /// Opens a device and uploads the weights once.
    pub async fn open(model: &Model, options: &GpuOptions) -> Result<GpuBackend, WhyError> {
        let gpu = Gpu::new(options).await?;
        let registry = KernelRegistry::for_gpu(&gpu)?;
        let weights = GpuModel::upload_dequantized(&gpu, model).await?;
        Ok(GpuBackend {
            gpu,
            registry,
            weights,
        })
    }

    pub fn runner(&self) -> Runner<'_> {
        Runner::Gpu {
            gpu: &self.gpu,
            registry: &self.registry,
            weights: &self.weights,
        }
    }
}

/// A graph ready to run on a [`Runner`]'s backend.
pub enum Prepared<'a> {
    Cpu(CpuRun<'a>),
    Gpu(GpuGraph),
}

impl<'a> Runner<'a> {
    /// Builds `graph` for this backend with its token ids (none for a graph without
    /// `input_ids`) and float inputs set; nothing has run yet.
    pub async fn prepare(
        &self,
        graph: &'a Graph,
        ids: &[u32],
        floats: &[(TensorId, &[f32])],
    ) -> Result<Prepared<'a>, WhyError> {
        match self {
            Runner::Cpu(model) => {
                let mut run = CpuRun::new(graph, model, ids)?;
                for &(id, values) in floats {
                    run.set_input(id, values);
                }
                Ok(Prepared::Cpu(run))
            }
            Runner::Gpu {
                gpu,
                registry,
                weights,
            } => {
                let built = GpuGraph::new(gpu, registry, graph.clone(), weights).await?;
                if graph.tensor_id("input_ids").is_some() {
                    built.set_ids(gpu, ids)?;
                }
                for &(id, values) in floats {
                    built.set_floats(gpu, id, values)?;
                }
                Ok(Prepared::Gpu(built))
            }
        }
    }

    /// Runs ops `range` of a prepared graph.
    pub fn run_range(&self, prepared: &mut Prepared, range: Range<usize>) {
        match (self, prepared) {
            (Runner::Cpu(_), Prepared::Cpu(run)) => range.for_each(|index| run.run_op(index)),
            (Runner::Gpu { gpu, registry, .. }, Prepared::Gpu(graph)) => {
                graph.run_range(gpu, registry, range)
            }
            _ => unreachable!("a graph prepared for another backend"),
        }
    }

    /// Reads tensors back (one readback on the GPU per tensor).
    pub async fn read(
        &self,
        prepared: &Prepared<'_>,
        tensors: &[TensorId],
    ) -> Result<Vec<Vec<f32>>, WhyError> {
        let mut values = Vec::with_capacity(tensors.len());
        for &id in tensors {
            values.push(match (self, prepared) {
                (Runner::Cpu(_), Prepared::Cpu(run)) => run.values.get(id).to_vec(),
                (Runner::Gpu { gpu, .. }, Prepared::Gpu(graph)) => graph.read(gpu, id).await?,
                _ => unreachable!("a graph prepared for another backend"),
            });
        }
        Ok(values)
    }

    /// Prepares `graph`, runs all of it and reads `tensors` back.
    pub async fn run(
        &self,
        graph: &'a Graph,
        ids: &[u32],
        floats: &[(TensorId, &[f32])],
        tensors: &[TensorId],
    ) -> Result<Vec<Vec<f32>>, WhyError> {
        let mut prepared = self.prepare(graph, ids, floats).await?;
        self.run_range(&mut prepared, 0..graph.ops.len());
        self.read(&prepared, tensors).await
    }
}

/// The id of a tensor every graph of this kind has.
pub(crate) fn tensor(graph: &Graph, name: &str) -> TensorId {
    graph
        .tensor_id(name)
        .unwrap_or_else(|| panic!("graph tensor {name}"))
}

/// Token ids as the ops wrote them (u32 values held in floats).
pub(crate) fn ids_of(values: &[f32]) -> Vec<u32> {
    values.iter().map(|&v| v as u32).collect()
}
