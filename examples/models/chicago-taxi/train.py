"""Train the chicago-taxi hourly demand model and write its artifacts (docs/model-artifacts.md).

    /usr/bin/python3 train.py [--data hourly_demand.csv | Taxi_Trips.csv] [--out ./artifacts] [--seed 42]

Without --data it trains on generate_data.py's seeded data (data/hourly_demand.csv, not
committed). With --data it accepts either the portfolio's hourly demand table (columns
year, month, day, hour, pickup_community_area, trip_count) or the raw City of Chicago
"Taxi Trips" CSV (Trip Start Timestamp, Trip Seconds, Trip Miles, Fare, Pickup
Community Area), which is cleaned with the portfolio ETL's rules and aggregated.

Unlike the portfolio (row-based shifts over observed rows only), hours without trips are
filled with 0 so lags are calendar lags: lag_1h is the previous clock hour. Lags use
only counts strictly before the predicted hour; the split is temporal (first 80% of
hours train, the rest test), so no test-period information reaches training.

Model: GradientBoostingRegressor on 8 features, exported to ONNX (TreeEnsembleRegressor).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

import _common as C  # noqa: E402  (pins BLAS threads before numpy loads)
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.compose import ColumnTransformer  # noqa: E402
from sklearn.ensemble import GradientBoostingRegressor  # noqa: E402
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402

import generate_data  # noqa: E402
from onnx_export import export_pipeline, save_model  # noqa: E402

NAME = "chicago-taxi"
VERSION = "1.0.0"
TARGET = "trip_count"
DESCRIPTION = ("Predicts the number of taxi trips starting in a Chicago community area in a given hour, from the "
               "hour, weekday, area and recent demand (lags).")
FEATURES = ["hour", "day_of_week", "is_weekend", "pickup_community_area", "trip_count_lag_1h", "trip_count_lag_24h",
            "trip_count_lag_168h", "trip_count_rolling_24h"]
WARMUP_HOURS = 168

CONFIG = {
    "model": NAME,
    "features": FEATURES,
    "lags": {"calendar": True, "lag_hours": [1, 24, 168], "rolling_mean_hours": 24, "warmup_hours": WARMUP_HOURS},
    "split": {"kind": "temporal", "trainFraction": 0.8},
    "gb": {"n_estimators": 200, "max_depth": 5, "learning_rate": 0.08, "subsample": 0.8, "min_samples_leaf": 20},
    "golden": {"cases": 50},
    "background": {"rows": 50},
}


def features_spec() -> list[dict]:
    return [
        {"name": "hour", "type": "integer", "description": "Hour of day (0-23) of the predicted hour", "min": 0,
         "max": 23},
        {"name": "day_of_week", "type": "integer", "description": "Day of week, 1 = Sunday ... 7 = Saturday (Spark)",
         "min": 1, "max": 7},
        {"name": "is_weekend", "type": "integer", "description": "1 on Saturday and Sunday", "min": 0, "max": 1},
        {"name": "pickup_community_area", "type": "integer", "description": "Chicago community area (1-77)",
         "min": 1, "max": 77},
        {"name": "trip_count_lag_1h", "type": "integer", "description": "Trips in this area in the previous hour",
         "min": 0},
        {"name": "trip_count_lag_24h", "type": "integer", "description": "Trips in this area 24 hours earlier",
         "min": 0},
        {"name": "trip_count_lag_168h", "type": "integer", "description": "Trips in this area 168 hours (1 week) earlier",
         "min": 0},
        {"name": "trip_count_rolling_24h", "type": "number",
         "description": "Mean hourly trips in this area over the previous 24 hours", "min": 0},
    ]


def aggregate_raw_trips(path: str) -> pd.DataFrame:
    """Raw Taxi Trips CSV -> hourly counts, with the portfolio Spark ETL's cleaning rules."""
    cols = ["Trip Start Timestamp", "Trip Seconds", "Trip Miles", "Fare", "Pickup Community Area"]
    parts = []
    for chunk in pd.read_csv(path, usecols=cols, chunksize=1_000_000):
        secs = pd.to_numeric(chunk["Trip Seconds"].astype(str).str.replace(",", ""), errors="coerce")
        miles = pd.to_numeric(chunk["Trip Miles"].astype(str).str.replace(",", ""), errors="coerce")
        fare = pd.to_numeric(chunk["Fare"].astype(str).str.replace(r"[$,]", "", regex=True), errors="coerce")
        area = pd.to_numeric(chunk["Pickup Community Area"], errors="coerce")
        ts = pd.to_datetime(chunk["Trip Start Timestamp"], format="%m/%d/%Y %I:%M:%S %p", errors="coerce")
        keep = ts.notna() & (secs > 60) & (secs < 86_400) & (miles > 0.1) & (miles < 500) & (fare > 0) & area.notna()
        speed = miles / (secs / 3600)
        keep &= (speed > 1) & (speed < 100)
        g = pd.DataFrame({"ts": ts[keep].dt.floor("H"), "pickup_community_area": area[keep].astype(int)})
        parts.append(g.groupby(["ts", "pickup_community_area"]).size().rename(TARGET).reset_index())
    agg = pd.concat(parts).groupby(["ts", "pickup_community_area"], as_index=False)[TARGET].sum()
    return agg


