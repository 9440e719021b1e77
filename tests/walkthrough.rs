//! The walkthrough: its timeline, its text references, and playing it on the GPU.

use std::collections::BTreeSet;

use glassbox::gpu::GpuOptions;
use glassbox::render::offscreen::FORMAT;
use glassbox::scene::walkthrough::{parse_text, Segment};
use glassbox::scene::Scene;
use glassbox::viewer::walkthrough::{Shown, WalkthroughPlayer};
use glassbox::viewer::Viewer;
use pollster::block_on;

#[test]
fn text_references_parse() {
    let segments = parse_text("a {tensor:h.0.ln_1|the norm} b {dim:C} {value:probs[0,2]} {token:3} {config:n_embd} {prediction}").unwrap();
    assert_eq!(
        segments[1],
        Segment::Tensor {
            name: "h.0.ln_1".into(),
            shown: "the norm".into()
        }
    );
    assert!(segments.contains(&Segment::Value {
        tensor: "probs".into(),
        index: vec![0, 2]
    }));
    assert!(segments.contains(&Segment::Token(3)));
    assert!(segments.contains(&Segment::Prediction));
    for bad in ["{dim:Q}", "{value:probs}", "{nope:1}", "{tensor:x"] {
        assert!(parse_text(bad).is_err(), "{bad}");
    }
}

#[test]
fn the_built_in_walkthrough_covers_every_op_kind_in_order() {
    let scene = Scene::embedded();
    let graph = glassbox::graph::Graph::forward(&scene.model.config, 6);
    let walkthrough = &scene.walkthrough;
    let mut kinds = BTreeSet::new();
    let mut last_op = 0;
    for chapter in &walkthrough.chapters {
        // A chapter on a prompt of its own (the "why" chapter) starts its own run.
        if chapter.prompt.is_some() {
            last_op = 0;
        }
        for paragraph in &chapter.paragraphs {
            let op = graph
                .op_index(paragraph.op.as_ref().unwrap_or(&chapter.op))
                .unwrap();
            kinds.insert(graph.ops[op].kind.kernel_name());
            assert!(
                op >= last_op || chapter.append,
                "chapter {} goes back in the graph",
                chapter.name
            );
            last_op = op;
        }
    }
    assert_eq!(kinds.len(), 10, "{kinds:?}");
    assert!(
        walkthrough.chapters.iter().any(|c| c.append),
        "a chapter shows the generation loop"
    );

    let end = walkthrough.duration();
    assert_eq!(walkthrough.at(0.0).unwrap().chapter, 0);
    assert_eq!(
        walkthrough.at(end + 5.0).unwrap().chapter,
        walkthrough.chapters.len() - 1
    );
    let second = walkthrough.chapter_start(1);
    assert_eq!(walkthrough.at(second).unwrap().chapter, 1);
    assert_eq!(walkthrough.at(second - 0.01).unwrap().chapter, 0);
}

