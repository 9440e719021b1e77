//! The picture's layout, checked without a GPU: no arrow crosses a tensor, every arrow ends on
//! the tensor it feeds, every tensor has a plain name, and the model fills a 16:9 picture
//! rather than standing in it as a sliver. For the built-in sorter, GPT-2 small (vocabulary
//! split over buffers as the GPU splits it) and the decode step with its KV cache.

use glam::Vec2;
use glassbox::graph::Graph;
use glassbox::model::Config;
use glassbox::render::flow::segment_crosses;
use glassbox::render::names::plain_name;
use glassbox::render::Layout;
use glassbox::scene::Scene;

fn graphs() -> Vec<(&'static str, Graph, usize)> {
    let sorter = Scene::embedded().model.config;
    let gpt2 = Config::gpt2_small();
    vec![
        ("sorter", Graph::forward(&sorter, 6), usize::MAX),
        ("sorter decode", Graph::decode(&sorter, 8), usize::MAX),
        ("gpt2-small", Graph::forward(&gpt2, 8), 16384),
        ("gpt2-small decode", Graph::decode(&gpt2, 16), 16384),
    ]
}

#[test]
fn no_arrow_crosses_a_tensor() {
    for (name, graph, rows) in graphs() {
        let layout = Layout::new(&graph, &|_| rows);
        assert!(
            layout.arrows.len() > graph.ops.len(),
            "{name}: only {} arrows for {} ops",
            layout.arrows.len(),
            graph.ops.len()
        );
        for arrow in &layout.arrows {
            for pair in arrow.points.windows(2) {
                assert!(
                    pair[0].x == pair[1].x || pair[0].y == pair[1].y,
                    "{name}: arrow {} -> {} has a slanted segment",
                    graph.tensors[arrow.from].name,
                    graph.tensors[arrow.to].name
                );
                for panel in &layout.panels {
                    let lo = Vec2::new(panel.origin.x, panel.origin.y - panel.size.y);
                    let hi = Vec2::new(panel.origin.x + panel.size.x, panel.origin.y);
                    assert!(
                        !segment_crosses(pair[0], pair[1], lo, hi),
                        "{name}: arrow {} -> {} segment {:?} crosses {}",
                        graph.tensors[arrow.from].name,
                        graph.tensors[arrow.to].name,
                        pair,
                        graph.tensors[panel.tensor].name
                    );
                }
            }
        }
    }
}

#[test]
fn every_arrow_ends_on_its_target() {
    for (name, graph, rows) in graphs() {
        let layout = Layout::new(&graph, &|_| rows);
        for arrow in &layout.arrows {
            let (lo, hi) = layout.tensor_bounds(arrow.to).expect("targets are drawn");
            let end = *arrow.points.last().expect("arrows have points");
            let on_edge = (end.y == hi.y || end.x == lo.x)
                && end.x >= lo.x
                && end.x <= hi.x
                && end.y >= lo.y
                && end.y <= hi.y;
            assert!(
                on_edge,
                "{name}: arrow into {} ends at {end:?}, not on its top or left edge",
                graph.tensors[arrow.to].name
            );
        }
    }
}

#[test]
fn every_tensor_has_a_plain_name() {
    for (name, graph, _) in graphs() {
        for tensor in &graph.tensors {
            assert_ne!(
                plain_name(&tensor.name),
                tensor.name,
                "{name}: {} has no plain name",
                tensor.name
            );
        }
    }
}

#[test]
fn the_whole_model_is_laid_out_for_a_wide_picture() {
    for (name, graph, rows) in graphs() {
        let layout = Layout::new(&graph, &|_| rows);
        let size = layout.max - layout.min;
        let aspect = size.x / size.y;
        assert!(
            (0.8..4.0).contains(&aspect),
            "{name}: the layout is {size:?}, aspect {aspect:.2}, far from 16:9"
        );
    }
}

#[test]
fn the_crossing_check_sees_a_crossing() {
    let (lo, hi) = (Vec2::new(0.0, 0.0), Vec2::new(10.0, 5.0));
    assert!(segment_crosses(
        Vec2::new(-1.0, 2.0),
        Vec2::new(11.0, 2.0),
        lo,
        hi
    ));
    assert!(segment_crosses(
        Vec2::new(5.0, 9.0),
        Vec2::new(5.0, 1.0),
        lo,
        hi
    ));
    // Along an edge, or ending on one, is not crossing.
    assert!(!segment_crosses(
        Vec2::new(0.0, -3.0),
        Vec2::new(0.0, 9.0),
        lo,
        hi
    ));
    assert!(!segment_crosses(
        Vec2::new(5.0, 9.0),
        Vec2::new(5.0, 5.0),
        lo,
        hi
    ));
}
