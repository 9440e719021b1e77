"""Two small `tokenizer.json` files of the kinds Llama-family checkpoints ship, and what Hugging
Face's `tokenizers` library makes of a set of texts with them.

- byte_level: byte-level BPE as GPT-2, Llama 3 and Qwen2 use it: text split by Llama 3's regex
  (letters, up to 3 digits, punctuation runs, whitespace runs with a lookahead), every byte
  mapped to a printable character, merges learned over those; `<|begin_of_text|>` put first.
- sentencepiece: SentencePiece-style BPE with byte fallback as TinyLlama (Llama 2) uses it:
  spaces become "▁" and a "▁" goes first, no pre-splitting, and a character the vocabulary lacks
  is spelled as its UTF-8 bytes `<0xNN>`; `<s>` put first.

Both are trained on a small corpus here (the real files are megabytes), with the same
components and settings as the models' own files. For each, tests/data/tokenizers/{kind}/ gets
tokenizer.json and expected.json: for every text, the ids `tokenizer.encode(text)` gives (special
tokens added, as `tokenizer(text)` does in transformers) and `tokenizer.decode(ids)`.

Run: python3 -m venv .venv && .venv/bin/pip install -r tools/tokenizers/requirements.txt
     .venv/bin/python tools/tokenizers/make.py
"""

import json
import pathlib

from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers
from tokenizers import processors, trainers

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "tests/data/tokenizers"

CORPUS = [
    "The quick brown fox jumps over the lazy dog. The dog sleeps; the fox runs on.",
    "A transformer turns text into tokens, tokens into vectors, and vectors into the "
    "probabilities of the next token. Attention lets each token look at the tokens before it.",
    "In 2024 there were 365 days, 12 months and 52 weeks; 3.14159 is close to pi, 2.71828 to e.",
    "def add(a, b):\n    return a + b\n\nfor i in range(10):\n    print(add(i, i * 2))\n",
    "fn main() {\n    let x = vec![1, 2, 3];\n    println!(\"{:?}\", x);\n}\n",
    "Café, naïve, Zürich, São Paulo, Kraków; Größe and Straße. Ελληνικά, русский, 日本語.",
    "    indented    with   runs of   spaces\t\tand tabs\n\n\nand blank lines.",
    "Emoji: 🤗 🙂 👍 are made of several bytes each.",
] * 4

TEXTS = [
    "Hello world",
    "The quick brown fox jumps over the lazy dog.",
    "naïve café in Zürich — 東京 and Ελληνικά",
    "a  b\t\tc\n\n   d    ",
    "   leading and trailing spaces   ",
    "3.14159 and 1234567890, 2026-12-02",
    "🤗👍🏽 emoji 🎉✨ and a zero-width joiner 👩‍💻",
    "fn main() {\n    println!(\"{}\", x[0] + 1);\n}",
    "def f(x):\n\treturn x**2  # square\n",
    "unknown characters: ∑ ∫ ≈ ∞ ⊕",
    "",
]

# Llama 3's pre-tokenizer split (tokenizer.json of meta-llama/Llama-3.2-1B).
LLAMA3_SPLIT = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)


def byte_level() -> Tokenizer:
    tokenizer = Tokenizer(models.BPE(ignore_merges=True))
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(LLAMA3_SPLIT), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=False),
        ]
    )
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=420,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        special_tokens=["<|begin_of_text|>", "<|end_of_text|>"],
        show_progress=False,
    )
    tokenizer.train_from_iterator(CORPUS, trainer)
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<|begin_of_text|> $A",
        special_tokens=[("<|begin_of_text|>", tokenizer.token_to_id("<|begin_of_text|>"))],
    )
    return tokenizer


def sentencepiece() -> Tokenizer:
    specials = ["<unk>", "<s>", "</s>"]
    trained = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    trained.normalizer = normalizers.Sequence(
        [normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")]
    )
    trainer = trainers.BpeTrainer(
        vocab_size=300, special_tokens=specials, show_progress=False, max_token_length=16
    )
    trained.train_from_iterator(CORPUS, trainer)
    # As in Llama 2's file, the 256 byte tokens are model vocabulary right after the specials
    # (not added tokens), so byte fallback finds them.
    state = json.loads(trained.to_str())
    learned = sorted(state["model"]["vocab"].items(), key=lambda kv: kv[1])
    vocab = {token: i for i, token in enumerate(specials)}
    for byte in range(256):
        vocab[f"<0x{byte:02X}>"] = len(vocab)
    for token, _ in learned:
        vocab.setdefault(token, len(vocab))
    state["model"]["vocab"] = vocab
    for added in state["added_tokens"]:
        added["id"] = vocab[added["content"]]
    tokenizer = Tokenizer.from_str(json.dumps(state))
    tokenizer.decoder = decoders.Sequence(
        [
            decoders.Replace("▁", " "),
            decoders.ByteFallback(),
            decoders.Fuse(),
            decoders.Strip(" ", 1, 0),
        ]
    )
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A", special_tokens=[("<s>", vocab["<s>"])]
    )
    return tokenizer


def main() -> None:
    for kind, tokenizer in [("byte_level", byte_level()), ("sentencepiece", sentencepiece())]:
        folder = OUT / kind
        folder.mkdir(parents=True, exist_ok=True)
        tokenizer.save(str(folder / "tokenizer.json"), pretty=False)
        cases = []
        for text in TEXTS:
            ids = tokenizer.encode(text).ids
            cases.append({"text": text, "ids": ids, "decoded": tokenizer.decode(ids, skip_special_tokens=False)})
        expected = {"vocab_size": tokenizer.get_vocab_size(with_added_tokens=True), "cases": cases}
        (folder / "expected.json").write_text(json.dumps(expected, ensure_ascii=False, indent=1) + "\n")
        print(kind, expected["vocab_size"], "tokens")


if __name__ == "__main__":
    main()