def load(data: str | None, seed: int) -> tuple[pd.DataFrame, str, str]:
    if data:
        source, sha = data, C.sha256_file(data)
        head = pd.read_csv(data, nrows=0).columns
        if "Trip Start Timestamp" in head:
            hourly = aggregate_raw_trips(data)
        else:
            df = pd.read_csv(data)
            need = ["year", "month", "day", "hour", "pickup_community_area", TARGET]
            if any(c not in df.columns for c in need):
                raise SystemExit(f"{data}: needs columns {need} (hourly demand) or the raw Taxi Trips columns")
            df = df.dropna(subset=need)
            ts = pd.to_datetime(df[["year", "month", "day", "hour"]].astype(int))
            hourly = pd.DataFrame({"ts": ts, "pickup_community_area": df["pickup_community_area"].astype(int),
                                   TARGET: df[TARGET].astype(int)})
            hourly = hourly.groupby(["ts", "pickup_community_area"], as_index=False)[TARGET].sum()
    else:
        path = os.path.join(HERE, "data", "hourly_demand.csv")
        generate_data.write_csv(generate_data.generate(seed), path)
        source, sha = "generated", C.sha256_file(path)
        df = pd.read_csv(path)
        hourly = pd.DataFrame({"ts": pd.to_datetime(df[["year", "month", "day", "hour"]]),
                               "pickup_community_area": df["pickup_community_area"], TARGET: df[TARGET]})
    hourly = hourly[(hourly["pickup_community_area"] >= 1) & (hourly["pickup_community_area"] <= 77)]
    return hourly, source, sha


def with_lags(hourly: pd.DataFrame) -> pd.DataFrame:
    """Full (hour x area) grid with zeros for hours without trips; calendar lags from the past only."""
    grid = hourly.pivot_table(index="ts", columns="pickup_community_area", values=TARGET, aggfunc="sum")
    grid = grid.reindex(pd.date_range(grid.index.min(), grid.index.max(), freq="H")).fillna(0.0)
    m = grid.to_numpy(dtype=np.float64)  # (hours, areas)
    n = len(m)
    if n <= WARMUP_HOURS + 48:
        raise SystemExit(f"need more than {WARMUP_HOURS + 48} hours of data, got {n}")

    def shifted(k: int) -> np.ndarray:
        out = np.full_like(m, np.nan)
        out[k:] = m[:-k]
        return out

    csum = np.vstack([np.zeros((1, m.shape[1])), np.cumsum(m, axis=0)])
    rolling = np.full_like(m, np.nan)
    rolling[24:] = (csum[24:n] - csum[0:n - 24]) / 24.0  # mean of hours t-24 .. t-1
    ts = grid.index
    dow = ((ts.dayofweek.to_numpy() + 1) % 7) + 1
    frame = {
        "ts": np.repeat(ts.to_numpy(), m.shape[1]),
        "hour": np.repeat(ts.hour.to_numpy(), m.shape[1]),
        "day_of_week": np.repeat(dow, m.shape[1]),
        "is_weekend": np.repeat(np.isin(dow, [1, 7]).astype(int), m.shape[1]),
        "pickup_community_area": np.tile(grid.columns.to_numpy(dtype=int), n),
        "trip_count_lag_1h": shifted(1).ravel(),
        "trip_count_lag_24h": shifted(24).ravel(),
        "trip_count_lag_168h": shifted(168).ravel(),
        "trip_count_rolling_24h": rolling.ravel(),
        TARGET: m.ravel(),
    }
    df = pd.DataFrame(frame)
    return df[df["ts"] >= ts[WARMUP_HOURS]].reset_index(drop=True)


def build_pipeline(seed: int) -> Pipeline:
    return Pipeline([
        ("pre", ColumnTransformer([("num", "passthrough", FEATURES)])),
        ("gb", GradientBoostingRegressor(random_state=seed, **CONFIG["gb"])),
    ])


def reg_metrics(y, p) -> dict:
    return {"r2": C.r6(r2_score(y, p)), "rmse": C.r6(np.sqrt(mean_squared_error(y, p))),
            "mae": C.r6(mean_absolute_error(y, p))}


