//! The renderer, offscreen: snapshots of a fixed scene against stored PNGs, and frames that read
//! nothing back.

mod common;

use std::path::PathBuf;

use glassbox::gpu::GpuOptions;
use glassbox::render::offscreen::{Offscreen, FORMAT};
use glassbox::scene::Scene;
use glassbox::viewer::Viewer;

fn viewer() -> Viewer {
    let scene = Scene::embedded();
    let ids = scene.tokenizer.encode(&scene.prompt).unwrap();
    pollster::block_on(Viewer::new(scene, &ids, &GpuOptions::default(), FORMAT))
        .expect("a GPU adapter")
}

fn snapshot_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/snapshots")
        .join(name)
}

/// Renders `camera` after `step` ops and compares with the stored PNG: at most 0.5% of the pixels
/// may differ by more than 48 in any channel (text antialiasing may move by a pixel between
/// drivers), and the mean difference must stay under 1.5 levels. Set GLASSBOX_UPDATE_SNAPSHOTS=1
/// to write the PNGs instead.
fn assert_snapshot(name: &str, camera: &str, step: Option<usize>) {
    let mut viewer = viewer();
    if let Some(step) = step {
        viewer.step_to(step);
    }
    let (w, h) = (480, 300);
    let camera = viewer.camera(camera, w as f32 / h as f32).unwrap();
    let mut target = Offscreen::new(viewer.gpu(), w, h).unwrap();
    viewer.draw_offscreen(&mut target, &camera);
    let image = pollster::block_on(target.read_image(viewer.gpu())).unwrap();
    let path = snapshot_path(name);
    if std::env::var_os("GLASSBOX_UPDATE_SNAPSHOTS").is_some() {
        image.save(&path).unwrap();
        return;
    }
    let expected = image::open(&path)
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e} (GLASSBOX_UPDATE_SNAPSHOTS=1 writes it)",
                path.display()
            )
        })
        .to_rgba8();
    assert_eq!(expected.dimensions(), image.dimensions());
    let (mut far, mut total) = (0usize, 0u64);
    for (a, b) in image.pixels().zip(expected.pixels()) {
        let diffs: Vec<u64> = (0..4)
            .map(|i| (a[i] as i32 - b[i] as i32).unsigned_abs() as u64)
            .collect();
        total += diffs.iter().sum::<u64>();
        far += usize::from(diffs.iter().any(|&d| d > 48));
    }
    let pixels = (w * h) as usize;
    let mean = total as f64 / (pixels * 4) as f64;
    let actual = std::env::temp_dir().join(format!("glassbox-actual-{name}"));
    image.save(&actual).unwrap();
    assert!(
        far * 200 <= pixels && mean < 1.5,
        "{name}: {far} pixels differ by more than 48, mean difference {mean:.2} (actual image: {})",
        actual.display()
    );
}

#[test]
fn snapshot_whole_model() {
    assert_snapshot("sort_overview.png", "overview", None);
}

#[test]
fn snapshot_attention_step() {
    let step = {
        let v = viewer();
        v.gpu_graph().graph().op_index("h.0.attn.softmax").unwrap()
    };
    assert_snapshot("sort_block0_softmax.png", "block0", Some(step));
}

/// The close-up: slabs with their sides, grid lines, the probabilities on viridis, tags and
/// brackets, the arrows into the current op.
#[test]
fn snapshot_attention_close_up() {
    let step = {
        let v = viewer();
        v.gpu_graph().graph().op_index("h.0.attn.softmax").unwrap()
    };
    assert_snapshot("sort_attention_close_up.png", "attention", Some(step));
}

#[test]
fn steady_frames_read_nothing_back() {
    let viewer = viewer();
    let camera = viewer.camera("overview", 16.0 / 9.0).unwrap();
    let mut target = Offscreen::new(viewer.gpu(), 320, 180).unwrap();
    let before = viewer.gpu().readback_count();
    for _ in 0..5 {
        viewer.draw_offscreen(&mut target, &camera);
    }
    viewer.gpu().wait_idle().unwrap();
    assert_eq!(viewer.gpu().readback_count(), before);
}

