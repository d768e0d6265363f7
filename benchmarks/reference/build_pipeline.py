"""Rebuild the scikit-learn pipeline an example model was exported from, for the reference server.

    /usr/bin/python3 build_pipeline.py --example examples/models/bank-churn --out pipeline.pkl

Uses the example's own train.py (its data loading, split and build_pipeline, with the seed of its
lineage.json) without writing into the example's folder, then proves it is the same pipeline: the
data's sha256 must equal lineage.json's and predict_proba must reproduce golden.json (the outputs
saved when the ONNX model was exported) to 1e-9. Exit 1 if either check fails.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pickle
import sys
import tempfile
import time


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--example", required=True, help="examples/models/<name> (with train.py and artifacts/)")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    example = os.path.abspath(args.example)
    artifacts = os.path.join(example, "artifacts")
    sys.path.insert(0, os.path.dirname(example))
    sys.path.insert(0, example)
    import numpy as np  # noqa: E402
    import pandas as pd  # noqa: E402
    from sklearn.model_selection import train_test_split  # noqa: E402

    import generate_data  # noqa: E402
    import train  # noqa: E402

    with open(os.path.join(artifacts, "lineage.json"), encoding="utf-8") as f:
        lineage = json.load(f)
    seed = int(lineage["seed"])
    t0 = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        csv = os.path.join(tmp, "data.csv")
        generate_data.write_csv(generate_data.generate(seed), csv)
        with open(csv, "rb") as f:
            sha = hashlib.sha256(f.read()).hexdigest()
        if lineage["data"].get("source") == "generated" and sha != lineage["data"]["sha256"]:
            raise SystemExit(f"regenerated data sha256 {sha} != lineage.json {lineage['data']['sha256']}")
        df, _, _ = train.load(csv, seed)
    X, y = df.drop(columns=[train.TARGET]), df[train.TARGET].to_numpy()
    # the split of train.py's main(): same fraction, stratification and seed
    X_train, _, y_train, _ = train_test_split(
        X, y, test_size=train.CONFIG["split"]["testFraction"], stratify=y, random_state=seed
    )
    pipe = train.build_pipeline(seed).fit(X_train, y_train)

    with open(os.path.join(artifacts, "golden.json"), encoding="utf-8") as f:
        golden = json.load(f)["cases"]
    with open(os.path.join(artifacts, "model.schema.json"), encoding="utf-8") as f:
        features = [ft["name"] for ft in json.load(f)["features"]]
    rows = pd.DataFrame([c["input"] for c in golden], columns=features)
    for col in rows.columns:
        if rows[col].dtype != object:
            rows[col] = rows[col].astype(np.float64).astype(np.float32).astype(np.float64)
    proba = pipe.predict_proba(rows)
    expected = np.array([c["probabilities"] for c in golden])
    diff = float(np.max(np.abs(proba - expected)))
    if diff > 1e-9:
        raise SystemExit(f"the rebuilt pipeline differs from golden.json by {diff}")
    with open(args.out, "wb") as f:
        pickle.dump({"pipeline": pipe, "features": features}, f)
    print(json.dumps({"seed": seed, "dataSha256": sha, "goldenMaxAbsDiff": diff, "seconds": round(time.time() - t0, 1)}))


if __name__ == "__main__":
    main()
