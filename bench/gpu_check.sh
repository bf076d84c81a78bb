#!/usr/bin/env bash
# The GPU checks of ganzoo in one short run (< 8 minutes on one GPU): bash bench/gpu_check.sh OUT_DIR
#
# Writes OUT_DIR/gpu_check.json and OUT_DIR/gpu_check.md (plus gpu_tests.xml, gpu_speed.{json,md},
# throughput.md and gpu_check.log), at most 8 files, all at the top of OUT_DIR:
#   1. pytest -m gpu tests/train/test_gpu.py: CUDA-event phase timings; fp16 with one GradScaler per phase and the
#      WGAN-GP / R1 penalties; bf16 with channels_last, fused Adam and the images on the GPU; SyncBatchNorm;
#      torch.compile; two processes sharing one GPU over gloo (NCCL refuses two ranks on one device);
#   2. ganzoo run wgan-gp --gpus 1 --precision fp16, and --precision bf16 (200 steps on the ring, metrics off);
#   3. bench/gpu_speed.py: DCGAN MNIST- and CIFAR-10-sized, fp32 vs bf16 vs bf16+torch.compile, harness vs the
#      careful hand loop, CUDA events, interleaved rounds (synthetic images: no data needed);
#   4. ganzoo bench --suite throughput-gpu (dcgan/mnist, dcgan/cifar10 × fp32, bf16) when the data is there
#      (GANZOO_SHARED_DATA, default ./shared/data or ../shared/data).
# On a machine without CUDA it says so and exits 0.
#
# Install: where `import ganzoo.harness` fails, the script runs
#   pip install --no-index --find-links "$GANZOO_WHEELS" pydantic pytest markdown   (if GANZOO_WHEELS is set)
#   pip install --no-deps --no-build-isolation -e .
# The GPU machines have torch 2.11, torchvision 0.26, accelerate, typer, rich, timm, safetensors and matplotlib
# but no network and no pydantic: carry the missing wheels in a folder of the repo, made on a networked machine
# for the GPU machine's Python (e.g. 3.12):
#   pip download --only-binary :all: --python-version 3.12 -d wheels pydantic pytest markdown
set -uo pipefail
OUT="${1:?usage: bash bench/gpu_check.sh OUT_DIR}"
mkdir -p "$OUT"
cd "$(dirname "$0")/.."
PY="${PYTHON:-python}"
LOG="$OUT/gpu_check.log"
: >"$LOG"
say() { echo "[gpu_check $(date +%H:%M:%S)] $*" | tee -a "$LOG"; }

if ! "$PY" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" 2>>"$LOG"; then
  say "no CUDA GPU on this machine: nothing to check (run this on a GPU machine). Exiting 0."
  printf '{"cuda": false, "skipped": "no CUDA GPU on this machine"}\n' >"$OUT/gpu_check.json"
  printf '# GPU check\n\nSkipped: no CUDA GPU on this machine.\n' >"$OUT/gpu_check.md"
  exit 0
fi

if ! "$PY" -c "import ganzoo.harness.train.trainer" 2>/dev/null; then
  say "ganzoo does not import: installing (no network expected)"
  if [ -n "${GANZOO_WHEELS:-}" ]; then
    "$PY" -m pip install --no-index --find-links "$GANZOO_WHEELS" pydantic pytest markdown >>"$LOG" 2>&1
  fi
  "$PY" -m pip install --no-deps --no-build-isolation -e . >>"$LOG" 2>&1 || say "pip install -e . failed (see log)"
fi
export PYTHONUNBUFFERED=1
STATUS=()

say "1/4 pytest -m gpu"
timeout 240 "$PY" -m pytest -q -m gpu tests/train/test_gpu.py -p no:cacheprovider --junitxml "$OUT/gpu_tests.xml" \
  >>"$LOG" 2>&1
STATUS+=("tests=$?")

say "2/4 ganzoo run wgan-gp --gpus 1, fp16 and bf16"
RUNS="$(mktemp -d)"
for precision in fp16 bf16; do
  timeout 120 "$PY" -m ganzoo.harness.cli run wgan-gp --dataset ring --gpus 1 --precision "$precision" --steps 200 \
    --set train.evaluate=false --set train.sample_every=0 --no-progress --out "$RUNS/$precision" >>"$LOG" 2>&1
  STATUS+=("run_$precision=$?")
done

say "3/4 bench/gpu_speed.py"
timeout 200 "$PY" bench/gpu_speed.py --out "$OUT" --rounds 6 --iters 20 >>"$LOG" 2>&1
STATUS+=("speed=$?")

DATA="${GANZOO_SHARED_DATA:-}"
for candidate in shared/data ../shared/data; do [ -z "$DATA" ] && [ -d "$candidate/mnist" ] && DATA="$candidate"; done
if [ -n "$DATA" ] && [ -d "$DATA/mnist" ]; then
  say "4/4 ganzoo bench --suite throughput-gpu (data: $DATA)"
  timeout 150 "$PY" -m ganzoo.harness.cli bench --suite throughput-gpu --data-dir "$DATA" --out "$RUNS/bench" \
    >>"$LOG" 2>&1
  STATUS+=("throughput=$?")
  cp "$RUNS/bench/leaderboard.md" "$OUT/throughput.md" 2>/dev/null
else
  say "4/4 skipped: no MNIST/CIFAR-10 data here (set GANZOO_SHARED_DATA)"
  STATUS+=("throughput=skipped")
fi

"$PY" - "$OUT" "$RUNS" "${STATUS[@]}" <<'PYEOF'
import json, sys, xml.etree.ElementTree as ET
from pathlib import Path
import torch
out, runs, status = Path(sys.argv[1]), Path(sys.argv[2]), dict(s.split("=", 1) for s in sys.argv[3:])
result = {"cuda": True, "gpu": torch.cuda.get_device_name(0), "torch": torch.__version__, "status": status,
          "tests": {}, "runs": {}}
if (out / "gpu_tests.xml").exists():
    for case in ET.parse(out / "gpu_tests.xml").iter("testcase"):
        outcome = "failed" if case.find("failure") is not None or case.find("error") is not None else \
            "skipped" if case.find("skipped") is not None else "passed"
        result["tests"][case.get("name")] = outcome
for precision in ("fp16", "bf16"):
    path = runs / precision / "summary.json"
    if path.exists():
        summary = json.loads(path.read_text())
        result["runs"][precision] = {"status": summary["status"], "counters": summary["counters"],
                                     "images_per_s": summary["throughput"]["images_per_s"]}
if (out / "gpu_speed.json").exists():
    result["speed"] = json.loads((out / "gpu_speed.json").read_text())
(out / "gpu_check.json").write_text(json.dumps(result, indent=2))
lines = [f"# GPU check: {result['gpu']}, torch {result['torch']}", "", "exit codes: " +
         ", ".join(f"{k} {v}" for k, v in status.items()), "", "| test | outcome |", "|---|---|"]
lines += [f"| {name} | {outcome} |" for name, outcome in result["tests"].items()]
lines += ["", "| ganzoo run wgan-gp --gpus 1 | status | images/s | counters |", "|---|---|---|---|"]
lines += [f"| {p} | {r['status']} | {r['images_per_s']:.0f} | {r['counters']} |" for p, r in result["runs"].items()]
for name in ("gpu_speed.md", "throughput.md"):
    if (out / name).exists():
        lines += ["", (out / name).read_text()]
(out / "gpu_check.md").write_text("\n".join(lines) + "\n")
print("\n".join(lines))
PYEOF
say "done: $OUT/gpu_check.md"