/// A prefix run leaves the later tensors "not computed": they are drawn empty, so a render of
/// step 0 differs from a render of the whole graph.
#[test]
fn stepping_changes_the_picture() {
    let render = |step: Option<usize>| {
        let mut viewer = viewer();
        if let Some(step) = step {
            viewer.step_to(step);
        }
        let camera = viewer.camera("overview", 1.0).unwrap();
        let mut target = Offscreen::new(viewer.gpu(), 200, 200).unwrap();
        viewer.draw_offscreen(&mut target, &camera);
        pollster::block_on(target.read_image(viewer.gpu())).unwrap()
    };
    assert_ne!(render(Some(0)).as_raw(), render(None).as_raw());
}

/// The current op's output fills in the order its workgroups started: none shown at rank 0,
/// some at rank 1, and with every rank shown the picture is the plain one again.
#[test]
fn fill_order_reveals_an_output_workgroup_by_workgroup() {
    let mut viewer = viewer();
    let op = viewer.gpu_graph().graph().op_index("h.0.mlp.c_fc").unwrap();
    viewer.step_to(op);
    let graph = viewer.gpu_graph().graph();
    let output = graph.tensors[graph.ops[op].outputs[0]].name.clone();
    let camera = viewer.camera(&output, 1.6).unwrap();
    let mut target = Offscreen::new(viewer.gpu(), 320, 200).unwrap();
    let mut render = |viewer: &mut Viewer| {
        viewer.draw_offscreen(&mut target, &camera);
        pollster::block_on(target.read_image(viewer.gpu())).unwrap()
    };
    let plain = render(&mut viewer);
    let workgroups = pollster::block_on(viewer.start_fill())
        .unwrap()
        .expect("the MLP's first layer is one buffer, so it can be traced");
    assert!(workgroups > 1, "{workgroups} workgroups");
    let nothing = render(&mut viewer);
    viewer.show_fill(1);
    let first = render(&mut viewer);
    viewer.show_fill(u32::MAX);
    let all = render(&mut viewer);
    assert_ne!(nothing.as_raw(), plain.as_raw());
    assert_ne!(first.as_raw(), nothing.as_raw());
    assert_ne!(first.as_raw(), plain.as_raw());
    assert_eq!(all.as_raw(), plain.as_raw());
    viewer.stop_fill();
    assert_eq!(render(&mut viewer).as_raw(), plain.as_raw());
}

/// The robust colour scale the GPU picks (absmax, a quarter-octave histogram, the 99.5th
/// percentile) is the one the same rule gives on the CPU from the tensor's values.
#[test]
fn colour_scale_is_the_quantile_of_the_values() {
    let viewer = viewer();
    let graph = viewer.gpu_graph().graph();
    for name in [
        "h.0.mlp.gelu",
        "h.1.attn.qkv",
        "h.0.attn.probs",
        "wte.weight",
    ] {
        let id = graph.tensor_id(name).unwrap();
        let values = pollster::block_on(viewer.gpu_graph().read(viewer.gpu(), id)).unwrap();
        let magnitudes: Vec<f32> = values
            .iter()
            .map(|v| v.abs())
            .filter(|v| v.is_finite())
            .collect();
        let absmax = magnitudes.iter().copied().fold(0.0f32, f32::max);
        let mut bins = [0usize; 64];
        for &v in &magnitudes {
            let bin = if v > 0.0 && absmax > 0.0 {
                (4.0 * (absmax / v).log2()).floor().clamp(0.0, 63.0) as usize
            } else {
                63
            };
            bins[bin] += 1;
        }
        let allowed = (magnitudes.len() as f32 * 0.005).floor() as usize;
        let mut seen = 0;
        let bin = bins
            .iter()
            .position(|&count| {
                seen += count;
                seen > allowed
            })
            .unwrap();
        let expected = absmax * (-(bin as f32) / 4.0).exp2();
        let legend = pollster::block_on(viewer.legend(id))
            .unwrap()
            .expect("f32 tensors have a legend");
        assert_eq!(legend.absmax, absmax, "{name}: largest |value|");
        assert!(
            (legend.scale - expected).abs() <= expected * 1e-5,
            "{name}: the GPU's scale {} is not the CPU's {expected} (bin {bin})",
            legend.scale
        );
        assert!(legend.scale <= absmax && legend.scale > 0.0, "{name}");
    }
}
