//! The kernel editor in the window, beside watching a kernel folder: any kernel's WGSL with its
//! tokens coloured, naga's error marked at its line and column, Apply (Ctrl+Enter) to run the
//! graph with the edit (a kernel that does not compile changes nothing: the last good one keeps
//! running), Revert, and Save to write the edit out as a kernel file.

use std::ops::Range;
use std::path::PathBuf;

use egui::text::{LayoutJob, TextFormat};
use egui::{Color32, FontId};

use super::UiState;
use crate::gpu::KernelError;
use crate::viewer::Viewer;

/// The folder Save writes to when the window watches none (`--kernels DIR`).
const SAVE_DIR: &str = "glassbox-kernels";

#[derive(Default)]
pub struct KernelEditor {
    pub open: bool,
    /// The kernel's file, as the registry names it.
    file: String,
    /// Its text when the editor opened it, for Revert.
    original: String,
    text: String,
    error: Option<KernelError>,
    notice: String,
}

/// What a stretch of WGSL is, for its colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Token {
    Comment,
    Attribute,
    Number,
    Keyword,
    Type,
    Other,
}

const KEYWORDS: &[&str] = &[
    "fn", "let", "var", "const", "struct", "if", "else", "for", "loop", "while", "return", "break",
    "continue", "switch", "case", "default", "override", "alias",
];
const TYPES: &[&str] = &[
    "f32",
    "f16",
    "u32",
    "i32",
    "bool",
    "vec2",
    "vec3",
    "vec4",
    "array",
    "atomic",
    "ptr",
    "uniform",
    "storage",
    "read",
    "read_write",
    "workgroup",
    "private",
    "function",
];

/// The text split into coloured stretches, in order, covering all of it.
pub fn tokens(text: &str) -> Vec<(Range<usize>, Token)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        let word = |j: usize| {
            bytes
                .get(j)
                .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
        };
        let kind = if text[i..].starts_with("//") {
            i = text[i..].find('\n').map_or(bytes.len(), |n| i + n);
            Token::Comment
        } else if bytes[i] == b'@' {
            i += 1;
            while word(i) {
                i += 1;
            }
            Token::Attribute
        } else if bytes[i].is_ascii_digit() {
            while word(i) || bytes.get(i) == Some(&b'.') {
                i += 1;
            }
            Token::Number
        } else if word(i) {
            while word(i) {
                i += 1;
            }
            match &text[start..i] {
                w if KEYWORDS.contains(&w) => Token::Keyword,
                w if TYPES.contains(&w) || w.starts_with("mat") && w.len() == 6 => Token::Type,
                _ => Token::Other,
            }
        } else {
            i += text[i..].chars().next().map_or(1, char::len_utf8);
            Token::Other
        };
        out.push((start..i, kind));
    }
    out
}

fn colour(token: Token) -> Color32 {
    match token {
        Token::Comment => Color32::from_rgb(127, 140, 152),
        Token::Attribute => Color32::from_rgb(201, 156, 240),
        Token::Number => Color32::from_rgb(181, 216, 140),
        Token::Keyword => Color32::from_rgb(240, 164, 93),
        Token::Type => Color32::from_rgb(119, 198, 232),
        Token::Other => Color32::from_gray(220),
    }
}

/// The text laid out with its tokens coloured and line `error_line` (1-based) marked.
fn highlighted(text: &str, error_line: Option<u32>) -> LayoutJob {
    let font = FontId::monospace(13.0);
    let marked = error_line.and_then(|line| {
        let start = text
            .split_inclusive('\n')
            .take(line as usize - 1)
            .map(str::len)
            .sum::<usize>();
        (start < text.len() || line == 1)
            .then(|| start..text[start..].find('\n').map_or(text.len(), |n| start + n))
    });
    let mut job = LayoutJob::default();
    for (range, token) in tokens(text) {
        let mut format = TextFormat::simple(font.clone(), colour(token));
        if marked
            .as_ref()
            .is_some_and(|m| range.start < m.end && range.end > m.start)
        {
            format.background = Color32::from_rgba_unmultiplied(217, 83, 79, 110);
        }
        job.append(&text[range], 0.0, format);
    }
    job
}

impl KernelEditor {
    pub fn open_kernel(&mut self, file: &str, text: &str) {
        self.open = true;
        self.file = file.to_string();
        self.original = text.to_string();
        self.text = text.to_string();
        self.error = None;
        self.notice.clear();
    }
}

impl UiState {
    /// The kernel menu of the Kernels panel: opens the editor on any kernel.
    pub(super) fn edit_menu(&mut self, ui: &mut egui::Ui, viewer: &Viewer) {
        egui::ComboBox::from_label("edit a kernel")
            .selected_text("…")
            .show_ui(ui, |ui| {
                for kernel in viewer.registry().kernels() {
                    let label = format!("{}/{}", kernel.id.family, kernel.id.variant);
                    if ui
                        .selectable_label(false, label)
                        .on_hover_text(&kernel.file)
                        .clicked()
                    {
                        let text = viewer.registry().source(&kernel.id).text.clone();
                        self.editor.open_kernel(&kernel.file, &text);
                    }
                }
            });
    }

