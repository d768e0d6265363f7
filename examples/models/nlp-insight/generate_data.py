"""Seeded synthetic financial headlines/tweets with 3-class sentiment labels.

Schema of the Twitter Financial News Sentiment data the portfolio uses: columns `text`
and `label` (here the names negative / neutral / positive; train.py also accepts the
dataset's integer ids). 12,000 rows, class balance like the real train split (neutral
~65%, positive ~20%, negative ~15%). Texts look like the real ones: cashtags ($AAPL),
company names, EPS and revenue numbers, percentages, price targets, quarters, URLs,
hashtags, "RT @user:" and wire prefixes, occasional ALL CAPS, emoji and non-ASCII
punctuation. Difficulty is realistic rather than trivial: classes share most of the
vocabulary, some headlines are mixed ("beats ... but guidance disappoints") or hedged,
and ~9% of labels are noisy (human labels of financial tweets disagree often).

Usage: generate_data.py [--seed 42] [--rows 12000] [--out data/sentiment.csv]
Deterministic: the same seed and rows give byte-identical CSV output.
"""

from __future__ import annotations

import argparse
import os

import numpy as np
import pandas as pd

LABELS = ["negative", "neutral", "positive"]
CLASS_P = [0.1225, 0.696, 0.1815]  # before label noise; after it ~15/65/20% like the real data
LABEL_NOISE = 0.09

COMPANIES = [
    ("AAPL", "Apple"), ("MSFT", "Microsoft"), ("AMZN", "Amazon"), ("GOOGL", "Alphabet"), ("META", "Meta"),
    ("TSLA", "Tesla"), ("NVDA", "Nvidia"), ("AMD", "AMD"), ("INTC", "Intel"), ("NFLX", "Netflix"),
    ("DIS", "Disney"), ("BA", "Boeing"), ("JPM", "JPMorgan"), ("BAC", "Bank of America"), ("GS", "Goldman Sachs"),
    ("WFC", "Wells Fargo"), ("C", "Citigroup"), ("XOM", "Exxon Mobil"), ("CVX", "Chevron"), ("PFE", "Pfizer"),
    ("MRNA", "Moderna"), ("JNJ", "Johnson & Johnson"), ("UNH", "UnitedHealth"), ("WMT", "Walmart"),
    ("TGT", "Target"), ("COST", "Costco"), ("HD", "Home Depot"), ("NKE", "Nike"), ("SBUX", "Starbucks"),
    ("MCD", "McDonald's"), ("KO", "Coca-Cola"), ("PEP", "PepsiCo"), ("UBER", "Uber"), ("LYFT", "Lyft"),
    ("ABNB", "Airbnb"), ("SNAP", "Snap"), ("PYPL", "PayPal"), ("SQ", "Block"), ("SHOP", "Shopify"),
    ("CRM", "Salesforce"), ("ORCL", "Oracle"), ("IBM", "IBM"), ("CSCO", "Cisco"), ("QCOM", "Qualcomm"),
    ("MU", "Micron"), ("F", "Ford"), ("GM", "General Motors"), ("RIVN", "Rivian"), ("CCL", "Carnival"),
    ("RCL", "Royal Caribbean"), ("DAL", "Delta"), ("UAL", "United Airlines"), ("BYND", "Beyond Meat"),
    ("PTON", "Peloton"), ("ZM", "Zoom"), ("T", "AT&T"), ("VZ", "Verizon"), ("CAT", "Caterpillar"),
    ("DE", "Deere"), ("GE", "General Electric"), ("LMT", "Lockheed Martin"), ("CMG", "Chipotle"),
    ("LULU", "Lululemon"), ("BABA", "Alibaba"), ("NIO", "NIO"), ("SONY", "Sony"), ("SAP", "SAP"),
]
BROKERS = ["Morgan Stanley", "Goldman", "JPMorgan", "Citi", "Barclays", "UBS", "Jefferies", "Nomura",
           "Wedbush", "Bernstein", "Evercore ISI", "Piper Sandler", "KeyBanc", "Raymond James", "BofA"]
SOURCES = ["Reuters", "Bloomberg", "CNBC", "MarketWatch", "WSJ", "Barron's", "Yahoo Finance", "Benzinga",
           "Seeking Alpha", "FT"]
USERS = ["MarketWatch", "ReutersBiz", "business", "CNBC", "YahooFinance", "WSJmarkets", "zerohedge",
         "StockTwits", "Benzinga", "SeekingAlpha", "TheStreet", "FinancialTimes"]
HASHTAGS = ["#stocks", "#investing", "#earnings", "#markets", "#trading", "#WallStreet", "#NASDAQ", "#SP500",
            "#finance", "#economy", "#StockMarket", "#tech"]
EMOJI = ["🚀", "📈", "📉", "💰", "🔥", "⚠️", "👀", "🤔"]
MONTHS = ["Jan.", "Feb.", "March", "April", "May", "June", "July", "Aug.", "Sept.", "Oct.", "Nov.", "Dec."]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
CONFS = ["an investor conference", "the Goldman Sachs tech conference", "CES", "its annual shareholder meeting",
         "the JPMorgan healthcare conference", "an analyst day"]
