//! Every command line the README and the pages under docs/ show is one glassbox accepts: the
//! commands in their shell blocks (`cargo run --release -- ...`) and the `glassbox ...`
//! commands quoted in their text.
//! Parsed, not run (some download or write pictures), so a documented command can no longer be
//! refused or crash the argument parser.

/// The README, then every page under docs/.
fn readme() -> String {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut text = std::fs::read_to_string(root.join("README.md")).unwrap();
    let mut pages: Vec<_> = std::fs::read_dir(root.join("docs"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "md"))
        .collect();
    pages.sort();
    assert!(pages.len() >= 5, "the pages under docs/: {pages:?}");
    for page in pages {
        text += &std::fs::read_to_string(page).unwrap();
    }
    text
}

/// Splits a shell command line into words: quotes group, `$(...)` stands for what it prints
/// (token ids from `tokenize`, else a folder from `fetch`).
fn words(line: &str) -> Vec<String> {
    let mut line = line.to_string();
    while let Some(start) = line.find("$(") {
        let mut depth = 0;
        let end = line[start..]
            .char_indices()
            .find_map(|(i, c)| {
                match c {
                    '(' => depth += 1,
                    ')' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(start + i + 1);
                        }
                    }
                    _ => {}
                }
                None
            })
            .expect("a closed $(...)");
        let printed = match line[start..end].contains("tokenize") {
            true => "15496,995",
            false => "/tmp/a-folder",
        };
        line.replace_range(start..end, printed);
    }
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote = None;
    for c in line.chars() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, ' ') => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            _ => word.push(c),
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// The glassbox argument lists the README shows.
fn documented_commands() -> Vec<Vec<String>> {
    let text = readme();
    let mut commands = Vec::new();
    let mut in_block = false;
    let mut pending = String::new();
    for line in text.lines() {
        if line.starts_with("```") {
            in_block = !in_block;
            continue;
        }
        if in_block {
            pending.push_str(line.trim_end_matches('\\'));
            if line.ends_with('\\') {
                continue;
            }
            let command = std::mem::take(&mut pending);
            let command = command.split(" #").next().unwrap().trim().to_string();
            if let Some(rest) = command.strip_prefix("cargo run --release") {
                let args = rest.trim_start().strip_prefix("--").unwrap_or(rest);
                commands.push(words(args));
            }
        } else {
            // `glassbox ...` command lines quoted in the text: not a command's bare name
            // (`glassbox render`), nor the usage synopsis, which has brackets.
            for quoted in line.split('`').skip(1).step_by(2) {
                if let Some(args) = quoted.strip_prefix("glassbox ") {
                    if args.contains(' ') && !args.contains('[') && !args.contains('|') {
                        commands.push(words(args));
                    }
                }
            }
        }
    }
    commands
}

#[test]
fn every_documented_command_parses() {
    let commands = documented_commands();
    assert!(commands.len() >= 12, "found only {commands:?}");
    for args in &commands {
        glassbox::cli::parses(args).unwrap_or_else(|e| panic!("README: glassbox {args:?}: {e}"));
    }
}

/// The usage synopsis says `view` is the default command and `--kernels DIR` works everywhere.
#[test]
fn the_synopsis_holds() {
    for line in [
        "--frames 30",
        "view --frames 30 --kernels kernels",
        "--kernels kernels --frames 1",
        "check --model m --ids 1,2 --kernels k --kernel linear=naive",
        "forward --model m --ids 1,2 --kernels k",
        "bench --kernels k --json",
        "render --kernels k --out x.png",
        "generate --kernels k --prompt AB",
        "kernels list --kernels k",
        "--kernel linear=naive --precision f16 forward --model m --ids 1",
    ] {
        let args = words(line);
        glassbox::cli::parses(&args).unwrap_or_else(|e| panic!("glassbox {line}: {e}"));
    }
    for refused in [
        "--frames",
        "forward --ids 1",
        "view --frames 3 forward",
        "--frames 3 forward --model m --ids 1",
        "--frames 30 view",
    ] {
        assert!(glassbox::cli::parses(&words(refused)).is_err(), "{refused}");
    }
}

#[test]
fn words_follow_the_shell() {
    assert_eq!(
        words(r#"view --model "$(cargo run -q --release -- fetch gpt2 --quiet)" --x 'a b'"#),
        ["view", "--model", "/tmp/a-folder", "--x", "a b"]
    );
}
