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
