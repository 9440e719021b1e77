//! A model's own tokenizer.json (byte-level BPE as in Llama 3 and Qwen2; SentencePiece-style BPE
//! with byte fallback as in TinyLlama) against the ids and text Hugging Face's `tokenizers`
//! library gives (tools/tokenizers/make.py), on unicode, whitespace runs, digits, emoji and code.

use std::path::PathBuf;
use std::process::Command;

use glassbox::scene::hf_tokenizer::HfTokenizer;
use glassbox::scene::{TextStream, Tokenizer};

const KINDS: [&str; 2] = ["byte_level", "sentencepiece"];

fn folder(kind: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/data/tokenizers/{kind}"))
}

struct Case {
    text: String,
    ids: Vec<u32>,
    decoded: String,
}

fn expected(kind: &str) -> (usize, Vec<Case>) {
    let text = std::fs::read_to_string(folder(kind).join("expected.json")).unwrap();
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    let cases = value["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|case| Case {
            text: case["text"].as_str().unwrap().to_string(),
            ids: case["ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(|id| id.as_u64().unwrap() as u32)
                .collect(),
            decoded: case["decoded"].as_str().unwrap().to_string(),
        })
        .collect();
    (value["vocab_size"].as_u64().unwrap() as usize, cases)
}

#[test]
fn encodes_and_decodes_as_the_reference_library() {
    for kind in KINDS {
        let tokenizer = Tokenizer::Json(HfTokenizer::load(&folder(kind)).unwrap());
        let (vocab_size, cases) = expected(kind);
        assert!(cases.len() >= 10, "{kind}");
        assert_eq!(tokenizer.vocab_size(), Some(vocab_size), "{kind}");
        for case in cases {
            assert_eq!(
                tokenizer.encode(&case.text).unwrap(),
                case.ids,
                "{kind}: {:?}",
                case.text
            );
            assert_eq!(tokenizer.decode(&case.ids), case.decoded, "{kind}");
        }
    }
}

/// Generated text streams out whole characters: an emoji spelled in byte tokens waits until its
/// last byte, and the stream ends with the whole decoded text.
#[test]
fn streams_whole_characters() {
    for kind in KINDS {
        let tokenizer = Tokenizer::Json(HfTokenizer::load(&folder(kind)).unwrap());
        let (_, cases) = expected(kind);
        for case in cases {
            let mut stream = TextStream::new(&tokenizer);
            let mut text = String::new();
            for &id in &case.ids {
                let piece = stream.push(id);
                assert!(!piece.contains('\u{FFFD}'), "{kind}: {piece:?}");
                text += &piece;
            }
            text += &stream.finish();
            assert_eq!(text, case.decoded, "{kind}");
        }
    }
}

#[test]
fn ids_outside_the_vocabulary_are_shown_where_they_stand() {
    let tokenizer = HfTokenizer::load(&folder("sentencepiece")).unwrap();
    let ids = tokenizer.encode_plain("Hello world").unwrap();
    let mut with_bad = ids.clone();
    with_bad.insert(1, 99_999);
    let text = tokenizer.decode(&with_bad);
    assert!(text.contains("#99999"), "{text}");
    assert_eq!(
        Tokenizer::Json(tokenizer)
            .try_decode(&with_bad)
            .unwrap_err()
            .to_string(),
        "token id 99999 at position 1 is outside the tokenizer's vocabulary of 556 tokens"
    );
}

#[test]
fn a_broken_file_is_named() {
    let dir = std::env::temp_dir().join(format!("glassbox-tokenizer-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("tokenizer.json"), "{\"model\": 3}").unwrap();
    let message = HfTokenizer::load(&dir).unwrap_err().to_string();
    assert!(
        message.starts_with(&format!("{}", dir.join("tokenizer.json").display())),
        "{message}"
    );
    let missing = HfTokenizer::load(&dir.join("nothing"))
        .unwrap_err()
        .to_string();
    assert!(missing.contains("cannot read"), "{missing}");
}

/// The command docs/cli.md shows: `glassbox tokenize --tokenizer DIR --text T` prints the ids as JSON, and
/// `--decode` turns them back.
#[test]
fn the_tokenize_command_reads_a_folder() {
    let (_, cases) = expected("sentencepiece");
    let case = cases.iter().find(|c| c.text.contains('🤗')).unwrap();
    let dir = folder("sentencepiece");
    let run = |args: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_glassbox"))
            .args(args)
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        String::from_utf8(output.stdout).unwrap()
    };
    let printed = run(&[
        "tokenize",
        "--tokenizer",
        dir.to_str().unwrap(),
        "--text",
        &case.text,
    ]);
    let ids: Vec<u32> = serde_json::from_str(&printed).unwrap();
    assert_eq!(ids, case.ids);
    let joined = ids.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
    let decoded = run(&[
        "tokenize",
        "--tokenizer",
        dir.to_str().unwrap(),
        "--decode",
        "--text",
        &joined,
    ]);
    assert_eq!(
        serde_json::from_str::<String>(&decoded).unwrap(),
        case.decoded
    );
}
