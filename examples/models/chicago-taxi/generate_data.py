"""Seeded synthetic hourly taxi demand per Chicago community area.

Schema of the portfolio's `hourly_demand` table (the Spark ETL's group-by of the City of
Chicago "Taxi Trips (2013-2023)" data by hour and pickup community area): year, month,
day, hour, day_of_week (Spark: 1 = Sunday ... 7 = Saturday), is_weekend,
pickup_community_area (1-77), trip_count (the target), avg_duration_seconds,
avg_distance_miles, avg_fare, avg_tips, avg_speed_mph, avg_tip_pct, total_revenue.
Like the real table, only (area, hour) pairs with at least one trip have a row.

Demand structure: a heavy-tailed split across areas (Near North Side 8, Loop 32 and
O'Hare 76 dominate; most areas see a trip or two an hour at most), daily profiles by
area type (downtown commute peaks, airport day-long plateau, neighbourhood evenings and
weekend nights), day-of-week effects, city-wide daily shocks (weather), a slowly
varying per-area level (hour-to-hour persistence), occasional events, and over-dispersed
Poisson counts. The other columns are plausible per-trip averages; the model does not
use them (same-hour values would leak the target).

Usage: generate_data.py [--seed 42] [--weeks 10] [--start 2023-07-03] [--out data/hourly_demand.csv]
Deterministic: the same arguments give byte-identical CSV output.
"""

from __future__ import annotations

import argparse
import os

import numpy as np
import pandas as pd

N_AREAS = 77
TOP_AREAS = {8: 62.0, 32: 50.0, 76: 68.0, 28: 18.0, 33: 10.0, 56: 13.0, 6: 7.0, 7: 6.0, 24: 5.5, 3: 2.8, 22: 2.6,
             77: 1.8, 5: 1.5, 4: 1.2, 1: 1.2, 2: 1.0, 41: 1.6, 35: 1.3, 34: 1.0, 21: 0.9}
DOWNTOWN = {8, 32, 28, 33}
AIRPORT = {76, 56}

_H = np.arange(24)


def _bump(center: float, width: float) -> np.ndarray:
    d = np.minimum(np.abs(_H - center), 24 - np.abs(_H - center))
    return np.exp(-0.5 * (d / width) ** 2)


def _profiles() -> dict[str, np.ndarray]:
    """Hour-of-day multipliers [weekday, weekend] x 24 per area type, each averaging 1."""
    p = {
        "downtown": (0.10 + 1.5 * _bump(8.5, 1.3) + 1.0 * _bump(13, 2.5) + 2.0 * _bump(17.5, 1.6)
                     + 0.7 * _bump(21, 2.0), 0.12 + 1.1 * _bump(14, 3.0) + 1.2 * _bump(23, 2.2)),
        "airport": (0.08 + 1.3 * _bump(8, 2.0) + 1.0 * _bump(13, 3.0) + 1.6 * _bump(18, 2.5),
                    0.08 + 1.2 * _bump(10, 2.5) + 1.4 * _bump(17, 3.0)),
        "neighbourhood": (0.15 + 0.7 * _bump(8, 1.5) + 1.3 * _bump(19, 2.5) + 0.7 * _bump(23, 1.5),
                          0.20 + 1.0 * _bump(13, 3.0) + 1.6 * _bump(23.5, 2.0)),
    }
    return {k: np.stack([a / a.mean(), b / b.mean()]) for k, (a, b) in p.items()}


