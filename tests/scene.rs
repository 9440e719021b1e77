//! scene.toml parsing and the tokenizers scenes use.

use glassbox::scene::{Scene, Tokenizer};

fn scene_dir(test: &str, toml: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("glassbox-scene-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("scene.toml"), toml).unwrap();
    let sort = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenes/sort");
    for file in ["config.json", "model.safetensors"] {
        std::fs::copy(sort.join(file), dir.join(file)).unwrap();
    }
    dir
}

#[test]
fn the_shipped_scene_loads_from_disk_and_embedded() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenes/sort");
    let scene = Scene::load(&dir).unwrap();
    let embedded = Scene::embedded();
    assert_eq!(scene.name, "sort");
    assert_eq!(scene.prompt, embedded.prompt);
    assert_eq!(scene.model.config, embedded.model.config);
    assert!(scene.cameras.contains_key("overview"));
}

#[test]
fn parse_errors_name_file_line_and_key() {
    let toml = "name = \"x\"\nmodel = \".\"\nprompt = \"AB\"\n[tokenizer]\nkind = \"chars\"\nalphabet = \"AB\"\n[cameras.top]\nfit = 3\n";
    let dir = scene_dir("badtype", toml);
    let error = Scene::load(&dir).unwrap_err().to_string();
    assert!(
        error.contains("scene.toml") && error.contains("line 8") && error.contains("fit"),
        "{error}"
    );

    let toml =
        "name = \"x\"\nmodel = \".\"\nprompt = \"AB\"\ncolour = 1\n[tokenizer]\nkind = \"ids\"\n";
    let error = Scene::load(&scene_dir("unknown", toml))
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("line 4") && error.contains("colour"),
        "{error}"
    );

    let toml = "name = \"x\"\nmodel = \".\"\nprompt = \"AB\"\n[tokenizer]\nkind = \"chars\"\nalphabet = \"AB\"\n[cameras.top]\nfit = \"block 9\"\n";
    let error = Scene::load(&scene_dir("camera", toml))
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("cameras.top.fit") && error.contains("block 9"),
        "{error}"
    );

    let toml = "name = \"x\"\nprompt = \"AB\"\n[tokenizer]\nkind = \"ids\"\n";
    let error = Scene::load(&scene_dir("missing", toml))
        .unwrap_err()
        .to_string();
    assert!(error.contains("model"), "{error}");
}

#[test]
fn tokenizers() {
    let chars = Tokenizer::Chars {
        alphabet: "ABC".into(),
    };
    assert_eq!(chars.encode("CBA").unwrap(), vec![2, 1, 0]);
    let error = chars.encode("ABx").unwrap_err().to_string();
    assert!(
        error.contains("'x'") && error.contains("position 2"),
        "{error}"
    );
    assert_eq!(chars.decode_one(1), "B");
    assert_eq!(Tokenizer::Ids.encode("3, 1 4").unwrap(), vec![3, 1, 4]);
    assert!(Tokenizer::Ids.encode("3,x").is_err());
}

/// The message of building a scene from `toml` with the built-in model.
fn toml_error(toml: &str) -> String {
    Scene::from_toml("scene.toml", toml, Scene::embedded().model)
        .unwrap_err()
        .to_string()
}

