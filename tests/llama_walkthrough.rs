//! The Llama walkthrough (scenes/llama_sort): its model really sorts, its chapters cover the
//! Llama family's ops in graph order, and playing every paragraph on the GPU shows numbers read
//! from the model, ending on the right answer.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use glassbox::generate::{generate_cpu, GpuGenerator, Sampling};
use glassbox::gpu::GpuOptions;
use glassbox::render::offscreen::FORMAT;
use glassbox::scene::Scene;
use glassbox::viewer::walkthrough::{Shown, WalkthroughPlayer};
use glassbox::viewer::Viewer;
use pollster::block_on;

fn scene() -> Scene {
    Scene::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("scenes/llama_sort")).unwrap()
}

/// Every one of the 729 inputs on the CPU reference, 100 random ones through the GPU's decode
/// path: at least 99% fully sorted on each.
#[test]
fn the_llama_sorter_sorts() {
    let scene = scene();
    let all: Vec<Vec<u32>> = (0..729u32)
        .map(|n| (0..6).rev().map(|i| n / 3u32.pow(i) % 3).collect())
        .collect();
    let sorted = |input: &[u32], output: &[u32]| {
        let mut expected = input.to_vec();
        expected.sort();
        output == expected
    };
    let cpu = all
        .iter()
        .filter(|input| {
            let output = generate_cpu(&scene.model, input, 6, &Sampling::GREEDY, |_| {}).unwrap();
            sorted(input, &output)
        })
        .count();
    assert!(cpu * 100 >= 99 * 729, "cpu: {cpu} of 729 sorted");

    let (gpu, registry) = common::gpu(&GpuOptions::default());
    let mut generator = block_on(GpuGenerator::new(&gpu, &registry, &scene.model)).unwrap();
    let inputs = common::ids(6 * 100, 3, 2026);
    let on_gpu = inputs
        .chunks(6)
        .filter(|input| {
            let output = block_on(generator.generate(input, 6, &Sampling::GREEDY, |_| {})).unwrap();
            sorted(input, &output)
        })
        .count();
    assert!(on_gpu >= 99, "gpu: {on_gpu} of 100 sorted");
}

#[test]
fn the_chapters_cover_the_llama_ops_in_order() {
    let scene = scene();
    let graph = glassbox::graph::Graph::forward(&scene.model.config, 6);
    let mut kinds = BTreeSet::new();
    let mut last_op = 0;
    for chapter in &scene.walkthrough.chapters {
        for paragraph in &chapter.paragraphs {
            let op = graph
                .op_index(paragraph.op.as_ref().unwrap_or(&chapter.op))
                .unwrap();
            kinds.insert(graph.ops[op].kind.kernel_name());
            assert!(op >= last_op, "chapter {} goes back", chapter.name);
            last_op = op;
        }
    }
    for kind in [
        "embed_tokens",
        "rmsnorm",
        "linear",
        "rope",
        "attn_scores",
        "attn_mix",
        "swiglu",
        "add",
        "softmax",
    ] {
        assert!(kinds.contains(kind), "no chapter on {kind}: {kinds:?}");
    }
}

#[test]
fn playing_every_paragraph_reads_the_model() {
    let scene = scene();
    let base = scene.tokenizer.encode(&scene.prompt).unwrap();
    let mut viewer =
        block_on(Viewer::new(scene, &base, &GpuOptions::default(), FORMAT)).expect("a GPU adapter");
    let walkthrough = viewer.scene().walkthrough.clone();
    let mut player = WalkthroughPlayer::default();
    let mut numbers = Vec::new();
    for (chapter, content) in walkthrough.chapters.iter().enumerate() {
        for paragraph in 0..content.paragraphs.len() {
            let t = walkthrough.paragraph_start(chapter, paragraph) + 0.1;
            block_on(player.apply(&mut viewer, &base, t, 1.5)).unwrap();
            for shown in &player.caption {
                if let Shown::Number(n) = shown {
                    assert!(!n.is_empty() && !n.contains("NaN"), "{}: {n}", content.name);
                    numbers.push(n.clone());
                }
            }
        }
    }
    assert!(numbers.len() >= 15, "{numbers:?}");
    // The last paragraph's lens: CBABBC sorts to A first, and the output layer says so.
    let last = numbers.last().unwrap();
    assert!(last.starts_with("“A”"), "{numbers:?}");
}
