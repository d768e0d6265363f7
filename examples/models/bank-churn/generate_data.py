"""Seeded synthetic bank-churn data with the schema of Churn_Modelling.csv.

Columns, in the real file's order: RowNumber, CustomerId, Surname, CreditScore,
Geography, Gender, Age, Tenure, Balance, NumOfProducts, HasCrCard,
IsActiveMember, EstimatedSalary, Exited.

Marginals follow the real (TripleTen "Beta Bank") file: 10,000 rows, ~20% churn,
France/Germany/Spain 50/25/25, 54.6% male, Age 18-92 right-skewed, CreditScore
350-850 with a pile-up at 850, ~36% zero balances (none in Germany), products
1-4 (51/46/2.7/0.6%), ~9% missing Tenure (stored as float, like "2.0"),
EstimatedSalary uniform. Churn relationships follow the real data's: strongly
inverted-U in Age, 3-4 products very likely to churn, 2 products least likely,
inactive members, Germany and women churn more, a non-zero balance slightly more;
Tenure, credit card and salary barely matter.

Usage: generate_data.py [--seed 42] [--rows 10000] [--out data/churn.csv]
Deterministic: the same seed and rows give byte-identical CSV output.
"""

from __future__ import annotations

import argparse
import os

import numpy as np
import pandas as pd

SURNAMES = (
    "Smith Jones Williams Brown Taylor Davies Evans Wilson Thomas Roberts Johnson Lewis Walker Robinson Wood "
    "Thompson White Watson Jackson Wright Green Harris Cooper King Lee Martin Clarke James Morgan Hughes Edwards "
    "Hill Moore Clark Harrison Scott Young Morris Hall Ward Turner Carter Phillips Mitchell Patel Adams Campbell "
    "Anderson Allen Cook Bailey Parker Miller Davis Murphy Price Bell Baker Griffiths Kelly Simpson Marshall "
    "Collins Bennett Cox Richardson Fox Gray Rose Chapman Hunt Robertson Shaw Reynolds Lloyd Ellis Richards "
    "Russell Wilkinson Khan Graham Stewart Reid Murray Powell Palmer Holmes Rogers Stevens Walsh Hunter Thomson "
    "Matthews Ross Owen Mason Knight Kennedy Butler Saunders Cole Pearce Dean Moreau Dubois Lefebvre Laurent "
    "Bernard Girard Fontaine Muller Schmidt Schneider Fischer Weber Meyer Wagner Becker Hoffmann Garcia Martinez "
    "Lopez Sanchez Romero Navarro Torres Ruiz Chukwuemeka Onyekachi Obinna Nwankwo Hsiung Chiang Lo Yeh Tsao "
    "Fang Kao Trevisani Genovese Udinesi Bianchi Ferri Ricci Lombardi Mazzanti Esposito"
).split()


def generate(seed: int = 42, rows: int = 10_000) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = rows

    geography = rng.choice(["France", "Germany", "Spain"], size=n, p=[0.5014, 0.2509, 0.2477])
    gender = rng.choice(["Male", "Female"], size=n, p=[0.5457, 0.4543])
    age = np.clip(np.round(18 + rng.gamma(shape=2.9, scale=7.0, size=n)), 18, 92).astype(int)
    credit = np.clip(np.round(rng.normal(651, 97, size=n)), 350, 850).astype(int)
    tenure = rng.integers(0, 11, size=n).astype(float)
    tenure[rng.random(n) < 0.0909] = np.nan

    zero_p = np.where(geography == "Germany", 0.0, 0.485)
    zero_balance = rng.random(n) < zero_p
    balance = np.where(zero_balance, 0.0, np.clip(rng.normal(119_800, 30_100, size=n), 3_768.69, 250_898.09))
    balance = np.round(balance, 2)

    p_products = np.where(
        zero_balance[:, None], np.array([0.30, 0.66, 0.03, 0.01]), np.array([0.62, 0.345, 0.029, 0.006])
    )
    p_products = p_products / p_products.sum(axis=1, keepdims=True)
    u = rng.random(n)
    products = 1 + (u[:, None] > np.cumsum(p_products, axis=1)).sum(axis=1)

    has_card = (rng.random(n) < 0.7055).astype(int)
    active = (rng.random(n) < np.clip(0.44 + 0.004 * (age - 38), 0.2, 0.85)).astype(int)
    salary = np.round(rng.uniform(11.58, 199_992.48, size=n), 2)

    # churn log-odds, shaped after the real file's churn rates by segment
    age_effect = 5.0 / (1 + np.exp(-(age - 46.0) / 3.8)) - 3.0 / (1 + np.exp(-(age - 63.0) / 3.5))
    product_effect = np.select([products == 1, products == 2, products == 3], [0.0, -1.45, 2.4], 4.0)
    logit = (
        -2.8
        + age_effect
        + product_effect
        - 1.25 * active
        + 0.75 * (geography == "Germany")
        + 0.50 * (gender == "Female")
        + 0.25 * (balance > 0)
        - 0.0012 * (credit - 650)
        + 2.5 * (credit < 400)
        + 0.35 * active * (age > 55)
        - 0.01 * np.nan_to_num(tenure - 5.0)
    )
    exited = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)

    customer_id = 15_565_701 + rng.choice(250_000, size=n, replace=False)
    return pd.DataFrame(
        {
            "RowNumber": np.arange(1, n + 1),
            "CustomerId": customer_id,
            "Surname": rng.choice(SURNAMES, size=n),
            "CreditScore": credit,
            "Geography": geography,
            "Gender": gender,
            "Age": age,
            "Tenure": tenure,
            "Balance": balance,
            "NumOfProducts": products,
            "HasCrCard": has_card,
            "IsActiveMember": active,
            "EstimatedSalary": salary,
            "Exited": exited,
        }
    )


def write_csv(df: pd.DataFrame, path: str) -> None:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    df.to_csv(path, index=False, lineterminator="\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "churn.csv"))
    args = ap.parse_args()
    df = generate(args.seed, args.rows)
    write_csv(df, args.out)
    print(f"wrote {len(df)} rows to {args.out} (churn rate {df['Exited'].mean():.3f})")


if __name__ == "__main__":
    main()
