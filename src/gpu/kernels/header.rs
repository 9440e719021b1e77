//! The machine-readable part of a kernel file's header, the comment lines it starts with:
//!
//! ```text
//! // Kernel: linear/naive                       family/variant (required)
//! // About: one thread per output               one line for lists and --help (optional)
//! // Needs: subgroups                           adapter features (optional)
//! // Include: shared/workgroup_reduce.wgsl      helpers appended at load time (optional)
//! // Dispatch: (ceil(n / 64), rows, 1); prose   the grid, from Params fields and the
//!                                               file's u32 constants (required)
//! // Tune: GROUPS = 1, 2, 4, 8                  a tile parameter, a `const GROUPS: u32` of
//!                                               the file: each value is a variant (optional)
//! ```
//!
//! Other keys (`Op:`, `Bindings:`, `Formula:`) and indented continuation lines are prose.

use super::grid::Grid;
use super::KernelError;

/// An adapter feature a kernel needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Feature {
    Subgroups,
}

/// A tile parameter `glassbox tune` sweeps: a module-scope `const NAME: u32` of the file and
/// the values it may take; built-in kernels become one variant per value.
#[derive(Clone, Debug, PartialEq)]
pub struct Tune {
    pub name: String,
    pub values: Vec<u32>,
}

impl Tune {
    /// `NAME = 1, 2, 4`: an upper-case name and distinct positive values.
    fn parse(value: &str) -> Result<Tune, String> {
        let expected = "expected NAME = 1, 2, 4 (an upper-case u32 constant of the file and the \
                        values to try)";
        let (name, values) = value
            .split_once('=')
            .ok_or_else(|| format!("`Tune: {value}`: {expected}"))?;
        let name = name.trim();
        let upper = |c: char| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_';
        if !name.starts_with(|c: char| c.is_ascii_uppercase()) || !name.chars().all(upper) {
            return Err(format!(
                "`Tune: {value}`: `{name}` is not an upper-case name; {expected}"
            ));
        }
        let mut parsed = Vec::new();
        for text in values.split(',').map(str::trim) {
            match text.parse::<u32>() {
                Ok(v) if v > 0 && !parsed.contains(&v) => parsed.push(v),
                _ => return Err(format!("`Tune: {value}`: `{text}`: {expected}")),
            }
        }
        Ok(Tune {
            name: name.to_string(),
            values: parsed,
        })
    }

