//! The built-in model really sorts: greedy generation through the GPU path on 500 random inputs.

mod common;

use glassbox::generate::{pick, GpuGenerator, Rng, Sampling};
use glassbox::gpu::GpuOptions;
use glassbox::scene::Scene;

#[test]
fn sorts_at_least_99_percent_of_500_random_inputs_on_the_gpu() {
    let scene = Scene::embedded();
    let (gpu, registry) = common::gpu(&GpuOptions::default());
    let mut generator =
        pollster::block_on(GpuGenerator::new(&gpu, &registry, &scene.model)).unwrap();
    let mut rng = Rng::new(2026);
    let total = 500;
    let mut sorted = 0;
    for _ in 0..total {
        let input: Vec<u32> = (0..6).map(|_| (rng.next_u64() % 3) as u32).collect();
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

#[test]
fn greedy_is_argmax_and_seeded_sampling_is_reproducible() {
    let logits = [0.1, 2.0, -1.0, 1.9];
    let mut rng = Rng::new(1);
    assert_eq!(pick(&logits, &Sampling::GREEDY, &mut rng), 1);
    let sampling = Sampling {
        temperature: 1.5,
        top_k: None,
        top_p: None,
        seed: 9,
    };
    let draw = |seed| {
        let mut rng = Rng::new(seed);
        (0..64)
            .map(|_| pick(&logits, &sampling, &mut rng))
            .collect::<Vec<_>>()
    };
    assert_eq!(draw(9), draw(9));
    assert_ne!(draw(9), draw(10));
    let picks = draw(9);
    assert!(
        picks.contains(&1) && picks.contains(&3),
        "temperature spreads the picks: {picks:?}"
    );

    let top1 = Sampling {
        top_k: Some(1),
        ..sampling
    };
    let mut rng = Rng::new(4);
    assert!(
        (0..32).all(|_| pick(&logits, &top1, &mut rng) == 1),
        "top-k 1 is greedy"
    );
    let nucleus = Sampling {
        top_p: Some(0.4),
        ..sampling
    };
    let mut rng = Rng::new(4);
    assert!(
        (0..32).all(|_| pick(&logits, &nucleus, &mut rng) == 1),
        "top-p below the best token's share keeps only it"
    );
}