def pick_golden(y: np.ndarray, n: int, seed: int) -> list[int]:
    rng = np.random.default_rng(seed + 1)
    bins = [(y == 0), (y >= 1) & (y <= 5), (y > 5) & (y <= 50), (y > 50)]
    sizes = [10, 14, 14, n - 38]
    chosen: list[int] = []
    for mask, k in zip(bins, sizes):
        idx = np.flatnonzero(mask)
        chosen += [int(i) for i in rng.choice(idx, size=min(k, len(idx)), replace=False)]
    return sorted(chosen)


def model_card(m: dict, source: str, seed: int) -> str:
    s = m["split"]
    tiers = m["by_area_tier"]
    tier_rows = [[k, v["areas"], v["rows"], f"{v['mean_trips']:.2f}", f"{v['mae']:.3f}", f"{v['r2']:.3f}"]
                 for k, v in tiers.items()]
    base_rows = [["GradientBoosting (this model)", f"{m['r2']:.4f}", f"{m['rmse']:.3f}", f"{m['mae']:.3f}"]] + [
        [k, f"{v['r2']:.4f}", f"{v['rmse']:.3f}", f"{v['mae']:.3f}"] for k, v in m["baselines"].items()]
    data_line = ("Seeded synthetic hourly demand from `generate_data.py` (seed %d) with the schema of the portfolio's "
                 "`hourly_demand` table" % seed) if source == "generated" else f"`{source}`"
    imp = ", ".join(f"{k} {v:.3f}" for k, v in m["feature_importance"].items())
    return f"""# Model card: chicago-taxi {VERSION}

## Intended use
One-hour-ahead forecast of taxi trips starting in each Chicago community area, for fleet positioning and capacity
planning. **Out of scope**: cutting or rationing service in areas because predicted demand is low (low-demand areas
are often under-served, poorer areas; the forecast reflects past service, not need), pricing, anything about
individual drivers or riders.

## Model
GradientBoostingRegressor ({CONFIG['gb']['n_estimators']} trees, depth {CONFIG['gb']['max_depth']}, learning rate
{CONFIG['gb']['learning_rate']}, subsample {CONFIG['gb']['subsample']}) on 8 features: hour, day_of_week (1 = Sunday),
is_weekend, pickup_community_area and the demand lags (previous hour, same hour yesterday, same hour last week,
mean of the previous 24 hours). Exported to ONNX as one TreeEnsembleRegressor; output `prediction` (trips, float
[N,1]). Gradient boosting instead of the portfolio's RandomForest keeps the artifact small (the portfolio's card
reports ~30 MB for its 200-tree forest). Feature importance (impurity): {imp}.

## Data
{data_line}. Hours without trips are filled with 0 (calendar lags, unlike the portfolio's row-based shifts, where
"lag_1h" could be days old for quiet areas). The first {WARMUP_HOURS} hours only feed the lags.

## Metrics
Temporal split, no leakage: train on {s['trainStart']} .. {s['trainEnd']} ({s['train']} area-hours), test on
{s['testStart']} .. {s['testEnd']} ({s['test']} area-hours). Lags use only counts before the predicted hour (one-step-
ahead: at test time the previous hours are observed).

{C.md_table(["Model", "R2", "RMSE (trips)", "MAE (trips)"], base_rows)}

Headline **R2 {m['r2']:.4f}** on all test area-hours; on area-hours with at least one trip (comparable to the
portfolio's table, which has no zero rows) R2 {m['r2_nonzero_rows']:.4f}. MAPE is not reported: it is undefined for
the many zero-trip hours.

## Fairness
No person-level data. Errors by area demand tier (test split):

{C.md_table(["Tier", "Areas", "Rows", "Mean trips/h", "MAE", "R2"], tier_rows)}

Relative error is largest in the quiet areas; do not read their low forecasts as low need.

## Limitations
- Synthetic data unless retrained with `--data`; no weather, holidays, events or ride-hailing substitution.
- One step ahead only: multi-hour forecasts would have to feed predictions back as lags (errors compound).
- Areas are numeric codes to the trees; a new area (or re-zoning) needs retraining.
- Monitor drift with `drift_baseline.json` (PSI: 0.1 warn, 0.25 alert) and retrain when R2 on recent hours falls
  below 0.85.

## Reproduce
`/usr/bin/python3 examples/models/chicago-taxi/train.py --seed {seed}` ({C.environment_note()}).
"""