    /// The editor window, when open.
    pub(super) fn kernel_editor(&mut self, ctx: &egui::Context, viewer: &mut Viewer) {
        let mut open = self.editor.open;
        let mut apply = false;
        egui::Window::new(format!("Kernel editor: {}", self.editor.file))
            .open(&mut open)
            .default_size([640.0, 560.0])
            .show(ctx, |ui| {
                ui.horizontal(|ui| {
                    apply |= ui.button("Apply").on_hover_text("Ctrl+Enter").clicked();
                    if ui.button("Revert").clicked() {
                        self.editor.text = self.editor.original.clone();
                        apply = true;
                    }
                    if ui
                        .button("Save…")
                        .on_hover_text("write the edit out as a kernel file")
                        .clicked()
                    {
                        self.editor.notice = save(viewer, &self.editor.file, &self.editor.text);
                    }
                });
                let error_line = self
                    .editor
                    .error
                    .as_ref()
                    .map(|e| e.line)
                    .filter(|&l| l > 0);
                let mut layouter = |ui: &egui::Ui, text: &dyn egui::TextBuffer, wrap: f32| {
                    let mut job = highlighted(text.as_str(), error_line);
                    job.wrap.max_width = wrap;
                    ui.fonts_mut(|f| f.layout_job(job))
                };
                // Taken before the text field sees it, which would otherwise keep the key.
                apply |=
                    ui.input_mut(|i| i.consume_key(egui::Modifiers::COMMAND, egui::Key::Enter));
                egui::ScrollArea::vertical()
                    .max_height(ui.available_height() - 60.0)
                    .show(ui, |ui| {
                        ui.add(
                            egui::TextEdit::multiline(&mut self.editor.text)
                                .code_editor()
                                .desired_width(f32::INFINITY)
                                .background_color(Color32::from_rgb(29, 31, 36))
                                .layouter(&mut layouter),
                        );
                    });
                match &self.editor.error {
                    Some(error) => ui.colored_label(
                        Color32::from_rgb(200, 60, 50),
                        format!("{error}: the last good kernel keeps running"),
                    ),
                    None => ui.label(&self.editor.notice),
                };
            });
        self.editor.open = open;
        if apply {
            self.apply_edit(viewer);
        }
    }

    /// Loads the editor's text over the kernel and runs the graph with it.
    fn apply_edit(&mut self, viewer: &mut Viewer) {
        let files_before = viewer.snapshot_kernel_files();
        let loaded = {
            let (device, registry) = viewer.kernels_mut();
            registry.load(device, &self.editor.file, &self.editor.text, &|_| None)
        };
        match loaded {
            Ok(_) => {
                self.editor.error = None;
                self.editor.notice = "compiled; the graph ran again with it".into();
                let file = self.editor.file.clone();
                self.kernel_errors.retain(|(f, _)| *f != file);
                self.kernels_changed(viewer, &[file], files_before);
            }
            Err(error) => self.editor.error = Some(error),
        }
    }
}

/// Writes `text` as kernel file `file` into the folder the window watches (where it loads again
/// on the next start), else into `glassbox-kernels/`; says where.
fn save(viewer: &Viewer, file: &str, text: &str) -> String {
    let dir = viewer
        .gpu()
        .kernel_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(SAVE_DIR));
    let name = file.rsplit('/').next().unwrap_or(file);
    let path = dir.join(name);
    match std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, text)) {
        Ok(()) => format!(
            "saved to {} (glassbox --kernels {} loads it)",
            path.display(),
            dir.display()
        ),
        Err(e) => format!("could not save {}: {e}", path.display()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_cover_the_text_and_name_what_they_are() {
        let text = "@compute fn main() {\n    let x: f32 = 1.5; // one\n}";
        let tokens = tokens(text);
        let rebuilt: String = tokens.iter().map(|(r, _)| &text[r.clone()]).collect();
        assert_eq!(rebuilt, text);
        let kind = |word: &str| {
            tokens
                .iter()
                .find(|(r, _)| &text[r.clone()] == word)
                .map(|(_, k)| *k)
        };
        assert_eq!(kind("@compute"), Some(Token::Attribute));
        assert_eq!(kind("fn"), Some(Token::Keyword));
        assert_eq!(kind("f32"), Some(Token::Type));
        assert_eq!(kind("1.5"), Some(Token::Number));
        assert_eq!(kind("// one"), Some(Token::Comment));
        assert_eq!(kind("main"), Some(Token::Other));
    }

    #[test]
    fn the_error_line_is_marked() {
        let job = highlighted("fn a() {}\nfn b( {\n", Some(2));
        let marked: String = job
            .sections
            .iter()
            .filter(|s| s.format.background != Color32::TRANSPARENT)
            .map(|s| &job.text[s.byte_range.start.0..s.byte_range.end.0])
            .collect();
        assert_eq!(marked, "fn b( {");
    }
}