    /// The variant name of `value`: `broadcast_row` with GROUPS = 2 is `broadcast_row_groups2`.
    pub fn variant(&self, base: &str, value: u32) -> String {
        format!("{base}_{}{value}", self.name.to_lowercase())
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Header {
    pub family: String,
    pub variant: String,
    pub about: String,
    pub needs: Vec<Feature>,
    pub includes: Vec<String>,
    pub grid: Grid,
    /// 1-based line of the `Dispatch:` key, for errors found when the grid is checked.
    pub dispatch_line: u32,
    pub tune: Option<Tune>,
}

/// A name a family or variant may have: what `--kernel FAMILY=VARIANT` can spell.
fn is_name(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

impl Header {
    /// Reads the header of `source`; errors name `file` and the line.
    pub fn parse(file: &str, source: &str) -> Result<Header, KernelError> {
        let error = |line: usize, column: usize, message: String| KernelError {
            file: file.to_string(),
            line: line as u32,
            column: column as u32,
            message,
        };
        let mut kernel = None;
        let mut about = String::new();
        let mut needs = Vec::new();
        let mut includes = Vec::new();
        let mut dispatch = None;
        let mut tune = None;
        for (index, line) in source.lines().enumerate() {
            let line_number = index + 1;
            let Some(comment) = line.strip_prefix("//") else {
                break;
            };
            let Some((key, value)) = comment.split_once(':') else {
                continue;
            };
            // `//     continued prose` lines are not keys, even when they hold a colon.
            if key.starts_with("  ") || key.trim().contains(' ') {
                continue;
            }
            let value_column = line.len() - value.trim_start().len() + 1;
            let value = value.trim();
            match key.trim() {
                "Kernel" => {
                    let parsed = value
                        .split_once('/')
                        .filter(|(f, v)| is_name(f) && is_name(v))
                        .ok_or_else(|| {
                            error(
                                line_number,
                                value_column,
                                format!(
                                    "`Kernel: {value}`: expected FAMILY/VARIANT in lowercase \
                                     letters, digits and underscores, such as linear/naive"
                                ),
                            )
                        })?;
                    kernel = Some((parsed.0.to_string(), parsed.1.to_string()));
                }
                "About" => about = value.to_string(),
                // Without an `About:`, lists show the first line of the `Op:` prose.
                "Op" if about.is_empty() => about = value.to_string(),
                "Needs" => {
                    for feature in value.split(',').map(str::trim) {
                        needs.push(match feature {
                            "subgroups" => Feature::Subgroups,
                            other => {
                                return Err(error(
                                    line_number,
                                    value_column,
                                    format!("`Needs: {other}`: the only feature is `subgroups`"),
                                ))
                            }
                        });
                    }
                }
                "Include" => includes.push(value.to_string()),
                "Tune" => {
                    tune = Some(
                        Tune::parse(value)
                            .map_err(|message| error(line_number, value_column, message))?,
                    )
                }
                "Dispatch" => {
                    let grid_text = value.split(';').next().unwrap_or_default().trim_end();
                    let grid = Grid::parse(grid_text).map_err(|e| {
                        error(
                            line_number,
                            value_column + e.offset,
                            format!(
                                "`Dispatch: {grid_text}`: {}; expected (X, Y, Z) or fold(N) over \
                                 the Params fields, such as (ceil(n / 64), rows, 1)",
                                e.message
                            ),
                        )
                    })?;
                    dispatch = Some((grid, line_number as u32));
                }
                _ => {}
            }
        }
        let (family, variant) = kernel.ok_or_else(|| {
            error(
                1,
                1,
                "no `// Kernel: FAMILY/VARIANT` line in the header (the comment lines the file \
                 starts with), such as `// Kernel: linear/mine`"
                    .to_string(),
            )
        })?;
        let (grid, dispatch_line) = dispatch.ok_or_else(|| {
            error(
                1,
                1,
                "no `// Dispatch: (X, Y, Z)` line in the header, such as \
                 `// Dispatch: (ceil(n / 64), rows, 1)`"
                    .to_string(),
            )
        })?;
        Ok(Header {
            family,
            variant,
            about,
            needs,
            includes,
            grid,
            dispatch_line,
            tune,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_keys_and_skips_prose() {
        let source = "// Kernel: linear/mine\n// About: a test\n// Needs: subgroups\n\
                      // Include: shared/workgroup_reduce.wgsl\n// Op: prose: with a colon\n\
                      //     continued: also prose\n// Dispatch: (ceil(n / 64), rows, 1); prose\n\
                      // Dispatch2 is not read\n\nfn main() {}\n// Kernel: not/header\n";
        let header = Header::parse("mine.wgsl", source).unwrap();
        assert_eq!(
            (header.family.as_str(), header.variant.as_str()),
            ("linear", "mine")
        );
        assert_eq!(header.about, "a test");
        assert_eq!(header.needs, vec![Feature::Subgroups]);
        assert_eq!(header.includes, vec!["shared/workgroup_reduce.wgsl"]);
        assert_eq!(header.grid.fields(), vec!["n", "rows"]);
        assert_eq!(header.dispatch_line, 7);
    }

    #[test]
    fn malformed_lines_are_located() {
        let bad_kernel = Header::parse("k.wgsl", "// Kernel: Linear\n// Dispatch: (1, 1, 1)\n");
        let e = bad_kernel.unwrap_err();
        assert_eq!((e.file.as_str(), e.line, e.column), ("k.wgsl", 1, 12));
        assert!(e.message.contains("FAMILY/VARIANT"), "{e}");

        let bad_grid = Header::parse(
            "k.wgsl",
            "// Kernel: a/b\n// Dispatch: (ceil(n / 64), rows)\n",
        );
        let e = bad_grid.unwrap_err();
        assert_eq!((e.line, e.column), (2, 33));
        assert!(e.message.contains("expected `,`"), "{e}");

        let bad_need = Header::parse("k.wgsl", "// Kernel: a/b\n// Needs: tensor_cores\n");
        assert_eq!(bad_need.unwrap_err().line, 2);

        let none = Header::parse("k.wgsl", "fn main() {}\n").unwrap_err();
        assert!(none.message.contains("no `// Kernel"), "{none}");
        let no_grid = Header::parse("k.wgsl", "// Kernel: a/b\n").unwrap_err();
        assert!(no_grid.message.contains("no `// Dispatch"), "{no_grid}");

        for bad in [
            "groups = 1, 2",
            "GROUPS 1, 2",
            "GROUPS = 1, x",
            "GROUPS = 0",
            "G = 2, 2",
        ] {
            let text = format!("// Kernel: a/b\n// Tune: {bad}\n// Dispatch: (1, 1, 1)\n");
            let e = Header::parse("k.wgsl", &text).unwrap_err();
            assert_eq!((e.line, e.column), (2, 10), "{bad}: {e}");
            assert!(e.message.contains("expected NAME = 1, 2, 4"), "{e}");
        }
    }

    #[test]
    fn reads_a_tile_parameter() {
        let text =
            "// Kernel: linear/row\n// Tune: GROUPS = 1, 2, 8\n// Dispatch: (GROUPS, 1, 1)\n";
        let tune = Header::parse("k.wgsl", text).unwrap().tune.unwrap();
        assert_eq!(
            (tune.name.as_str(), tune.values.as_slice()),
            ("GROUPS", &[1, 2, 8][..])
        );
        assert_eq!(tune.variant("row", 2), "row_groups2");
    }
}
