//! The difference view: against the CPU reference every op of the built-in model is within the
//! tolerance; a kernel edited into a wrong one is listed and drawn red at once.

use glassbox::gpu::kernels::BUILTIN_KERNELS;
use glassbox::gpu::GpuOptions;
use glassbox::render::offscreen::{Offscreen, FORMAT};
use glassbox::scene::Scene;
use glassbox::viewer::Viewer;

fn red_pixels(viewer: &Viewer) -> usize {
    let mut target = Offscreen::new(viewer.gpu(), 480, 300).unwrap();
    let camera = viewer.camera("all", 480.0 / 300.0).unwrap();
    viewer.draw_offscreen(&mut target, &camera);
    let image = pollster::block_on(target.read_image(viewer.gpu())).unwrap();
    image
        .pixels()
        .filter(|p| p.0[0] > 200 && p.0[1] < 80 && p.0[2] < 80)
        .count()
}

#[test]
fn a_wrong_kernel_lights_up_in_the_difference_view() {
    let scene = Scene::embedded();
    let ids = scene.tokenizer.encode(&scene.prompt).unwrap();
    let mut viewer = pollster::block_on(Viewer::new(scene, &ids, &GpuOptions::default(), FORMAT))
        .expect("a GPU adapter (lavapipe on CI)");
    pollster::block_on(viewer.set_difference(true)).unwrap();
    let view = viewer.difference().unwrap();
    assert_eq!(view.per_op.len(), viewer.graph().ops.len());
    assert!(
        view.per_op.iter().all(|d| d.difference.passes()),
        "{:?}",
        view.per_op
    );
    let clean = red_pixels(&viewer);

    // The residual add, off by 1%: its ops and everything after them fail.
    let add = BUILTIN_KERNELS
        .iter()
        .find(|k| k.path == "ops/add.wgsl")
        .unwrap();
    let wrong = add
        .source
        .replace("y[i] = a[i] + b[i];", "y[i] = (a[i] + b[i]) * 1.01;");
    assert_ne!(wrong, add.source);
    let (device, registry) = viewer.kernels_mut();
    registry
        .load(device, "add.wgsl", &wrong, &|_| None)
        .unwrap();
    viewer.run_to(viewer.graph().ops.len());
    pollster::block_on(viewer.refresh_difference()).unwrap();
    let view = viewer.difference().unwrap();
    let first_failure = view.per_op.iter().find(|d| !d.difference.passes()).unwrap();
    assert_eq!(first_failure.op, "h.0.resid_mid");
    assert!(
        red_pixels(&viewer) > clean + 100,
        "the wrong op is drawn red"
    );

    // Off again: colours by value, nothing red from the difference scale.
    pollster::block_on(viewer.set_difference(false)).unwrap();
    assert!(viewer.difference().is_none());
}