#[test]
fn playing_reads_values_once_per_paragraph_and_the_generation_chapter_appends() {
    let scene = Scene::embedded();
    let base = scene.tokenizer.encode(&scene.prompt).unwrap();
    let mut viewer = pollster::block_on(Viewer::new(scene, &base, &GpuOptions::default(), FORMAT))
        .expect("a GPU adapter");
    let mut player = WalkthroughPlayer::default();
    let walkthrough = viewer.scene().walkthrough.clone();

    let softmax = walkthrough.chapter_index("softmax").unwrap();
    let t = walkthrough.chapter_start(softmax)
        + walkthrough.chapters[softmax].paragraphs[0].seconds
        + 0.1;
    block_on(player.apply(&mut viewer, &base, t, 1.5)).unwrap();
    assert_eq!(
        viewer.current(),
        viewer.graph().op_index("h.0.attn.softmax")
    );
    let numbers: Vec<&Shown> = player
        .caption
        .iter()
        .filter(|s| matches!(s, Shown::Number(_)))
        .collect();
    assert_eq!(numbers.len(), 2, "{:?}", player.caption);
    let before = viewer.gpu().readback_count();
    block_on(player.apply(&mut viewer, &base, t + 0.5, 1.5)).unwrap();
    assert_eq!(
        viewer.gpu().readback_count(),
        before,
        "same paragraph: nothing read again"
    );

    let generation = walkthrough.chapter_index("generation").unwrap();
    let t = walkthrough.chapter_start(generation) + 0.5;
    block_on(player.apply(&mut viewer, &base, t, 1.5)).unwrap();
    assert_eq!(viewer.ids().len(), base.len() + 1);
    assert_eq!(
        viewer.ids()[base.len()],
        0,
        "the sorter's first output for CBABBC is A"
    );
    let before = viewer.gpu().readback_count();
    for step in 1..5 {
        block_on(player.apply(&mut viewer, &base, t + step as f32 * 0.2, 1.5)).unwrap();
    }
    assert_eq!(
        viewer.ids().len(),
        base.len() + 1,
        "the appended token stays"
    );
    assert_eq!(viewer.gpu().readback_count(), before);

    block_on(player.apply(&mut viewer, &base, 0.0, 1.5)).unwrap();
    assert_eq!(viewer.ids(), base, "rewinding restores the prompt");
}

/// The "why" chapter runs its own prompt, switches a head off in one paragraph and back on in
/// the next, and every number it shows comes from the model: the lens, the scores, and a sort
/// that breaks without the head.
#[test]
fn the_why_chapter_ablates_and_reads_the_lens_and_scores() {
    let scene = Scene::embedded();
    let base = scene.tokenizer.encode(&scene.prompt).unwrap();
    let own = scene.tokenizer.encode("BCCBCB").unwrap();
    let mut viewer =
        block_on(Viewer::new(scene, &base, &GpuOptions::default(), FORMAT)).expect("a GPU adapter");
    let walkthrough = viewer.scene().walkthrough.clone();
    let why = walkthrough.chapter_index("why").unwrap();
    let at = |paragraph: usize| walkthrough.paragraph_start(why, paragraph) + 0.1;
    let numbers = |player: &WalkthroughPlayer| -> Vec<String> {
        player
            .caption
            .iter()
            .filter_map(|s| match s {
                Shown::Number(n) => Some(n.clone()),
                _ => None,
            })
            .collect()
    };
    let mut player = WalkthroughPlayer::default();
    block_on(player.apply(&mut viewer, &base, at(0), 1.5)).unwrap();
    assert_eq!(viewer.ids(), own, "the chapter's own prompt");
    assert!(viewer.ablations().is_empty());
    let shown = numbers(&player);
    assert_eq!(
        shown.len(),
        4,
        "two attention values and two scores: {shown:?}"
    );
    assert!(shown.iter().all(|n| n.parse::<f32>().is_ok()), "{shown:?}");

    block_on(player.apply(&mut viewer, &base, at(1), 1.5)).unwrap();
    let shown = numbers(&player);
    assert_eq!(
        shown.len(),
        5,
        "the prediction and four lens cells: {shown:?}"
    );
    assert!(
        shown[0].starts_with("“B”"),
        "BCCBCB sorts to B first: {shown:?}"
    );
    assert!(
        shown[4].starts_with("“B”"),
        "the lens's last layer is the output: {shown:?}"
    );

    block_on(player.apply(&mut viewer, &base, at(2), 1.5)).unwrap();
    assert_eq!(viewer.ablations().units.len(), 1);
    assert!(
        numbers(&player)[0].starts_with("“A”"),
        "without head 0.2 the sort breaks: {:?}",
        numbers(&player)
    );

    block_on(player.apply(&mut viewer, &base, at(3), 1.5)).unwrap();
    assert!(
        numbers(&player)[0].starts_with("“B”"),
        "head 0.0 does not matter here"
    );

    block_on(player.apply(&mut viewer, &base, 0.0, 1.5)).unwrap();
    assert!(
        viewer.ablations().is_empty(),
        "leaving the chapter switches everything back on"
    );
    assert_eq!(viewer.ids(), base);
}