def generate(seed: int = 42, weeks: int = 10, start: str = "2023-07-03") -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    hours = pd.date_range(start, periods=weeks * 7 * 24, freq="H")
    n_h = len(hours)
    areas = np.arange(1, N_AREAS + 1)
    base = np.array([TOP_AREAS.get(a, 0.0) for a in areas])
    small = rng.lognormal(mean=np.log(0.25), sigma=0.9, size=N_AREAS)
    base = np.where(base > 0, base, np.minimum(small, 1.0))
    kind = np.array(["downtown" if a in DOWNTOWN else "airport" if a in AIRPORT else "neighbourhood" for a in areas])
    prof = _profiles()

    hour = hours.hour.to_numpy()
    dow = ((hours.dayofweek.to_numpy() + 1) % 7) + 1  # pandas Mon=0 -> Spark Sun=1..Sat=7
    weekend = np.isin(dow, [1, 7]).astype(int)
    dow_factor = np.array([0.0, 0.85, 0.92, 1.0, 1.04, 1.08, 1.2, 1.08])[dow]
    days = (np.arange(n_h) // 24)
    daily_shock = rng.lognormal(0.0, 0.10, size=days.max() + 1)[days]          # weather, city-wide
    trend = 1.0 + 0.05 * np.sin(2 * np.pi * np.arange(n_h) / (n_h * 1.3))      # slow seasonal drift

    # per-area persistent level: AR(1) in log space at hourly resolution
    level = np.zeros((n_h, N_AREAS))
    eps = rng.normal(0.0, 0.06, size=(n_h, N_AREAS))
    for t in range(1, n_h):
        level[t] = 0.95 * level[t - 1] + eps[t]
    # events: a few hour-blocks with 1.6-3x demand in random busy-ish areas
    event = np.ones((n_h, N_AREAS))
    for _ in range(weeks * 4):
        a = int(rng.integers(N_AREAS))
        t0 = int(rng.integers(n_h - 6))
        event[t0:t0 + int(rng.integers(2, 6)), a] *= rng.uniform(1.6, 3.0)

    profile = np.stack([prof[k][weekend, hour] for k in kind], axis=1)       # (n_h, areas)
    lam = (base[None, :] * profile * dow_factor[:, None] * daily_shock[:, None] * trend[:, None]
           * np.exp(level) * event)
    lam = lam * rng.gamma(shape=80.0, scale=1 / 80.0, size=lam.shape)        # over-dispersion
    counts = rng.poisson(lam)

    ts_idx, area_idx = np.nonzero(counts)
    ts = hours[ts_idx]
    trip_count = counts[ts_idx, area_idx]
    area = areas[area_idx]
    is_airport = np.isin(area, list(AIRPORT))
    dist = np.where(is_airport, rng.normal(14.0, 3.0, len(area)), rng.gamma(2.0, 1.6, len(area))).clip(0.5, 60)
    speed = np.where(is_airport, rng.normal(24, 4, len(area)), rng.normal(13, 3, len(area))).clip(4, 60)
    duration = dist / speed * 3600
    fare = (3.25 + 2.25 * dist + 0.25 * duration / 36).round(2)
    tip_pct = rng.uniform(0, 25, len(area)).round(2)
    tips = (fare * tip_pct / 100).round(2)
    return pd.DataFrame({
        "year": ts.year,
        "month": ts.month,
        "day": ts.day,
        "hour": ts.hour,
        "day_of_week": dow[ts_idx],
        "is_weekend": weekend[ts_idx],
        "pickup_community_area": area,
        "trip_count": trip_count,
        "avg_duration_seconds": duration.round(1),
        "avg_distance_miles": dist.round(2),
        "avg_fare": fare,
        "avg_tips": tips,
        "avg_speed_mph": speed.round(2),
        "avg_tip_pct": tip_pct,
        "total_revenue": ((fare + tips) * trip_count).round(2),
    }).sort_values(["year", "month", "day", "hour", "pickup_community_area"], kind="mergesort").reset_index(drop=True)


def write_csv(df: pd.DataFrame, path: str) -> None:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    df.to_csv(path, index=False, lineterminator="\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--weeks", type=int, default=10)
    ap.add_argument("--start", default="2023-07-03")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "data",
                                                  "hourly_demand.csv"))
    args = ap.parse_args()
    df = generate(args.seed, args.weeks, args.start)
    write_csv(df, args.out)
    print(f"wrote {len(df)} rows to {args.out} ({df['trip_count'].sum()} trips)")


if __name__ == "__main__":
    main()