PRODUCTS = ["iPhone", "cloud", "data center", "advertising", "streaming", "EV", "chip", "subscription",
            "travel", "pharma", "retail", "software", "AI"]

UP = ["jumps", "surges", "soars", "rallies", "climbs", "gains", "rises", "pops", "spikes", "jumps higher",
      "rebounds", "extends gains", "hits record high", "trades higher", "advances"]
DOWN = ["falls", "drops", "slides", "tumbles", "plunges", "sinks", "slumps", "dips", "slips", "declines",
        "sheds", "extends losses", "hits 52-week low", "trades lower", "craters"]
GOOD = ["strong", "upbeat", "solid", "robust", "better-than-expected", "record", "bullish"]
BAD = ["weak", "disappointing", "soft", "dismal", "worse-than-expected", "gloomy", "bearish"]

POSITIVE = [
    "{co} beats Q{q} estimates, EPS {eps} vs. {eps2} expected",
    "{tk} {up} {pct} after {good} quarterly results",
    "{co} raises full-year guidance on {good} {prod} demand",
    "{broker} upgrades {tk} to buy, price target raised to {price}",
    "{co} revenue up {pct} YoY to {rev}, tops forecasts",
    "{tk} {up} as {prod} sales accelerate",
    "{co} announces {rev} share buyback and dividend hike",
    "{co} shares {up} after {good} {prod} numbers",
    "{broker} sees {pct} upside in {tk}, reiterates outperform",
    "{co} lands multibillion-dollar {prod} contract; stock {up}",
    "{tk} {up} {pct} premarket on earnings beat",
    "{co} posts record profit of {rev} in Q{q}",
    "{co} margins expand, guidance raised for FY{yy}",
    "{tk} breakout: shares {up} to all-time high",
    "{co} wins FDA approval, shares {up}",
    "{co} boosts dividend by {pct}",
    "Strong quarter for {co}: sales {up} {pct}",
    "{tk} {up} after {broker} calls it a top pick",
    "{co} beats on top and bottom line, raises outlook",
    "{co} misses on revenue but raises guidance; shares {up}",
]
NEGATIVE = [
    "{co} misses Q{q} estimates, EPS {eps} vs. {eps2} expected",
    "{tk} {down} {pct} after {bad} quarterly results",
    "{co} cuts full-year guidance citing {bad} {prod} demand",
    "{broker} downgrades {tk} to sell, price target cut to {price}",
    "{co} revenue down {pct} YoY to {rev}, below forecasts",
    "{tk} {down} as {prod} sales slow",
    "{co} to lay off {n},000 workers amid slowdown",
    "{co} shares {down} after {bad} {prod} numbers",
    "{co} faces SEC probe over accounting; stock {down}",
    "{co} recalls {n}00,000 vehicles, shares {down}",
    "{tk} {down} {pct} premarket on earnings miss",
    "{co} swings to a loss of {rev} in Q{q}",
    "{co} suspends dividend as losses mount",
    "{tk} breakdown: shares {down} to multiyear low",
    "{co} warns of {bad} {prod} outlook for FY{yy}",
    "{broker} reels in expectations on {co}",
    "Rough quarter for {co}: sales {down} {pct}",
    "{co} sued over data breach, stock {down}",
    "{co} beats on earnings but guidance disappoints; shares {down}",
    "{co} CEO steps down abruptly; shares {down} {pct}",
]
NEUTRAL = [
    "{co} to report Q{q} earnings on {day}",
    "{co} names new CFO effective {month} {d}",
    "{co} to present at {conf}",
    "{co} declares quarterly dividend of {cents} per share",
    "What to watch in {tk} earnings this week",
    "Stocks making the biggest moves premarket: {tk}, {tk2}, {tk3}",
    "{co} files 10-Q for the quarter ended {month} {d}",
    "{tk} options volume: {n}00K calls, {n2}00K puts",
    "{co} completes previously announced acquisition",
    "{co} CEO to speak at {conf} on {day}",
    "{broker} initiates {tk} at neutral, PT {price}",
    "{broker} maintains hold on {tk}, PT {price}",
    "{co} sets date for Q{q} FY{yy} results",
    "{tk} trades flat ahead of Fed decision",
    "{co} launches new {prod} product in {n} markets",
    "{co} board approves annual meeting date",
    "{co} shares unchanged after {co2} news",
    "Earnings preview: {co} expected to post EPS of {eps}",
    "{co} to split stock {n}-for-1, effective {month} {d}",
    "Fed minutes due at 2pm ET; {tk} {tk2} in focus",
    "{co} and {co2} announce {prod} partnership",
    "{tk} short interest at {pct} of float",
    "{co} {prod} event scheduled for {month} {d}",
    "Market wrap: S&P 500 ends {flat}; {tk} in focus",
    "{co} price target {price} at {broker}",
    "{co} reports Q{q} results in line with estimates",
    "{co} moves headquarters to {city}",
    "Weekly recap: {tk}, {tk2} and {tk3} lead volume",
    "{co} {vol} ahead of earnings, implied move {pct}",
    "{tk} {up} then {down} in choppy session",
    "{tk} {up} with the broader market",
    "{tk} {down} with the broader market",
    "{co} shares {up} {pct} in line with sector peers",
    "{co} shares {down} {pct} in line with sector peers",
]
CITIES = ["Austin", "Miami", "Dallas", "Atlanta", "Nashville", "Denver", "Charlotte"]
FLAT = ["flat", "little changed", "mixed", "near unchanged"]
VOL = ["options active", "volatile", "in focus", "on watch", "trading heavy"]


