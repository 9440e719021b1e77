//! GGUF files written for tests: a Llama-family model's weights in llama.cpp's layout (names,
//! [out, in] rows, q and k rows interleaved per head as its converter writes them), and the
//! pieces hostile files are made of.

use glassbox::model::{gguf, Config, Model};

pub const F32: u32 = 0;
pub const Q5_K: u32 = 13;

/// A GGUF file under construction: metadata entries, then tensors.
#[derive(Default, Clone)]
pub struct GgufWriter {
    pub version: u32,
    pub metadata: Vec<(String, u32, Vec<u8>)>,
    pub tensors: Vec<(String, Vec<u64>, u32, Vec<u8>)>,
}

pub fn string(text: &str) -> Vec<u8> {
    let mut out = (text.len() as u64).to_le_bytes().to_vec();
    out.extend(text.as_bytes());
    out
}

impl GgufWriter {
    pub fn new() -> GgufWriter {
        GgufWriter {
            version: 3,
            ..Default::default()
        }
    }

    pub fn u32(&mut self, key: &str, value: u32) {
        self.metadata
            .push((key.into(), 4, value.to_le_bytes().to_vec()));
    }

    pub fn f32(&mut self, key: &str, value: f32) {
        self.metadata
            .push((key.into(), 6, value.to_le_bytes().to_vec()));
    }

    pub fn bool(&mut self, key: &str, value: bool) {
        self.metadata.push((key.into(), 7, vec![u8::from(value)]));
    }

    pub fn str(&mut self, key: &str, value: &str) {
        self.metadata.push((key.into(), 8, string(value)));
    }

    pub fn strings(&mut self, key: &str, values: &[&str]) {
        let mut bytes = 8u32.to_le_bytes().to_vec();
        bytes.extend((values.len() as u64).to_le_bytes());
        for value in values {
            bytes.extend(string(value));
        }
        self.metadata.push((key.into(), 9, bytes));
    }

    pub fn tensor_f32(&mut self, name: &str, dims: &[u64], values: &[f32]) {
        let bytes = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.tensors.push((name.into(), dims.to_vec(), F32, bytes));
    }

    /// The file: header, metadata, tensor infos (each tensor at the next multiple of 32 in the
    /// data section), padding to 32, data.
    pub fn bytes(&self) -> Vec<u8> {
        let mut out = b"GGUF".to_vec();
        out.extend(self.version.to_le_bytes());
        out.extend((self.tensors.len() as u64).to_le_bytes());
        out.extend((self.metadata.len() as u64).to_le_bytes());
        for (key, ty, value) in &self.metadata {
            out.extend(string(key));
            out.extend(ty.to_le_bytes());
            out.extend(value);
        }
        let mut data = Vec::new();
        for (name, dims, ty, bytes) in &self.tensors {
            out.extend(string(name));
            out.extend((dims.len() as u32).to_le_bytes());
            for d in dims {
                out.extend(d.to_le_bytes());
            }
            out.extend(ty.to_le_bytes());
            out.extend((data.len() as u64).to_le_bytes());
            data.extend(bytes);
            data.resize(data.len().div_ceil(32) * 32, 0);
        }
        out.resize(out.len().div_ceil(32) * 32, 0);
        out.extend(data);
        out
    }
}

/// The metadata llama.cpp writes for a Llama-family `config`.
pub fn llama_metadata(config: &Config) -> GgufWriter {
    let llama = config.llama().expect("a Llama-family config");
    let arch = match llama.family {
        glassbox::model::arch::LlamaFamily::Qwen2 => "qwen2",
        _ => "llama",
    };
    let mut w = GgufWriter::new();
    w.str("general.architecture", arch);
    let key = |name: &str| format!("{arch}.{name}");
    w.u32(&key("block_count"), config.n_layer as u32);
    w.u32(&key("context_length"), config.n_positions as u32);
    w.u32(&key("embedding_length"), config.n_embd as u32);
    w.u32(&key("feed_forward_length"), llama.intermediate as u32);
    w.u32(&key("attention.head_count"), config.n_head as u32);
    w.u32(&key("attention.head_count_kv"), llama.n_kv_head as u32);
    w.f32(&key("rope.freq_base"), llama.rope.theta);
    w.f32(
        &key("attention.layer_norm_rms_epsilon"),
        config.layer_norm_epsilon,
    );
    w
}

/// `model` as llama.cpp's converter writes it, in F32.
pub fn write_llama(model: &Model) -> Vec<u8> {
    llama_writer(model).bytes()
}

/// [`write_llama`]'s file before it is written out.
pub fn llama_writer(model: &Model) -> GgufWriter {
    let config = &model.config;
    let llama = config.llama().expect("a Llama-family config");
    let interleaved = llama.family != glassbox::model::arch::LlamaFamily::Qwen2;
    let d = config.head_dim();
    let mut w = llama_metadata(config);
    let graph = glassbox::graph::Graph::forward(config, 1);
    for tensor in graph.weights() {
        let name = &tensor.name;
        let values = model.weights.get(name).expect("every weight");
        let projection = name.ends_with("_proj.weight");
        // transformers' layout: projections [out, in].
        let (rows, cols) = match (projection, tensor.shape.as_slice()) {
            (true, &[k, n]) => (n, k),
            (_, &[a, b]) => (a, b),
            (_, &[a]) => (1, a),
            _ => panic!("{name}: unexpected shape"),
        };
        let mut hf = match projection {
            true => (0..rows * cols)
                .map(|i| values[(i % cols) * rows + i / cols])
                .collect(),
            false => values.to_vec(),
        };
        let heads = match name.rsplit('.').nth(1) {
            Some("q_proj") => Some(config.n_head),
            Some("k_proj") => Some(llama.n_kv_head),
            _ => None,
        };
        if let (true, Some(heads)) = (interleaved, heads) {
            let width = hf.len() / (heads * d);
            let source = hf.clone();
            for head in 0..heads {
                for i in 0..d / 2 {
                    for half in 0..2 {
                        let to = (head * d + 2 * i + half) * width;
                        let from = (head * d + half * d / 2 + i) * width;
                        hf[to..to + width].copy_from_slice(&source[from..from + width]);
                    }
                }
            }
        }
        let dims: Vec<u64> = match tensor.shape.len() {
            1 => vec![cols as u64],
            _ => vec![cols as u64, rows as u64],
        };
        let stored = gguf::gguf_name(name).expect("a llama.cpp name");
        w.tensor_f32(&stored, &dims, &hf);
    }
    w
}
