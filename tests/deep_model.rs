//! A 48-layer model (gpt2-xl's depth) stays navigable: from afar every block collapses to its
//! residual stream, close up a block shows all of its ops.

use glam::Vec2;
use glassbox::gpu::GpuOptions;
use glassbox::model::{Config, Model};
use glassbox::render::offscreen::Offscreen;
use glassbox::scene::Scene;
use glassbox::viewer::Viewer;

fn deep_viewer() -> Viewer {
    let config = Config {
        n_layer: 48,
        n_head: 4,
        n_embd: 32,
        vocab_size: 97,
        n_positions: 64,
        layer_norm_epsilon: 1e-5,
        arch: glassbox::model::Arch::Gpt2,
    };
    let scene = Scene::from_model("deep", Model::random(config, 1));
    let format = glassbox::render::offscreen::FORMAT;
    pollster::block_on(Viewer::new(
        scene,
        &[1, 2, 3, 4, 5],
        &GpuOptions::default(),
        format,
    ))
    .expect("a GPU adapter (lavapipe on CI)")
}

#[test]
fn blocks_collapse_from_afar_and_open_up_close() {
    let viewer = deep_viewer();
    let layout = viewer.layout();
    let viewport = Vec2::new(1600.0, 1000.0);
    let blocks = layout
        .regions
        .iter()
        .filter(|r| r.name.starts_with("block "))
        .count();
    assert_eq!(blocks, 48);

    // The blocks stand in a grid that fills the picture, so the whole model at 1600 x 1000 still
    // gives each op a few pixels; from four times farther every block is a sliver.
    let mut far = viewer.camera("all", 1.6).unwrap();
    far.distance *= 4.0;
    let collapsed = layout.collapsed(&far, viewport);
    assert_eq!(
        collapsed.iter().filter(|&&c| c).count(),
        48,
        "all blocks collapse from afar"
    );
    let hidden = layout.hidden_tensors(viewer.graph(), &collapsed);
    let resid = viewer.graph().tensor_id("h.20.resid_out").unwrap();
    let q = viewer.graph().tensor_id("h.20.attn.q").unwrap();
    assert!(
        !hidden[resid] && hidden[q],
        "a collapsed block keeps its residual stream only"
    );

    let near = viewer.camera("block 20", 1.6).unwrap();
    let collapsed = layout.collapsed(&near, viewport);
    let block_20 = layout
        .regions
        .iter()
        .position(|r| r.name == "block 20")
        .unwrap();
    assert!(
        !collapsed[block_20],
        "the block the camera frames is drawn in full"
    );

    // The picture changes with the level of detail: close up, block 20's ops are drawn.
    let mut target = Offscreen::new(viewer.gpu(), 400, 250).unwrap();
    viewer.draw_offscreen(&mut target, &near);
    let detailed = pollster::block_on(target.read_image(viewer.gpu())).unwrap();
    // Pixels that are not the light background: slabs, labels, arrows.
    let background = [236u8, 237, 240];
    let lit = detailed
        .pixels()
        .filter(|p| {
            p.0[..3]
                .iter()
                .zip(background)
                .any(|(&c, b)| c.abs_diff(b) > 40)
        })
        .count();
    assert!(
        lit > 400 * 250 / 20,
        "block 20 fills the view: {lit} lit pixels"
    );
}