def _money(rng, lo, hi, digits=2):
    return f"${rng.uniform(lo, hi):.{digits}f}"


def _fill(template: str, rng: np.random.Generator) -> str:
    co_i, co2_i, co3_i = rng.choice(len(COMPANIES), size=3, replace=False)
    tk, co = COMPANIES[co_i]
    eps = rng.uniform(-0.5, 6.0)
    slots = {
        "co": co if rng.random() < 0.6 else f"${tk}",
        "co2": COMPANIES[co2_i][1],
        "tk": f"${tk}",
        "tk2": f"${COMPANIES[co2_i][0]}",
        "tk3": f"${COMPANIES[co3_i][0]}",
        "q": int(rng.integers(1, 5)),
        "yy": int(rng.integers(22, 27)),
        "eps": f"${eps:.2f}",
        "eps2": f"${eps + rng.uniform(-0.3, 0.3):.2f}",
        "pct": f"{rng.uniform(0.5, 35):.{int(rng.integers(0, 2))}f}%",
        "price": _money(rng, 8, 900, 0),
        "rev": f"${rng.uniform(0.1, 99):.1f}{rng.choice(['B', 'M', ' billion', ' million'])}",
        "cents": f"${rng.uniform(0.05, 2.5):.2f}",
        "n": int(rng.integers(2, 13)),
        "n2": int(rng.integers(1, 9)),
        "d": int(rng.integers(1, 29)),
        "day": DAYS[int(rng.integers(len(DAYS)))],
        "month": MONTHS[int(rng.integers(len(MONTHS)))],
        "conf": CONFS[int(rng.integers(len(CONFS)))],
        "broker": BROKERS[int(rng.integers(len(BROKERS)))],
        "prod": PRODUCTS[int(rng.integers(len(PRODUCTS)))],
        "up": UP[int(rng.integers(len(UP)))],
        "down": DOWN[int(rng.integers(len(DOWN)))],
        "good": GOOD[int(rng.integers(len(GOOD)))],
        "bad": BAD[int(rng.integers(len(BAD)))],
        "city": CITIES[int(rng.integers(len(CITIES)))],
        "flat": FLAT[int(rng.integers(len(FLAT)))],
        "vol": VOL[int(rng.integers(len(VOL)))],
    }
    return template.format(**slots)


def _decorate(text: str, rng: np.random.Generator) -> str:
    r = rng.random
    if r() < 0.12:
        text = rng.choice(["BREAKING: ", "JUST IN: ", "UPDATE 2-", "*", "Exclusive: ", "Analyst Upgrade/Downgrade - "]
                          ) + text
    if r() < 0.10:
        text = f"RT @{rng.choice(USERS)}: " + text
    if r() < 0.05:
        text = text.upper()
    if r() < 0.25:
        text += " - " + str(rng.choice(SOURCES))
    if r() < 0.45:
        code = "".join(rng.choice(list("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"), size=10))
        text += f" https://t.co/{code}"
    if r() < 0.15:
        text += " " + " ".join(rng.choice(HASHTAGS, size=int(rng.integers(1, 3)), replace=False))
    if r() < 0.06:
        text += " " + str(rng.choice(EMOJI))
    if r() < 0.04:
        text = text.replace(" - ", " \u2014 ").replace("'", "\u2019")
    return text


def generate(seed: int = 42, rows: int = 12_000) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    pools = {"negative": NEGATIVE, "neutral": NEUTRAL, "positive": POSITIVE}
    texts, labels = [], []
    classes = rng.choice(LABELS, size=rows, p=CLASS_P)
    for cls in classes:
        pool = pools[str(cls)]
        text = _decorate(_fill(pool[int(rng.integers(len(pool)))], rng), rng)
        label = str(cls)
        if rng.random() < LABEL_NOISE:
            label = str(rng.choice([c for c in LABELS if c != label]))
        texts.append(text)
        labels.append(label)
    return pd.DataFrame({"text": texts, "label": labels})


def write_csv(df: pd.DataFrame, path: str) -> None:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    df.to_csv(path, index=False, lineterminator="\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--rows", type=int, default=12_000)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "data",
                                                  "sentiment.csv"))
    args = ap.parse_args()
    df = generate(args.seed, args.rows)
    write_csv(df, args.out)
    print(f"wrote {len(df)} rows to {args.out}: {df['label'].value_counts().to_dict()}")


if __name__ == "__main__":
    main()
