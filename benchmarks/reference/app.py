"""The reference: the Python portfolio's serving pattern, reimplemented faithfully.

FastAPI with a single uvicorn worker; the request is validated by a pydantic model, and the
scikit-learn pipeline's predict_proba runs in a ThreadPoolExecutor(4) through
loop.run_in_executor so the event loop is not blocked (the fix that took the portfolio's service
from 81% errors to serving at all). Same pipeline as the ONNX model (build_pipeline.py proves it
against golden.json), same request body and a comparable response as the generated service.

    PIPELINE=pipeline.pkl THRESHOLD=0.35 LABELS='["stayed","exited"]' MODEL_VERSION=1.0.0 \\
      /usr/bin/python3 -m uvicorn app:app --workers 1 --host 127.0.0.1 --port 8000
"""

from __future__ import annotations

import asyncio
import json
import os
import pickle
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Optional

import pandas as pd
from fastapi import FastAPI
from pydantic import create_model

with open(os.environ["PIPELINE"], "rb") as f:
    _bundle = pickle.load(f)
PIPELINE = _bundle["pipeline"]
FEATURES: list[str] = _bundle["features"]
SPEC = json.loads(os.environ["FEATURE_SPEC"])  # [{"name", "type", "nullable"}]
LABELS = json.loads(os.environ.get("LABELS", '["0","1"]'))
THRESHOLD = float(os.environ.get("THRESHOLD", "0.5"))
MODEL_VERSION = os.environ.get("MODEL_VERSION", "unknown")

_types = {"number": float, "integer": int, "category": str, "text": str}
PredictionRequest = create_model(
    "PredictionRequest",
    **{
        f["name"]: ((Optional[_types[f["type"]]], None) if f.get("nullable") else (_types[f["type"]], ...))
        for f in SPEC
    },
)

executor = ThreadPoolExecutor(max_workers=int(os.environ.get("INFERENCE_THREADPOOL_WORKERS", "4")))
app = FastAPI()


def _predict(row: dict) -> list[float]:
    frame = pd.DataFrame([row], columns=FEATURES)
    return PIPELINE.predict_proba(frame)[0].tolist()


@app.get("/health")
async def health() -> dict:
    return {"status": "healthy", "version": MODEL_VERSION}


@app.post("/predict")
async def predict(request: PredictionRequest) -> dict:  # type: ignore[valid-type]
    loop = asyncio.get_running_loop()
    proba = await loop.run_in_executor(executor, _predict, request.dict())
    positive = proba[1]
    return {
        "prediction_id": uuid.uuid4().hex,
        "label": LABELS[1] if positive >= THRESHOLD else LABELS[0],
        "probabilities": dict(zip(LABELS, proba)),
        "threshold": THRESHOLD,
        "model_version": MODEL_VERSION,
    }
