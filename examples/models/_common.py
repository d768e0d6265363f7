"""Helpers shared by the example models' train.py scripts (artifact formats of docs/model-artifacts.md).

Import this module BEFORE numpy/sklearn: it pins BLAS/OpenMP to one thread so
that training and evaluation are bit-for-bit reproducible.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
# OpenBLAS picks its kernels by CPU: AVX-512 ones (SkylakeX) round differently in the last bit
# from the AVX2 ones the committed artifacts were trained with, which changes tree thresholds and
# the model's bytes. One kernel set everywhere keeps a retrain byte-identical on any x86-64 CPU.
os.environ.setdefault("OPENBLAS_CORETYPE", "Haswell")

import hashlib  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import pandas as pd  # noqa: E402
import sklearn  # noqa: E402

MODELS_DIR = os.path.dirname(os.path.abspath(__file__))


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def canonical_json(obj) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def plain(v):
    """numpy scalars -> Python; NaN/None -> None (JSON null)."""
    if v is None:
        return None
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating, float)):
        f = float(v)
        return None if math.isnan(f) else f
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, dict):
        return {str(k): plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, np.ndarray)):
        return [plain(x) for x in v]
    return v


def write_json(path: str, obj) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(json.dumps(plain(obj), indent=2, ensure_ascii=False, allow_nan=False))
        f.write("\n")


def write_text(path: str, text: str) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def r6(x: float) -> float:
    return round(float(x), 6)


# ----------------------------------------------------------------------------- drift baseline

DECILES = [i / 10 for i in range(1, 10)]


def _bin_shares(values: np.ndarray, edges: list[float]) -> list[float]:
    # bin 0: x <= e0; bin i: e(i-1) < x <= e(i); bin 9: x > e8 (right-closed, like pandas.cut)
    idx = np.searchsorted(np.asarray(edges, dtype=np.float64), values, side="left")
    counts = np.bincount(idx, minlength=10)[:10]
    return [float(c) / len(values) for c in counts]


def numeric_baseline(values) -> dict:
    v = pd.to_numeric(pd.Series(values), errors="coerce").dropna().to_numpy(dtype=np.float64)
    edges = [float(e) for e in np.quantile(v, DECILES)]
    return {"kind": "numeric", "edges": edges, "proportions": _bin_shares(v, edges)}


def categorical_baseline(values) -> dict:
    s = pd.Series(values).dropna().astype(str)
    counts = s.value_counts()
    return {"kind": "categorical", "frequencies": {k: float(counts[k]) / len(s) for k in sorted(counts.index)}}


def text_baseline(values) -> dict:
    lengths = pd.Series(values).astype(str).str.len().to_numpy(dtype=np.float64)
    edges = [float(e) for e in np.quantile(lengths, DECILES)]
    return {"kind": "text", "lengthEdges": edges, "proportions": _bin_shares(lengths, edges)}


def drift_baseline(df: pd.DataFrame, features: list[dict]) -> dict:
    out = {}
    for f in features:
        col = df[f["name"]]
        if f["type"] in ("number", "integer"):
            out[f["name"]] = numeric_baseline(col)
        elif f["type"] == "category":
            out[f["name"]] = categorical_baseline(col)
        else:
            out[f["name"]] = text_baseline(col)
    return {"sampleSize": int(len(df)), "features": out}


# ----------------------------------------------------------------------------- rows as the service sees them


def input_row(row: pd.Series, features: list[dict]) -> dict:
    out = {}
    for f in features:
        v = row[f["name"]]
        if v is None or (isinstance(v, float) and math.isnan(v)):
            out[f["name"]] = None
        elif f["type"] == "integer":
            out[f["name"]] = int(v)
        elif f["type"] == "number":
            out[f["name"]] = float(v)
        else:
            out[f["name"]] = str(v)
    return out


def as_served(df: pd.DataFrame, features: list[dict]) -> pd.DataFrame:
    """The values the ONNX graph sees: numbers rounded to float32 (a Float32Array), kept as float64 for sklearn."""
    out = df.copy()
    for f in features:
        if f["type"] in ("number", "integer"):
            out[f["name"]] = out[f["name"]].astype(np.float64).astype(np.float32).astype(np.float64)
    return out


def versions() -> dict:
    return {"sklearn": sklearn.__version__, "onnx": onnx.__version__}


def environment_note() -> str:
    return (
        f"Python {platform.python_version()}, scikit-learn {sklearn.__version__}, numpy {np.__version__}, "
        f"pandas {pd.__version__}, onnx {onnx.__version__}"
    )


def lineage(seed: int, data_source: str, data_sha256: str, config: dict, model_bytes: bytes) -> dict:
    return {
        "seed": seed,
        "data": {"source": data_source, "sha256": data_sha256},
        "config": {"sha256": sha256_bytes(canonical_json(config).encode())},
        "model": {"sha256": sha256_bytes(model_bytes)},
        "trainedWith": versions(),
    }


def sidecar(
    *,
    name: str,
    version: str,
    task: str,
    description: str,
    features: list[dict],
    outputs: dict,
    labels: list[str] | None = None,
    positive_label: str | None = None,
    threshold: float | None = None,
    threshold_rationale: str | None = None,
    unknown_categories: str | None = None,
    monitoring: dict | None = None,
) -> dict:
    doc: dict = {
        "schemaVersion": 1,
        "name": name,
        "version": version,
        "task": task,
        "description": description,
        "features": features,
        "outputs": outputs,
    }
    if labels is not None:
        doc["labels"] = labels
    if positive_label is not None:
        doc["positiveLabel"] = positive_label
    if threshold is not None:
        doc["threshold"] = threshold
        doc["thresholdRationale"] = threshold_rationale
    if unknown_categories is not None:
        doc["unknownCategories"] = unknown_categories
    if monitoring is not None:
        doc["monitoring"] = monitoring
    doc["artifacts"] = {
        "driftBaseline": "drift_baseline.json",
        "background": "background.json",
        "golden": "golden.json",
        "metrics": "metrics.json",
        "modelCard": "MODEL_CARD.md",
        "lineage": "lineage.json",
    }
    return doc


def md_table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for r in rows:
        lines.append("| " + " | ".join(str(c) for c in r) + " |")
    return "\n".join(lines)