#[test]
fn hostile_scenes_get_errors_naming_the_key() {
    let head = |tokenizer: &str, prompt: &str| {
        format!("name = \"x\"\nmodel = \".\"\nprompt = {prompt:?}\n[tokenizer]\n{tokenizer}\n")
    };
    let chars = |prompt: &str| head("kind = \"chars\"\nalphabet = \"ABC\"", prompt);
    let ids = |prompt: &str| head("kind = \"ids\"", prompt);
    let chapter = |paragraph: &str| {
        format!(
            "{}[[chapters]]\nname = \"c\"\ntitle = \"C\"\ncamera = \"all\"\nop = \"embed\"\n{paragraph}",
            chars("AB")
        )
    };
    let paragraph = |text: &str| chapter(&format!("[[chapters.paragraphs]]\ntext = {text:?}\n"));
    let walkthrough =
        |message: &str| format!("scene.toml: walkthrough: chapter \"c\", paragraph 1: {message}");
    let cases = [
        (String::new(), "scene.toml: line 1: missing field `name`".to_string()),
        ("name = \"x\"\nmodel = ".into(), "scene.toml: line 2, key `model`: string values must be quoted, expected literal string".into()),
        ("\u{feff}name = [".into(), "scene.toml: line 1, key `\u{feff}name`: unclosed array, expected `]`".into()),
        (head("kind = \"bpe\"", "AB"), "scene.toml: line 5, key `kind`: unknown variant `bpe`, expected one of `chars`, `ids`, `gpt2`".into()),
        (head("kind = \"chars\"\nalphabet = \"ABA\"", "AB"), "scene.toml: key `tokenizer.alphabet`: character 'A' is at positions 0 and 2; each character must be one token".into()),
        (head("kind = \"chars\"\nalphabet = \"\"", "AB"), "scene.toml: key `tokenizer.alphabet`: expected at least one character".into()),
        (head("kind = \"chars\"\nalphabet = \"ABCD\"", "AB"), "scene.toml: key `tokenizer.alphabet`: 4 characters, but the model has vocab_size = 3: each character is a token id".into()),
        (chars("ABx"), "scene.toml: key `prompt`: character 'x' at position 2 is not in the alphabet \"ABC\"".into()),
        (chars(""), "scene.toml: key `prompt`: no tokens given: at least one token id is needed".into()),
        (chars("ABCABCABCABC"), "scene.toml: key `prompt`: 12 tokens given, but the model has n_positions = 11".into()),
        (ids("0, 3"), "scene.toml: key `prompt`: token id 3 at position 1 is outside the vocabulary (vocab_size = 3)".into()),
        (ids("0,-1"), "scene.toml: key `prompt`: \"-1\" is not a token id (expected a whole number from 0 to 4294967295)".into()),
        (ids("4294967296"), "scene.toml: key `prompt`: \"4294967296\" is not a token id (expected a whole number from 0 to 4294967295)".into()),
        (format!("{}[cameras.a]\nfit = \"all\"\nyaw = nan\n", chars("AB")), "scene.toml: key `cameras.a.yaw`: expected a finite number of degrees, got NaN".into()),
        (format!("{}[cameras.a]\nfit = \"all\"\npitch = -inf\n", chars("AB")), "scene.toml: key `cameras.a.pitch`: expected a finite number of degrees, got -inf".into()),
        (format!("{}[cameras.a]\nfit = \"h.99.attn\"\n", chars("AB")), "scene.toml: key `cameras.a.fit`: \"h.99.attn\" is not \"all\", a region (embedding, block N, output) or a tensor".into()),
        (chapter(""), "scene.toml: line 7: missing field `paragraphs`".into()),
        (chapter("paragraphs = []"), "scene.toml: walkthrough: chapter \"c\": no paragraphs".into()),
        (chapter("[[chapters.paragraphs]]\ntext = \"x\"\nseconds = inf\n"), walkthrough("`seconds` must be a positive finite number, got inf")),
        (chapter("[[chapters.paragraphs]]\ntext = \"x\"\nseconds = 0\n"), walkthrough("`seconds` must be a positive finite number, got 0")),
        (chapter("[[chapters.paragraphs]]\ntext = \"x\"\nseconds = 3e38\n[[chapters.paragraphs]]\ntext = \"y\"\nseconds = 3e38\n"), "scene.toml: walkthrough: the paragraphs' `seconds` add up to more than an f32 holds".into()),
        (chapter("[[chapters.paragraphs]]\ntext = \"x\"\nop = \"h.7.mlp\"\n"), walkthrough("no op named \"h.7.mlp\"")),
        (paragraph("a {tensor:wte.weight"), walkthrough("unclosed `{` in \"{tensor:wte.weight\"")),
        (paragraph("{tensor:nope}"), walkthrough("no tensor named \"nope\"")),
        (paragraph("{value:embed[0,48]}"), walkthrough("index [0, 48] outside embed [2, 48]")),
        (paragraph("{value:embed[0,-1]}"), walkthrough("{value:embed[0,-1]}: \"-1\" is not an index")),
        (paragraph("{value:embed}"), walkthrough("{value:embed}: expected NAME[i,j,...]")),
        (paragraph("{dim:Q}"), walkthrough("{dim:Q}: expected one of T, C, H, D, V, P")),
        (paragraph("{token:first}"), walkthrough("{token:first}: expected a position")),
        (paragraph("{config:secret}"), walkthrough("no config field \"secret\"")),
        (paragraph("{bold}"), walkthrough("unknown reference {bold}: use tensor, dim, value, token, config, prediction, lens or score")),
        (paragraph("{lens:4,0}"), walkthrough("{lens:4,..}: layers are 0..=3")),
        (paragraph("{lens:1}"), walkthrough("{lens:1}: expected LAYER,POSITION")),
        (paragraph("{score:0.3.first_token}"), walkthrough("{score:0.3.first_token}: expected a layer below 3, a head below 3 and one of [\"previous_token\", \"first_token\", \"diagonal\", \"induction\"]")),
        (paragraph("{score:0.head}"), walkthrough("{score:0.head}: expected LAYER.HEAD.NAME, as 0.2.first_token")),
        (chapter("[[chapters.paragraphs]]\ntext = \"x\"\nablate = [\"h.3.mlp\"]\n"), walkthrough("ablate h.3.mlp: layer 3 past the model's 3 layers (0..=2)")),
        (chapter("[[chapters.paragraphs]]\ntext = \"x\"\nablate = [\"mlp\"]\n"), walkthrough("ablate `mlp`: expected h.LAYER.head.HEAD, h.LAYER.mlp or h.LAYER.mlp.neuron.N (numbers from 0), as in h.0.head.3")),
        (chapter("prompt = \"ABZ\"\n[[chapters.paragraphs]]\ntext = \"x\"\n"), "scene.toml: walkthrough: chapter \"c\": prompt: character 'Z' at position 2 is not in the alphabet \"ABC\"".into()),
    ];
    let wrong: Vec<String> = cases
        .iter()
        .filter_map(|(toml, expected)| {
            let error = toml_error(toml);
            (&error != expected)
                .then(|| format!("{toml}\n  got:      {error}\n  expected: {expected}"))
        })
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn unreadable_scene_files_are_named() {
    let dir = scene_dir("binary", "");
    std::fs::write(dir.join("scene.toml"), [0xff, 0xfe, 0x00]).unwrap();
    let error = Scene::load(&dir).unwrap_err().to_string();
    assert_eq!(
        error,
        format!(
            "{}: cannot read: stream did not contain valid UTF-8",
            dir.join("scene.toml").display()
        )
    );
    let toml = "name = \"x\"\nmodel = \"nowhere\"\nprompt = \"AB\"\n[tokenizer]\nkind = \"ids\"\n";
    let error = Scene::load(&scene_dir("nomodel", toml))
        .unwrap_err()
        .to_string();
    // A model that is not there is named before anything is read from it.
    assert!(
        error.contains("the scene's model") && error.contains("nowhere is not there"),
        "{error}"
    );
}
