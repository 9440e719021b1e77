//! One GPU tensor = one storage buffer, or several when it is larger than a kernel may bind at
//! once (GPT-2's `wte` is 154 MB; many adapters bind at most 128 MiB). Splits fall between rows
//! of the first axis, so a kernel always sees whole rows.

use wgpu::util::DeviceExt;

use super::{Gpu, GpuError};
use crate::graph::{Dim, Tensor};

#[derive(Clone)]
pub struct GpuTensor {
    pub name: String,
    pub chunks: Vec<wgpu::Buffer>,
    /// Rows (of the first axis) in every chunk but possibly the last.
    pub rows_per_chunk: usize,
    pub rows: usize,
    /// Values per row: the product of the other axes.
    pub row_len: usize,
}

/// Storage buffers the kernels write are also copy sources (dumps, checks, picking) and copy
/// destinations (input ids, weights).
const USAGE: wgpu::BufferUsages = wgpu::BufferUsages::STORAGE
    .union(wgpu::BufferUsages::COPY_SRC)
    .union(wgpu::BufferUsages::COPY_DST);

impl GpuTensor {
    /// Plans the split of `tensor` for this device's binding limit.
    fn layout(gpu: &Gpu, tensor: &Tensor) -> Result<(usize, usize, usize), GpuError> {
        let rows = tensor.shape.first().copied().unwrap_or(1);
        let row_len = tensor.shape.iter().skip(1).product::<usize>();
        let row_bytes = (row_len * 4) as u64;
        let mut rows_per_chunk = (gpu.max_binding_bytes / row_bytes) as usize;
        if let (Some(cap), true) = (gpu.max_chunk_rows, tensor.dims.contains(&Dim::Vocab)) {
            rows_per_chunk = rows_per_chunk.min(cap.max(1));
        }
        if rows_per_chunk == 0 {
            return Err(GpuError::TooLarge {
                tensor: tensor.name.clone(),
                bytes: row_bytes,
                limit: gpu.max_binding_bytes,
            });
        }
        Ok((rows, row_len, rows_per_chunk.min(rows)))
    }

    fn chunk_rows(&self, chunk: usize) -> usize {
        (self.rows - chunk * self.rows_per_chunk).min(self.rows_per_chunk)
    }

    /// (first row, row count) of each chunk.
    pub fn chunk_ranges(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        (0..self.chunks.len()).map(|i| (i * self.rows_per_chunk, self.chunk_rows(i)))
    }

    /// A zero-filled tensor.
    pub fn zeroed(gpu: &Gpu, tensor: &Tensor) -> Result<GpuTensor, GpuError> {
        let (rows, row_len, rows_per_chunk) = Self::layout(gpu, tensor)?;
        let mut result = GpuTensor {
            name: tensor.name.clone(),
            chunks: Vec::new(),
            rows_per_chunk,
            rows,
            row_len,
        };
        let count = rows.div_ceil(rows_per_chunk);
        result.chunks = (0..count)
            .map(|i| {
                gpu.device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some(&tensor.name),
                    size: (result.chunk_rows(i) * row_len * 4).max(4) as u64,
                    usage: USAGE,
                    mapped_at_creation: false,
                })
            })
            .collect();
        Ok(result)
    }

    /// A tensor holding `values` (f32 or u32, as the kernels read it).
    pub fn with_data<T: bytemuck::Pod>(
        gpu: &Gpu,
        tensor: &Tensor,
        values: &[T],
    ) -> Result<GpuTensor, GpuError> {
        let (rows, row_len, rows_per_chunk) = Self::layout(gpu, tensor)?;
        assert_eq!(
            values.len(),
            rows * row_len,
            "{} has the wrong length",
            tensor.name
        );
        let chunks = values
            .chunks(rows_per_chunk * row_len)
            .map(|chunk| {
                gpu.device
                    .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                        label: Some(&tensor.name),
                        contents: bytemuck::cast_slice(chunk),
                        usage: USAGE,
                    })
            })
            .collect();
        Ok(GpuTensor {
            name: tensor.name.clone(),
            chunks,
            rows_per_chunk,
            rows,
            row_len,
        })
    }

    /// The single buffer of a tensor that kernels bind whole.
    pub fn single(&self) -> Result<&wgpu::Buffer, GpuError> {
        match self.chunks.as_slice() {
            [buffer] => Ok(buffer),
            _ => Err(GpuError::CannotSplit {
                tensor: self.name.clone(),
                chunks: self.chunks.len(),
            }),
        }
    }

    pub fn total_bytes(&self) -> u64 {
        (self.rows * self.row_len * 4) as u64
    }

    /// Reads the whole tensor back as f32 values (one counted readback).
    pub async fn read(&self, gpu: &Gpu) -> Result<Vec<f32>, GpuError> {
        let parts: Vec<(&wgpu::Buffer, u64)> = self
            .chunks
            .iter()
            .zip(self.chunk_ranges())
            .map(|(buffer, (_, rows))| (buffer, (rows * self.row_len * 4) as u64))
            .collect();
        let bytes = gpu.read_buffers(&parts).await?;
        Ok(bytemuck::pod_collect_to_vec(&bytes))
    }

    /// Reads single elements (indices into the whole tensor) back, in one counted readback: what
    /// hovering a cell costs.
    pub async fn read_elements(&self, gpu: &Gpu, indices: &[usize]) -> Result<Vec<f32>, GpuError> {
        let chunk_len = self.rows_per_chunk * self.row_len;
        let ranges: Vec<(&wgpu::Buffer, u64, u64)> = indices
            .iter()
            .map(|&i| (&self.chunks[i / chunk_len], ((i % chunk_len) * 4) as u64, 4))
            .collect();
        let bytes = gpu.read_ranges(&ranges).await?;
        Ok(bytemuck::pod_collect_to_vec(&bytes))
    }

    /// Reads one row of the first axis back (one counted readback).
    pub async fn read_row(&self, gpu: &Gpu, row: usize) -> Result<Vec<f32>, GpuError> {
        let chunk = &self.chunks[row / self.rows_per_chunk];
        let offset = ((row % self.rows_per_chunk) * self.row_len * 4) as u64;
        let bytes = gpu
            .read_ranges(&[(chunk, offset, (self.row_len * 4) as u64)])
            .await?;
        Ok(bytemuck::pod_collect_to_vec(&bytes))
    }
}
