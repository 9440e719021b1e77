//! Long sessions: a lost device is noticed, and a viewer rebuilt on a new device from a
//! snapshot shows the same thing: tokens, step, mode, kernel choice, kernel files, and the same
//! numbers in its buffers.

use glassbox::gpu::variants::KernelChoice;
use glassbox::gpu::{Gpu, GpuOptions, KernelId};
use glassbox::render::offscreen::FORMAT;
use glassbox::scene::Scene;
use glassbox::viewer::Viewer;

#[test]
fn a_lost_device_is_noticed_and_the_session_comes_back_on_a_new_one() {
    let ids = [2, 0, 1, 2, 0, 1];
    let mut viewer = pollster::block_on(Viewer::new(
        Scene::embedded(),
        &ids,
        &GpuOptions::default(),
        FORMAT,
    ))
    .expect("a GPU adapter (lavapipe on CI)");
    viewer.gpu().watch_health();
    assert_eq!(viewer.gpu().problem(), None);

    // What a user may have changed: a kernel file loaded, a variant chosen, a step taken.
    let variant = include_str!("../kernels/ops/gelu.wgsl")
        .replace("// Kernel: gelu/default", "// Kernel: gelu/mine");
    let (device, registry) = viewer.kernels_mut();
    registry
        .load(device, "my/gelu.wgsl", &variant, &|_| None)
        .unwrap();
    let mut choice = KernelChoice::default();
    choice.set(&KernelId::new("linear", "naive"));
    pollster::block_on(viewer.set_kernels(choice.clone())).unwrap();
    let step = viewer.graph().op_index("h.1.mlp.gelu").unwrap();
    viewer.step_to(step);
    let gelu = viewer.graph().tensor_id("h.1.mlp.gelu").unwrap();
    let before = pollster::block_on(viewer.read_elements(gelu, &[0, 1, 2, 3])).unwrap();

    viewer.gpu().lose_device();
    let problem = viewer.gpu().problem().expect("the loss is reported");
    assert!(problem.contains("lost"), "{problem}");

    let snapshot = viewer.snapshot();
    drop(viewer);
    let gpu = pollster::block_on(Gpu::new(&GpuOptions::default())).unwrap();
    let (restored, left_out) = pollster::block_on(Viewer::restore(gpu, snapshot, FORMAT)).unwrap();
    assert!(left_out.is_empty(), "{left_out:?}");
    assert_eq!(restored.ids(), ids);
    assert_eq!(restored.current(), Some(step));
    assert_eq!(restored.op_count(), step + 1);
    assert_eq!(restored.gpu().kernels, choice);
    let mine = KernelId::new("gelu", "mine");
    assert!(
        restored.registry().has(&mine),
        "the loaded kernel file is back"
    );
    assert_eq!(restored.registry().dropped_in("gelu"), Some(mine));
    let after = pollster::block_on(restored.read_elements(gelu, &[0, 1, 2, 3])).unwrap();
    assert_eq!(
        before, after,
        "the same numbers, computed again on the new device"
    );
    assert_eq!(restored.gpu().problem(), None);
}
