//! The built-in model really sorts: greedy generation through the GPU path on 500 random inputs.

mod common;

use glassbox::generate::{GpuGenerator, Sampling};
use glassbox::gpu::GpuOptions;
use glassbox::scene::Scene;

#[test]
fn sorts_at_least_99_percent_of_500_random_inputs_on_the_gpu() {
    let scene = Scene::embedded();
    let (gpu, registry) = common::gpu(&GpuOptions::default());
    let mut generator =
        pollster::block_on(GpuGenerator::new(&gpu, &registry, &scene.model)).unwrap();
    let inputs = common::ids(6 * 500, 3, 2026);
    let total = 500;
    let mut sorted = 0;
    for input in inputs.chunks(6) {
        let input = input.to_vec();
        let output =
            pollster::block_on(generator.generate(&input, 6, &Sampling::GREEDY, |_| {})).unwrap();
        let mut expected = input.clone();
        expected.sort();
        sorted += usize::from(output == expected);
    }
    let accuracy = sorted as f64 / total as f64;
    println!("sorted {sorted} of {total} ({:.1}%)", accuracy * 100.0);
    assert!(
        accuracy >= 0.99,
        "only {sorted} of {total} inputs fully sorted"
    );
}
