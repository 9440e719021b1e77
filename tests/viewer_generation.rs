//! Generating in the viewer: appended tokens match the reference generator, and with the KV
//! cache on, the cache's rows fill one per token and the picture shows them.

use glassbox::cpu::sampling::Sampling;
use glassbox::generate::generate_cpu;
use glassbox::gpu::GpuOptions;
use glassbox::render::offscreen::{Offscreen, FORMAT};
use glassbox::scene::Scene;
use glassbox::viewer::Viewer;

fn viewer(ids: &[u32]) -> Viewer {
    pollster::block_on(Viewer::new(
        Scene::embedded(),
        ids,
        &GpuOptions::default(),
        FORMAT,
    ))
    .expect("a GPU adapter (lavapipe on CI)")
}

/// Rows of a [H, capacity, D] cache that hold anything but zeros.
fn filled_rows(values: &[f32], heads: usize, capacity: usize) -> usize {
    let d = values.len() / (heads * capacity);
    (0..capacity)
        .filter(|&row| {
            (0..heads).any(|h| {
                values[(h * capacity + row) * d..][..d]
                    .iter()
                    .any(|&v| v != 0.0)
            })
        })
        .count()
}

#[test]
fn appending_matches_the_reference_with_and_without_the_cache() {
    let prompt = [2, 0, 1, 2, 0];
    let sampling = Sampling {
        temperature: 0.8,
        top_k: Some(3),
        top_p: None,
        seed: 5,
    };
    let expected = generate_cpu(&Scene::embedded().model, &prompt, 4, &sampling, |_| {}).unwrap();
    for decoding in [false, true] {
        let mut viewer = viewer(&prompt);
        *viewer.sampling_mut() = sampling;
        pollster::block_on(viewer.set_decoding(decoding)).unwrap();
        for _ in 0..4 {
            pollster::block_on(viewer.append_token()).unwrap().unwrap();
        }
        assert_eq!(
            viewer.ids()[prompt.len()..],
            expected,
            "decoding: {decoding}"
        );
    }
}

#[test]
fn the_cache_fills_one_row_per_token_and_is_drawn() {
    let prompt = [1, 2, 0];
    let mut viewer = viewer(&prompt);
    let config = viewer.scene().model.config.clone();
    let mut target = Offscreen::new(viewer.gpu(), 320, 240).unwrap();
    let camera = viewer.camera("all", 320.0 / 240.0).unwrap();
    viewer.draw_offscreen(&mut target, &camera);
    let before = pollster::block_on(target.read_image(viewer.gpu())).unwrap();

    pollster::block_on(viewer.set_decoding(true)).unwrap();
    let k_cache = viewer.graph().tensor_id("h.0.attn.k_cache").unwrap();
    let (_, capacity) = viewer.cache_fill().unwrap();
    let read = |viewer: &Viewer| {
        pollster::block_on(viewer.gpu_graph().read(viewer.gpu(), k_cache)).unwrap()
    };
    assert_eq!(filled_rows(&read(&viewer), config.n_head, capacity), 3);
    let camera = viewer.camera("all", 320.0 / 240.0).unwrap();
    viewer.draw_offscreen(&mut target, &camera);
    let three_rows = pollster::block_on(target.read_image(viewer.gpu())).unwrap();
    pollster::block_on(viewer.append_token()).unwrap().unwrap();
    assert_eq!(viewer.cache_fill().unwrap().0, 4);
    assert_eq!(filled_rows(&read(&viewer), config.n_head, capacity), 4);

    let camera = viewer.camera("all", 320.0 / 240.0).unwrap();
    viewer.draw_offscreen(&mut target, &camera);
    let after = pollster::block_on(target.read_image(viewer.gpu())).unwrap();
    assert_ne!(
        before, after,
        "the decode graph is drawn, not the full pass"
    );
    // The new token's step is drawn: its activations and the fourth row of every cache.
    let changed = three_rows
        .pixels()
        .zip(after.pixels())
        .filter(|(a, b)| a != b)
        .count();
    assert!(
        changed >= 20,
        "{changed} pixels changed with the fourth cache row"
    );
}

#[test]
fn another_model_replaces_the_scene() {
    let mut viewer = viewer(&[0, 1, 2]);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/oracle/tiny_2l");
    let model = glassbox::model::Model::load_dir(&dir).unwrap();
    let config = model.config.clone();
    let scene = Scene::from_model("tiny_2l", model);
    pollster::block_on(viewer.set_scene(scene, &[5, 6, 7, 8])).unwrap();
    assert_eq!(viewer.graph().config, config);
    assert_eq!(viewer.ids(), [5, 6, 7, 8]);
    assert_eq!(viewer.op_count(), viewer.graph().ops.len());
    let top = pollster::block_on(viewer.top_predictions(3)).unwrap();
    assert!(top
        .iter()
        .all(|&(id, p)| (id as usize) < config.vocab_size && p > 0.0));

    // Ids outside the new vocabulary are refused, and the model shown stays as it was.
    let refused = pollster::block_on(viewer.set_scene(Scene::embedded(), &[1_000_000]));
    assert!(refused.is_err());
    assert_eq!(viewer.graph().config, config);
    assert_eq!(viewer.ids(), [5, 6, 7, 8]);
}
