//! Weights streamed into GPU buffers as a file arrives in pieces (what the browser page does):
//! the model they make must compute what transformers computes, whatever the pieces' sizes and
//! however the buffers are split; a broken or short file is an error naming it.

mod common;

use glassbox::gpu::stream::WeightStream;
use glassbox::gpu::{Gpu, GpuGraph, GpuModel, GpuOptions, KernelRegistry};
use glassbox::graph::Graph;
use glassbox::model::Config;
use glassbox::values::reference::{check_against, reference_ids};
use pollster::block_on;

const CASE: &str = "tiny_2l";

fn files() -> (Config, Vec<u8>, Vec<u8>) {
    let dir = common::oracle_dir(CASE);
    let text = std::fs::read_to_string(dir.join("config.json")).unwrap();
    let config = Config::from_json("config.json", &text).unwrap();
    let weights = std::fs::read(dir.join("model.safetensors")).unwrap();
    let expected = std::fs::read(dir.join("expected.safetensors")).unwrap();
    (config, weights, expected)
}

/// Pushes `bytes` in pieces of the given sizes, in turn.
fn stream(gpu: &Gpu, config: &Config, bytes: &[u8], sizes: &[usize]) -> Result<GpuModel, String> {
    let mut stream = WeightStream::new(
        config.clone(),
        "config.json",
        "model.safetensors",
        bytes.len(),
    )
    .map_err(|e| e.to_string())?;
    let mut at = 0;
    for size in sizes.iter().cycle() {
        if at == bytes.len() {
            break;
        }
        let end = (at + size).min(bytes.len());
        stream
            .push(gpu, &bytes[at..end])
            .map_err(|e| e.to_string())?;
        at = end;
    }
    block_on(stream.finish(gpu)).map_err(|e| e.to_string())
}

fn assert_matches(gpu: &Gpu, registry: &KernelRegistry, model: &GpuModel, expected: &[u8]) {
    let ids = reference_ids("expected.safetensors", expected).unwrap();
    let graph = Graph::forward(&model.config, ids.len());
    let graph = block_on(GpuGraph::new(gpu, registry, graph, model)).unwrap();
    graph.set_ids(gpu, &ids).unwrap();
    graph.run(gpu, registry);
    let values = block_on(graph.read_all(gpu)).unwrap();
    let checked = check_against("expected.safetensors", expected, graph.graph(), &values).unwrap();
    assert_eq!(
        checked.len(),
        6,
        "logits, 3 hidden states, 2 attention maps"
    );
    for c in checked {
        assert!(c.difference.passes(), "{}: {:?}", c.name, c.difference);
    }
}

#[test]
fn streamed_weights_compute_what_transformers_computes() {
    let (config, weights, expected) = files();
    // Five rows per buffer: `wte` arrives across many buffers, the last one shorter.
    let (gpu, registry) = common::gpu(&GpuOptions {
        max_chunk_rows: Some(5),
        ..Default::default()
    });
    // One byte at a time splits every value; odd sizes split them at every offset.
    for sizes in [&[1][..], &[3, 7, 5], &[4096], &[weights.len()]] {
        let model = stream(&gpu, &config, &weights, sizes).unwrap();
        assert_matches(&gpu, &registry, &model, &expected);
    }
}

#[test]
fn a_short_or_broken_file_is_an_error_that_names_it() {
    let (config, weights, _) = files();
    let (gpu, _) = common::gpu(&GpuOptions::default());

    let mut short = WeightStream::new(
        config.clone(),
        "config.json",
        "model.safetensors",
        weights.len(),
    )
    .unwrap();
    short.push(&gpu, &weights[..weights.len() - 10]).unwrap();
    let error = block_on(short.finish(&gpu)).err().unwrap().to_string();
    assert!(
        error.contains("model.safetensors") && error.contains("arrived"),
        "{error}"
    );

    // A NaN in the last weight's last value.
    let mut poisoned = weights.clone();
    let end = poisoned.len();
    poisoned[end - 4..].copy_from_slice(&f32::NAN.to_le_bytes());
    let error = stream(&gpu, &config, &poisoned, &[1000]).err().unwrap();
    assert!(
        error.contains("model.safetensors") && error.contains("finite"),
        "{error}"
    );

    let mut garbage = WeightStream::new(config, "config.json", "model.safetensors", 100).unwrap();
    let error = garbage.push(&gpu, &[0xff; 100]).err().unwrap().to_string();
    assert!(
        error.contains("model.safetensors") && error.contains("header length"),
        "{error}"
    );
}