def main() -> None:
    ap = argparse.ArgumentParser(description="Train the chicago-taxi model")
    ap.add_argument("--data", help="real hourly demand CSV or raw Taxi Trips CSV (default: generated data)")
    ap.add_argument("--out", default=os.path.join(HERE, "artifacts"))
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()
    t0 = time.time()
    os.makedirs(args.out, exist_ok=True)

    hourly, source, data_sha = load(args.data, args.seed)
    df = with_lags(hourly)
    hours = np.sort(df["ts"].unique())
    cutoff = hours[int(len(hours) * CONFIG["split"]["trainFraction"])]
    train, test = df[df["ts"] < cutoff], df[df["ts"] >= cutoff]
    features = features_spec()
    pipe = build_pipeline(args.seed).fit(train[FEATURES], train[TARGET].to_numpy())

    served = C.as_served(test[FEATURES], features)
    pred = pipe.predict(served)
    y = test[TARGET].to_numpy()
    area_mean = train.groupby("pickup_community_area")[TARGET].mean()
    tier_of = pd.cut(area_mean, [-1, 1, 10, np.inf], labels=["quiet (<=1/h)", "medium (1-10/h)", "busy (>10/h)"])
    tiers = {}
    for tier in tier_of.cat.categories:
        areas = tier_of.index[tier_of == tier]
        mask = test["pickup_community_area"].isin(areas).to_numpy()
        if mask.any():
            tiers[str(tier)] = {"areas": int(len(areas)), "rows": int(mask.sum()), "mean_trips": C.r6(y[mask].mean()),
                                **{k: v for k, v in reg_metrics(y[mask], pred[mask]).items() if k != "rmse"}}
    nz = y > 0
    gb = pipe.named_steps["gb"]
    fmt = "%Y-%m-%dT%H:00"
    metrics = {
        "split": {"kind": "temporal", "train": int(len(train)), "test": int(len(test)),
                  "trainStart": pd.Timestamp(train["ts"].min()).strftime(fmt),
                  "trainEnd": pd.Timestamp(train["ts"].max()).strftime(fmt),
                  "testStart": pd.Timestamp(test["ts"].min()).strftime(fmt),
                  "testEnd": pd.Timestamp(test["ts"].max()).strftime(fmt),
                  "trainFraction": CONFIG["split"]["trainFraction"], "warmupHours": WARMUP_HOURS,
                  "areas": int(df["pickup_community_area"].nunique()),
                  "leakage": "features use only trip counts of hours before the predicted hour; test hours are all "
                             "after the last training hour"},
        "headline": {"name": "r2", "value": C.r6(r2_score(y, pred))},
        **reg_metrics(y, pred),
        "r2_nonzero_rows": C.r6(r2_score(y[nz], pred[nz])),
        "baselines": {
            "persistence (lag_1h)": reg_metrics(y, test["trip_count_lag_1h"].to_numpy()),
            "seasonal naive (lag_168h)": reg_metrics(y, test["trip_count_lag_168h"].to_numpy()),
            "rolling mean 24h": reg_metrics(y, test["trip_count_rolling_24h"].to_numpy()),
        },
        "by_area_tier": tiers,
        "feature_importance": {f: C.r6(v) for f, v in sorted(zip(FEATURES, gb.feature_importances_),
                                                            key=lambda kv: -kv[1])},
        "target_mean": {"train": C.r6(train[TARGET].mean()), "test": C.r6(y.mean())},
    }

    model, inputs, _ = export_pipeline(pipe, task="regression", name=NAME, version=VERSION, description=DESCRIPTION,
                                       metadata={"version": VERSION})
    if [n for n, _ in inputs] != FEATURES:
        raise SystemExit(f"graph inputs {inputs} != {FEATURES}")
    model_bytes = save_model(model, os.path.join(args.out, "model.onnx"))

    gold = pick_golden(y, CONFIG["golden"]["cases"], args.seed)
    golden = {"cases": [{"input": C.input_row(test[FEATURES].iloc[i], features), "prediction": float(pred[i])}
                        for i in gold]}
    bg = train[FEATURES].sample(n=CONFIG["background"]["rows"], random_state=args.seed)

    C.write_json(os.path.join(args.out, "model.schema.json"), C.sidecar(
        name=NAME, version=VERSION, task="regression", description=DESCRIPTION, features=features,
        outputs={"prediction": "prediction"}))
    C.write_json(os.path.join(args.out, "drift_baseline.json"), C.drift_baseline(train[FEATURES], features))
    C.write_json(os.path.join(args.out, "background.json"),
                 {"rows": [C.input_row(r, features) for _, r in bg.iterrows()]})
    C.write_json(os.path.join(args.out, "golden.json"), golden)
    C.write_json(os.path.join(args.out, "metrics.json"), metrics)
    C.write_json(os.path.join(args.out, "lineage.json"),
                 C.lineage(args.seed, source, data_sha, {**CONFIG, "seed": args.seed}, model_bytes))
    C.write_text(os.path.join(args.out, "MODEL_CARD.md"), model_card(metrics, source, args.seed))
    print(f"{NAME}: r2={metrics['r2']:.4f} mae={metrics['mae']:.3f} model.onnx={len(model_bytes)} B "
          f"in {time.time() - t0:.1f}s -> {args.out}")


if __name__ == "__main__":
    main()
