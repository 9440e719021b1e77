//! Where the frames of `glassbox render --video` go: piped as raw RGBA into ffmpeg, which
//! encodes them to H.264, or written as numbered PNGs (without ffmpeg, or with `--frames-dir`)
//! next to the ffmpeg command line that encodes them.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::thread::JoinHandle;

use anyhow::{bail, Context, Result};

/// How many of ffmpeg's last stderr lines an error shows.
const STDERR_LINES: usize = 15;

pub enum Sink {
    Ffmpeg {
        child: Child,
        stdin: Option<ChildStdin>,
        /// Collects ffmpeg's stderr as it runs (a full pipe would stop ffmpeg).
        stderr: Option<JoinHandle<Vec<u8>>>,
    },
    Pngs {
        dir: PathBuf,
        digits: usize,
        /// Why the frames are PNGs, said before the command that encodes them.
        reason: String,
    },
}

/// What was written, for the final line.
pub enum Written {
    Film(PathBuf),
    /// The folder of PNGs, the ffmpeg command line that encodes them, and why there are PNGs.
    Frames {
        dir: PathBuf,
        command: String,
        reason: String,
    },
}

impl Sink {
    /// ffmpeg encoding `width`x`height` RGBA frames at `fps` into `out`; `None` when ffmpeg is not
    /// on PATH.
    pub fn ffmpeg(out: &Path, width: u32, height: u32, fps: u32) -> Result<Option<Sink>> {
        let spawned = Command::new("ffmpeg")
            .args(["-hide_banner", "-loglevel", "error", "-y"])
            .args(["-f", "rawvideo", "-pix_fmt", "rgba"])
            .args(["-s", &format!("{width}x{height}"), "-r", &fps.to_string()])
            .args(["-i", "-", "-c:v", "libx264", "-pix_fmt", "yuv420p"])
            .arg(out)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn();
        let mut child = match spawned {
            Ok(child) => child,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).context("starting ffmpeg"),
        };
        let stdin = child.stdin.take();
        let mut pipe = child.stderr.take().expect("stderr is piped");
        let stderr = std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        });
        Ok(Some(Sink::Ffmpeg {
            child,
            stdin,
            stderr: Some(stderr),
        }))
    }

    /// Numbered PNGs in `dir` (made if needed; frames of an earlier film there are removed).
    pub fn pngs(dir: &Path, frames: u64, reason: String) -> Result<Sink> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
            let path = entry?.path();
            let stale = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_prefix("frame_")?.strip_suffix(".png"))
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
            if stale {
                std::fs::remove_file(&path)
                    .with_context(|| format!("removing the old frame {}", path.display()))?;
            }
        }
        Ok(Sink::Pngs {
            dir: dir.to_path_buf(),
            digits: frames.to_string().len().max(5),
            reason,
        })
    }

    /// Takes frame `index` (0-based).
    pub fn frame(&mut self, index: u64, image: &image::RgbaImage) -> Result<()> {
        match self {
            Sink::Ffmpeg { stdin, .. } => {
                let pipe = stdin.as_mut().expect("open until finish");
                if let Err(e) = pipe.write_all(image.as_raw()) {
                    let (_, why) = self.stop();
                    bail!(
                        "ffmpeg could not encode the film: it stopped taking frames at frame {} \
                         ({e}){why}",
                        index + 1
                    );
                }
                Ok(())
            }
            Sink::Pngs { dir, digits, .. } => {
                let path = dir.join(format!("frame_{:0width$}.png", index + 1, width = *digits));
                image
                    .save(&path)
                    .with_context(|| format!("writing {}", path.display()))
            }
        }
    }

    /// Closes ffmpeg's input and waits for it; for PNGs, the command that encodes them.
    pub fn finish(mut self, fps: u32, out: &Path) -> Result<Written> {
        if let Sink::Pngs {
            dir,
            digits,
            reason,
        } = &self
        {
            let pattern = dir.join(format!("frame_%0{digits}d.png"));
            let command = format!(
                "ffmpeg -y -framerate {fps} -i {} -c:v libx264 -pix_fmt yuv420p {}",
                quote(&pattern.to_string_lossy()),
                quote(&out.to_string_lossy())
            );
            return Ok(Written::Frames {
                dir: dir.clone(),
                command,
                reason: reason.clone(),
            });
        }
        let (ok, why) = self.stop();
        if !ok {
            bail!("ffmpeg could not encode {}{why}", out.display());
        }
        Ok(Written::Film(out.to_path_buf()))
    }

    /// Closes ffmpeg's input and waits for it to end.
    fn stop(&mut self) -> (bool, String) {
        if let Sink::Ffmpeg { stdin, .. } = self {
            drop(stdin.take());
        }
        self.wait()
    }

    /// Waits for ffmpeg: whether it succeeded, and its exit status and last stderr lines.
    fn wait(&mut self) -> (bool, String) {
        let Sink::Ffmpeg { child, stderr, .. } = self else {
            return (true, String::new());
        };
        let status = child.wait();
        let text = stderr
            .take()
            .and_then(|h| h.join().ok())
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        let tail = lines[lines.len().saturating_sub(STDERR_LINES)..].join("\n  ");
        let (ok, status) = match status {
            Ok(s) => (s.success(), s.to_string()),
            Err(e) => (false, format!("not known ({e})")),
        };
        let mut why = format!(": ffmpeg's {status}");
        if !tail.is_empty() {
            why.push_str(&format!("; it said:\n  {tail}"));
        }
        (ok, why)
    }
}

/// `text` as one shell word.
fn quote(text: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./%=:+,@".contains(c);
    if !text.is_empty() && text.chars().all(plain) {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn quoting() {
        assert_eq!(super::quote("a/frame_%05d.png"), "a/frame_%05d.png");
        assert_eq!(super::quote("my film.mp4"), "'my film.mp4'");
        assert_eq!(super::quote("it's"), r"'it'\''s'");
    }
}
