#!/usr/bin/python3
"""Retrain the example models into a temp dir and compare with the committed artifacts.

    /usr/bin/python3 examples/models/check_retrain.py [--models bank-churn,nlp-insight,chicago-taxi] [--keep]

Training is seeded and single-threaded and the exporter is byte-deterministic, so with
the same scikit-learn/onnx versions (lineage.json `trainedWith`) a retrain must give:
  * metrics.json: identical (every value, compared as JSON; differences are listed);
  * model.onnx: identical sha256 (and equal to lineage.json `model.sha256`);
  * every other artifact (golden, schema, drift baseline, background, lineage, model card): identical bytes.
Exits 0 when everything matches, 1 with a readable diff otherwise, 2 on usage/training errors.
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = ["bank-churn", "nlp-insight", "chicago-taxi"]
ARTIFACTS = ["model.onnx", "metrics.json", "golden.json", "model.schema.json", "drift_baseline.json",
             "background.json", "lineage.json", "MODEL_CARD.md"]


def sha256(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def flatten(obj, prefix: str = "") -> dict[str, object]:
    if isinstance(obj, dict):
        out: dict[str, object] = {}
        for k, v in obj.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    if isinstance(obj, list):
        out = {}
        for i, v in enumerate(obj):
            out.update(flatten(v, f"{prefix}[{i}]"))
        return out
    return {prefix: obj}


def compare_model(model: str, fresh_dir: str) -> list[str]:
    committed = os.path.join(HERE, model, "artifacts")
    problems: list[str] = []
    for name in ARTIFACTS:
        a, b = os.path.join(committed, name), os.path.join(fresh_dir, name)
        if not os.path.exists(a):
            problems.append(f"{name}: missing in committed artifacts")
            continue
        if not os.path.exists(b):
            problems.append(f"{name}: not produced by the retrain")
            continue
        if name == "metrics.json":
            old, new = flatten(json.load(open(a))), flatten(json.load(open(b)))
            for key in sorted(set(old) | set(new)):
                if old.get(key, "<absent>") != new.get(key, "<absent>"):
                    problems.append(f"metrics.json {key}: committed {old.get(key, '<absent>')!r} "
                                    f"!= retrained {new.get(key, '<absent>')!r}")
        elif name == "model.onnx":
            if sha256(a) != sha256(b):
                problems.append(f"model.onnx sha256: committed {sha256(a)} != retrained {sha256(b)}")
            lineage = json.load(open(os.path.join(committed, "lineage.json")))
            if lineage.get("model", {}).get("sha256") != sha256(a):
                problems.append("lineage.json model.sha256 does not match the committed model.onnx")
        else:
            with open(a, "rb") as fa, open(b, "rb") as fb:
                da, db = fa.read(), fb.read()
            if da != db:
                diff = list(difflib.unified_diff(da.decode(errors="replace").splitlines(),
                                                 db.decode(errors="replace").splitlines(),
                                                 f"committed/{name}", f"retrained/{name}", lineterm="", n=1))
                shown = "\n      ".join(diff[:30]) + ("\n      ..." if len(diff) > 30 else "")
                problems.append(f"{name} differs:\n      {shown}")
    return problems


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--python", default=os.environ.get("PYTHON", sys.executable or "/usr/bin/python3"))
    ap.add_argument("--keep", action="store_true", help="keep the temp dir with the retrained artifacts")
    args = ap.parse_args()
    models = [m for m in args.models.split(",") if m]
    unknown = [m for m in models if m not in MODELS]
    if unknown:
        print(f"unknown models {unknown}; choose from {MODELS}", file=sys.stderr)
        return 2

    # One thread and one BLAS kernel set (AVX2, see _common.py), whatever the CPU.
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "PYTHONHASHSEED": "0", "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", "Haswell")}
    versions = subprocess.run([args.python, "-c", "import sklearn, onnx; print(sklearn.__version__, onnx.__version__)"],
                              capture_output=True, text=True, env=env)
    if versions.returncode != 0:
        print(f"cannot import sklearn/onnx with {args.python}:\n{versions.stderr}", file=sys.stderr)
        return 2
    sk, ox = versions.stdout.split()
    tmp = tempfile.mkdtemp(prefix="retrain-")
    failed = False
    try:
        for model in models:
            lineage = json.load(open(os.path.join(HERE, model, "artifacts", "lineage.json")))
            trained = lineage.get("trainedWith", {})
            if (trained.get("sklearn"), trained.get("onnx")) != (sk, ox):
                print(f"warning: {model} was trained with sklearn {trained.get('sklearn')} / onnx {trained.get('onnx')},"
                      f" this retrain uses {sk} / {ox}: differences may come from the versions")
            out = os.path.join(tmp, model)
            start = time.time()
            run = subprocess.run([args.python, os.path.join(HERE, model, "train.py"), "--seed",
                                  str(lineage.get("seed", 42)), "--out", out], capture_output=True, text=True, env=env)
            if run.returncode != 0:
                print(f"FAIL {model}: training failed\n{run.stdout}{run.stderr}")
                return 2
            problems = compare_model(model, out)
            took = time.time() - start
            if problems:
                failed = True
                print(f"FAIL {model} ({took:.0f}s): retrained artifacts differ from the committed ones")
                for p in problems:
                    print(f"  - {p}")
            else:
                print(f"ok   {model} ({took:.0f}s): metrics.json and model.onnx sha256 "
                      f"{sha256(os.path.join(out, 'model.onnx'))[:16]}... identical, all artifacts byte-identical")
        if failed:
            print("\nThe committed artifacts are not what the code produces. Retrain with "
                  "examples/models/train_all.sh and commit the artifacts (or fix the non-determinism).")
        return 1 if failed else 0
    finally:
        if args.keep:
            print(f"retrained artifacts kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
