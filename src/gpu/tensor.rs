//! One GPU tensor = one storage buffer, or several when it is larger than a kernel may bind at
//! once (GPT-2's `wte` is 154 MB; many adapters bind at most 128 MiB). Splits fall between rows
//! of the first axis, so a kernel always sees whole rows.

use wgpu::util::DeviceExt;

use super::{Gpu, GpuError, Precision};
use crate::graph::{DType, Dim, Tensor};
use crate::model::gguf::GgmlType;
use crate::model::Blocks;

#[derive(Clone)]
pub struct GpuTensor {
    pub name: String,
    pub chunks: Vec<wgpu::Buffer>,
    /// Rows (of the first axis) in every chunk but possibly the last.
    pub rows_per_chunk: usize,
    pub rows: usize,
    /// Values per row: the product of the other axes.
    pub row_len: usize,
    /// Bytes per value: 4 (f32, u32) or 2 (f16 storage); 0 for blocks.
    pub elem: usize,
    /// For a weight kept quantized: its ggml blocks, `rows` rows of `row_len` values as the
    /// file stores them.
    pub blocks: Option<BlockLayout>,
}

/// How a quantized weight's bytes are laid out.
#[derive(Clone, Copy, Debug)]
pub struct BlockLayout {
    pub ty: GgmlType,
    /// Whether the graph's tensor is the transpose of the stored rows (a projection).
    pub transposed: bool,
    pub bytes: u64,
}

/// Buffer sizes and copies go in whole 4-byte words.
fn words(bytes: usize) -> usize {
    bytes.div_ceil(4) * 4
}

/// Bytes per value of `tensor` stored at `precision` (token ids stay u32).
fn elem_bytes(tensor: &Tensor, precision: Precision) -> usize {
    match tensor.dtype {
        DType::F32 => precision.bytes(),
        DType::U32 => 4,
    }
}

/// Storage buffers the kernels write are also copy sources (dumps, checks, picking) and copy
/// destinations (input ids, weights).
const USAGE: wgpu::BufferUsages = wgpu::BufferUsages::STORAGE
    .union(wgpu::BufferUsages::COPY_SRC)
    .union(wgpu::BufferUsages::COPY_DST);

impl GpuTensor {
    /// Plans the split of `tensor` for this device's binding limit.
    fn layout(gpu: &Gpu, tensor: &Tensor, elem: usize) -> Result<(usize, usize, usize), GpuError> {
        let rows = tensor.shape.first().copied().unwrap_or(1);
        let row_len = tensor.shape.iter().skip(1).product::<usize>();
        let row_bytes = (row_len * elem) as u64;
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

    /// Each chunk with its first row and row count.
    pub fn chunk_ranges(&self) -> impl Iterator<Item = (&wgpu::Buffer, usize, usize)> + '_ {
        self.chunks
            .iter()
            .enumerate()
            .map(|(i, buffer)| (buffer, i * self.rows_per_chunk, self.chunk_rows(i)))
    }

    /// A zero-filled tensor, its floats stored at `precision`.
    pub fn zeroed(gpu: &Gpu, tensor: &Tensor, precision: Precision) -> Result<GpuTensor, GpuError> {
        let elem = elem_bytes(tensor, precision);
        let (rows, row_len, rows_per_chunk) = Self::layout(gpu, tensor, elem)?;
        let mut result = GpuTensor {
            name: tensor.name.clone(),
            chunks: Vec::new(),
            rows_per_chunk,
            rows,
            row_len,
            elem,
            blocks: None,
        };
        let count = rows.div_ceil(rows_per_chunk);
        result.chunks = (0..count)
            .map(|i| {
                gpu.device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some(&tensor.name),
                    size: words(result.chunk_rows(i) * row_len * elem).max(4) as u64,
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
        Self::from_words(gpu, tensor, values, 4)
    }

    /// A float tensor holding `values` stored at `precision` (rounded to the nearest f16).
    pub fn with_floats(
        gpu: &Gpu,
        tensor: &Tensor,
        values: &[f32],
        precision: Precision,
    ) -> Result<GpuTensor, GpuError> {
        match precision {
            Precision::F32 => Self::with_data(gpu, tensor, values),
            Precision::F16 => {
                let halves: Vec<u16> = values
                    .iter()
                    .map(|&v| half::f16::from_f32(v).to_bits())
                    .collect();
                Self::from_words(gpu, tensor, &halves, 2)
            }
        }
    }

    fn from_words<T: bytemuck::Pod>(
        gpu: &Gpu,
        tensor: &Tensor,
        values: &[T],
        elem: usize,
    ) -> Result<GpuTensor, GpuError> {
        let (rows, row_len, rows_per_chunk) = Self::layout(gpu, tensor, elem)?;
        assert_eq!(
            values.len(),
            rows * row_len,
            "{} has the wrong length",
            tensor.name
        );
        let chunks = values
            .chunks(rows_per_chunk * row_len)
            .map(|chunk| {
                let mut contents = bytemuck::cast_slice::<T, u8>(chunk).to_vec();
                contents.resize(words(contents.len()).max(4), 0);
                gpu.device
                    .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                        label: Some(&tensor.name),
                        contents: &contents,
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
            elem,
            blocks: None,
        })
    }

    /// A weight's ggml blocks, bound whole (the quantized kernels take no chunks: SmolLM2's
    /// embedding is 30 MB in Q8_0).
    pub fn with_blocks(gpu: &Gpu, name: &str, blocks: &Blocks) -> Result<GpuTensor, GpuError> {
        let bytes = blocks.bytes.len() as u64;
        if bytes > gpu.max_binding_bytes {
            return Err(GpuError::TooLarge {
                tensor: name.to_string(),
                bytes,
                limit: gpu.max_binding_bytes,
            });
        }
        let mut contents = blocks.bytes.clone();
        // One word past the end: a kernel reading a field that straddles two words reads both.
        contents.resize(words(contents.len()) + 4, 0);
        let buffer = gpu
            .device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(name),
                contents: &contents,
                usage: USAGE,
            });
        Ok(GpuTensor {
            name: name.to_string(),
            chunks: vec![buffer],
            rows_per_chunk: blocks.rows,
            rows: blocks.rows,
            row_len: blocks.row_len,
            elem: 0,
            blocks: Some(BlockLayout {
                ty: blocks.ty,
                transposed: blocks.transposed,
                bytes,
            }),
        })
    }

