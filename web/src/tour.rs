//! The scene's walkthrough on the page: a paragraph at a time, the graph run to its op, the
//! camera flown to its view, and the narrative (the chapter's paragraphs so far, words naming
//! tensors in their slabs' colours) handed to the page as JSON to lay out as text.

use glassbox::render::Camera;
use glassbox::viewer::narrative::word_color;
use glassbox::viewer::walkthrough::{highlights_for, Shown, FLIGHT_SECONDS};
use serde_json::{json, Value};

use crate::state::State;

/// A camera on its way from one view to another.
pub struct Flight {
    from: Camera,
    to: Camera,
    /// When it started, in the page's milliseconds (`performance.now()`), once the first frame
    /// has drawn it.
    start: Option<f64>,
}

impl Flight {
    pub fn new(from: Camera, to: Camera) -> Flight {
        Flight {
            from,
            to,
            start: None,
        }
    }

    /// The camera at page time `now`, and whether the flight has ended.
    pub fn at(&mut self, now: f64) -> (Camera, bool) {
        let start = *self.start.get_or_insert(now);
        let t = ((now - start) / (1000.0 * FLIGHT_SECONDS as f64)).clamp(0.0, 1.0) as f32;
        (self.from.lerp(&self.to, t), t >= 1.0)
    }
}

impl State {
    /// The chapters of the walkthrough: name, title, paragraph count (JSON list; empty for a
    /// scene without one).
    pub fn outline(&self) -> Value {
        let chapters = &self.viewer.scene().walkthrough.chapters;
        Value::Array(
            chapters
                .iter()
                .map(
                    |c| json!({"name": c.name, "title": c.title, "paragraphs": c.paragraphs.len()}),
                )
                .collect(),
        )
    }

    /// Shows paragraph `paragraph` of chapter `chapter`: runs the graph to its op (appending the
    /// prediction in the generation chapter) and flies the camera to its view.
    pub async fn show_paragraph(
        &mut self,
        chapter: usize,
        paragraph: usize,
    ) -> Result<String, String> {
        let walkthrough = self.viewer.scene().walkthrough.clone();
        let paragraphs = walkthrough
            .chapters
            .get(chapter)
            .map(|c| &c.paragraphs)
            .ok_or_else(|| {
                format!(
                    "chapter {chapter}: the walkthrough has {} chapters",
                    walkthrough.chapters.len()
                )
            })?;
        let shown = paragraphs.get(paragraph).ok_or_else(|| {
            format!(
                "paragraph {paragraph}: chapter {chapter} has {} paragraphs",
                paragraphs.len()
            )
        })?;
        // Past the paragraph's own flight, as a still of it is: the page flies the camera itself.
        let time = walkthrough.paragraph_start(chapter, paragraph) + shown.seconds.min(1.5) * 0.99;
        let (base, aspect) = (self.base_ids.clone(), self.aspect());
        let camera = self
            .walkthrough
            .apply(&mut self.viewer, &base, time, aspect)
            .await
            .ok_or("the walkthrough's camera or op is not in this model")?;
        self.flight = Some(Flight::new(self.camera, camera));
        self.framed = true;
        self.tour = Some((chapter, paragraph));
        self.after_run().await?;
        Ok(self.status().to_string())
    }

    /// Leaves the walkthrough: the prompt again, the whole graph run.
    pub async fn leave_walkthrough(&mut self) -> Result<String, String> {
        self.tour = None;
        self.walkthrough.invalidate();
        let base = self.base_ids.clone();
        self.viewer
            .set_ids(&base)
            .await
            .map_err(|e| e.to_string())?;
        self.viewer.step_to(usize::MAX);
        self.after_run().await?;
        Ok(self.status().to_string())
    }

    /// Lights up what word `word` of paragraph `paragraph` of the narrative names (a tensor, or
    /// every tensor along a dimension); out of range, lights nothing.
    pub fn highlight_word(&mut self, paragraph: usize, word: usize) {
        let shown = self
            .walkthrough
            .narrative
            .paragraphs
            .get(paragraph)
            .and_then(|p| p.get(word));
        let highlights = shown.map_or_else(Vec::new, |s| highlights_for(&self.viewer, s));
        self.viewer.set_highlights(highlights);
        self.viewer.refresh_states();
    }

    /// The narrative now (JSON), or null outside the walkthrough.
    pub fn narrative(&self) -> Value {
        let Some((chapter, paragraph)) = self.tour else {
            return Value::Null;
        };
        let narrative = &self.walkthrough.narrative;
        let graph = self.viewer.graph();
        let paragraphs: Vec<Value> = narrative
            .paragraphs
            .iter()
            .map(|words| {
                Value::Array(
                    words
                        .iter()
                        .map(|shown| {
                            let colour = word_color(graph, shown, false);
                            let (text, kind) = match shown {
                                Shown::Text(t) => (t, "text"),
                                Shown::Tensor(t, _) => (t, "tensor"),
                                Shown::Dim(t, _) => (t, "dim"),
                                Shown::Number(t) => (t, "number"),
                            };
                            json!({
                                "text": text,
                                "kind": kind,
                                "colour": format!("#{:02x}{:02x}{:02x}", colour.r(), colour.g(), colour.b()),
                            })
                        })
                        .collect(),
                )
            })
            .collect();
        json!({
            "chapter": chapter,
            "paragraph": paragraph,
            "title": narrative.title,
            "chapters": narrative.chapters,
            "paragraphs": paragraphs,
            "remaining": narrative.remaining,
        })
    }
}
