//! GPT-2's tokenizer against the reference encoder's ids, and round trips on hard text.

use glassbox::scene::Tokenizer;

#[test]
fn matches_the_reference_cases() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/oracle/gpt2_tokens.json");
    let cases: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert!(cases.len() >= 4);
    for case in cases {
        let text = case["text"].as_str().unwrap();
        let ids: Vec<u32> = case["ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as u32)
            .collect();
        assert_eq!(Tokenizer::Gpt2.encode(text).unwrap(), ids, "{text:?}");
        assert_eq!(Tokenizer::Gpt2.decode(&ids), text);
    }
}

#[test]
fn known_ids() {
    let gpt2 = Tokenizer::Gpt2;
    assert_eq!(gpt2.encode("Hello world").unwrap(), vec![15496, 995]);
    assert_eq!(gpt2.encode(" the").unwrap(), vec![262]);
    assert_eq!(gpt2.encode("\n").unwrap(), vec![198]);
    assert_eq!(gpt2.encode("").unwrap(), Vec::<u32>::new());
    assert_eq!(gpt2.decode_one(262), " the");
    // The end-of-text marker is ordinary text in a prompt, never the special token 50256.
    assert!(!gpt2.encode("<|endoftext|>").unwrap().contains(&50256));
}

#[test]
fn round_trips_hard_text() {
    let texts = [
        "Zürich naïveté — façade, coöperate, ½ + ¾",
        "日本語のテキストと中文字符 and 한국어",
        "emoji 🤖🚀 family 👨‍👩‍👧 flags 🇫🇷",
        "tabs\tand\r\nnew lines\n\n\nand     runs      of spaces ",
        "they're we'll I'd you've she's it's can't DON'T",
        "3.14159 1,000,000 0x1F 2026-11-28 12345678901234567890",
        "fn main() {\n    println!(\"{}\", x >> 2 & 0xff);\n}\n",
        "<|endoftext|> ||| @@@ ~~~ ```",
    ];
    for text in texts {
        let ids = Tokenizer::Gpt2.encode(text).unwrap();
        assert!(ids.iter().all(|&id| id < 50257), "{text:?}");
        assert_eq!(Tokenizer::Gpt2.decode(&ids), text);
    }
    // Byte-level: an emoji spans several tokens, none of which is valid UTF-8 alone.
    let ids = Tokenizer::Gpt2.encode("🤖").unwrap();
    assert!(ids.len() > 1);
    assert!(Tokenizer::Gpt2.decode_one(ids[0]).contains('\u{FFFD}'));
}

#[test]
fn streamed_text_waits_for_whole_characters() {
    let tokenizer = Tokenizer::Gpt2;
    let text = "crab 🦀, café, 日本語 and 👩‍👩‍👧";
    let ids = tokenizer.encode(text).unwrap();
    let mut stream = glassbox::scene::TextStream::new(&tokenizer);
    let pieces: Vec<String> = ids.iter().map(|&id| stream.push(id)).collect();
    assert!(
        ids.len() > text.split(' ').count(),
        "multi-token characters: {ids:?}"
    );
    assert!(pieces.iter().all(|p| !p.contains('\u{FFFD}')), "{pieces:?}");
    assert!(
        pieces.iter().any(String::is_empty),
        "some tokens end mid-character: {pieces:?}"
    );
    assert_eq!(pieces.concat() + &stream.finish(), text);
}

#[test]
fn ids_outside_the_vocabulary() {
    let gpt2 = Tokenizer::Gpt2;
    assert_eq!(gpt2.vocab_size(), Some(50257));
    assert_eq!(gpt2.decode(&[50256]), "<|endoftext|>");
    assert_eq!(gpt2.try_decode(&[15496, 995]).unwrap(), "Hello world");
    assert_eq!(
        gpt2.try_decode(&[15496, 50257, 995])
            .unwrap_err()
            .to_string(),
        "token id 50257 at position 1 is outside the tokenizer's vocabulary of 50257 tokens"
    );
    // Shown where it is, not dropped along with the valid ids around it.
    assert_eq!(
        gpt2.decode(&[15496, 4294967295, 995]),
        "Hello#4294967295 world"
    );
    assert_eq!(gpt2.decode_one(60000), "#60000");
    let mut stream = glassbox::scene::TextStream::new(&gpt2);
    assert_eq!(stream.push(99999), "#99999");

    let chars = Tokenizer::Chars {
        alphabet: "AB".into(),
    };
    assert_eq!(chars.decode(&[1, 2, 0]), "B#2A");
    assert_eq!(
        chars.try_decode(&[1, 2]).unwrap_err().to_string(),
        "token id 2 at position 1 is outside the tokenizer's vocabulary of 2 tokens"
    );
    assert_eq!(
        Tokenizer::Ids.try_decode(&[u32::MAX]).unwrap(),
        "4294967295"
    );
    assert_eq!(
        Tokenizer::Ids.encode("1,,2  3\n").unwrap(),
        vec![1, 2, 3],
        "separators may repeat"
    );
    assert_eq!(
        Tokenizer::Ids.encode("1 0x2").unwrap_err().to_string(),
        "\"0x2\" is not a token id (expected a whole number from 0 to 4294967295)"
    );
}