    /// Floats as this tensor stores them (f32, or rounded to f16), padded to whole words.
    pub fn encode_floats(&self, values: &[f32]) -> Vec<u8> {
        let mut bytes: Vec<u8> = match self.elem {
            2 => values
                .iter()
                .flat_map(|&v| half::f16::from_f32(v).to_bits().to_le_bytes())
                .collect(),
            _ => bytemuck::cast_slice(values).to_vec(),
        };
        bytes.resize(words(bytes.len()), 0);
        bytes
    }

    /// Values from their stored bytes: f32 or u32 bits as they are, f16 widened to f32.
    fn decode(&self, bytes: &[u8], count: usize) -> Vec<f32> {
        if self.elem == 2 {
            bytes
                .chunks_exact(2)
                .take(count)
                .map(|b| half::f16::from_bits(u16::from_le_bytes([b[0], b[1]])).to_f32())
                .collect()
        } else {
            bytemuck::pod_collect_to_vec(&bytes[..4 * count])
        }
    }

    /// Rows of the first axis of the graph's tensor (the stored rows' length when transposed).
    fn graph_rows(&self) -> usize {
        match self.blocks {
            Some(layout) if layout.transposed => self.row_len,
            _ => self.rows,
        }
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
        match self.blocks {
            Some(layout) => layout.bytes,
            None => (self.rows * self.row_len * self.elem) as u64,
        }
    }

    /// Reads the whole tensor back as f32 values (one counted readback), blocks made into
    /// values in the graph's layout.
    pub async fn read(&self, gpu: &Gpu) -> Result<Vec<f32>, GpuError> {
        if let Some(layout) = self.blocks {
            let bytes = gpu.read_buffers(&[(&self.chunks[0], layout.bytes)]).await?;
            let values = layout.ty.dequantize(&bytes[..layout.bytes as usize]);
            return Ok(match layout.transposed {
                true => crate::model::transpose(&values, self.rows, self.row_len),
                false => values,
            });
        }
        let mut values = Vec::with_capacity(self.rows * self.row_len);
        let parts: Vec<(&wgpu::Buffer, u64)> = self
            .chunk_ranges()
            .map(|(buffer, _, rows)| (buffer, words(rows * self.row_len * self.elem) as u64))
            .collect();
        let bytes = gpu.read_buffers(&parts).await?;
        let mut at = 0;
        for ((_, size), (_, _, rows)) in parts.iter().zip(self.chunk_ranges()) {
            let size = *size as usize;
            values.extend(self.decode(&bytes[at..at + size], rows * self.row_len));
            at += size;
        }
        Ok(values)
    }

    /// Reads single elements (indices into the whole tensor) back, in one counted readback: what
    /// hovering a cell costs.
    pub async fn read_elements(&self, gpu: &Gpu, indices: &[usize]) -> Result<Vec<f32>, GpuError> {
        if self.blocks.is_some() {
            let values = self.read(gpu).await?;
            return Ok(indices.iter().map(|&i| values[i]).collect());
        }
        let chunk_len = self.rows_per_chunk * self.row_len;
        // Each element is read with the 4-byte word that holds it.
        let byte = |i: usize| (i % chunk_len) * self.elem;
        let ranges: Vec<(&wgpu::Buffer, u64, u64)> = indices
            .iter()
            .map(|&i| (&self.chunks[i / chunk_len], (byte(i) & !3) as u64, 4))
            .collect();
        let bytes = gpu.read_ranges(&ranges).await?;
        Ok(indices
            .iter()
            .zip(bytes.chunks_exact(4))
            .map(|(&i, word)| self.decode(&word[byte(i) & 3..], 1)[0])
            .collect())
    }

    /// Reads one row of the first axis back (one counted readback).
    pub async fn read_row(&self, gpu: &Gpu, row: usize) -> Result<Vec<f32>, GpuError> {
        if self.blocks.is_some() {
            let values = self.read(gpu).await?;
            let width = values.len() / self.graph_rows();
            return Ok(values[row * width..(row + 1) * width].to_vec());
        }
        let chunk = &self.chunks[row / self.rows_per_chunk];
        let offset = (row % self.rows_per_chunk) * self.row_len * self.elem;
        let (start, end) = (offset & !3, words(offset + self.row_len * self.elem));
        let bytes = gpu
            .read_ranges(&[(chunk, start as u64, (end - start) as u64)])
            .await?;
        Ok(self.decode(&bytes[offset - start..], self.row_len))
    }
}
