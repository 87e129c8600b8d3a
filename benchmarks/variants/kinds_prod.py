"""Generators of production batches: drift (whole batch or from its second half), concept drift,
out-of-distribution rows, train/serving skew (scale factors and affine maps), schema changes,
serialization mismatch, estimated performance drops (also with a curated evaluation set)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from planting import Spec, headline, kind, load, psi, rng, split_data, train_model
from scenario import Scenario, rnd, scores

PROD_ACC = [
    "production.prediction_drift",
    "production.estimated_performance_drop",
    "production.schema_change",
    "production.out_of_distribution",
    "production.data_drift",
]


def _three_way(data, spec: Spec, cur_share: float = 0.3):
    """train / test / current drawn at random from the same table."""
    tr, rest = split_data(data, spec, test_size=0.5)
    k = int(len(rest) * 0.5)
    return tr, rest.iloc[:k].reset_index(drop=True), rest.iloc[k:].reset_index(drop=True)


def _unlabelled(cur: pd.DataFrame, target: str) -> pd.DataFrame:
    return cur.drop(columns=[target])


# --------------------------------------------------------------------------- skew

# dataset -> (column, factor, offset, story); serving value = factor * value + offset
_SKEW = {
    "penguins": ("flipper_mm", 1 / 25.4, 0.0, "flipper length sent in inches instead of millimetres"),
    "cars": ("mass_lb", 0.45359, 0.0, "vehicle mass sent in kilograms instead of pounds"),
    "males": ("exper_yrs", 12.0, 0.0, "experience sent in months instead of years"),
    "flights": ("temp_f", 5 / 9, -32 * 5 / 9, "temperature sent in Celsius instead of Fahrenheit"),
    "computers": ("memory_mb", 1024.0, 0.0, "memory sent in kilobytes... per megabyte (x1024)"),
    "seattle": ("tmin_c", 1.8, 32.0, "minimum temperature sent in Fahrenheit instead of Celsius"),
    "affairs": ("years_wed", 12.0, 0.0, "years married sent in months"),
    "wages": ("weeks_worked", 1 / 52, 0.0, "weeks worked sent as a fraction of the year"),
    "cigar": ("pack_cost", 0.01, 0.0, "pack price sent in dollars instead of cents"),
}


@kind("train_serving_skew", ["pipeline.train_serving_skew"])
def train_serving_skew(spec: Spec) -> Scenario:
    """The serving path converts one column with another unit (any scale factor or affine map:
    inches for mm, kg for lb, months for years, Celsius for Fahrenheit; issue 9 cap. 13)."""
    data = load(spec)
    col, a, b, story = _SKEW[spec.dataset]
    tr, te, cur = _three_way(data, spec)
    model = train_model(data, spec.family, tr, spec.seed)
    cur2 = cur.copy()
    cur2[col] = cur[col] * a + b
    meas = headline(model, data, tr, te)
    ok = headline(model, data, tr, cur)
    bad = headline(model, data, tr, cur2)
    meas.update({f"current_true_units_{k[5:]}": v for k, v in ok.items() if k.startswith("test_")})
    meas.update({f"current_as_served_{k[5:]}": v for k, v in bad.items() if k.startswith("test_")})
    meas.update(
        column=col, factor=rnd(a, 6), offset=rnd(b, 6), psi_train_vs_current=rnd(psi(tr[col], cur2[col]))
    )
    s_ok, s_bad = scores(model, cur[data.features], data.task), scores(model, cur2[data.features], data.task)
    meas["mean_abs_score_change"] = rnd(np.mean(np.abs(np.asarray(s_ok) - np.asarray(s_bad))))
    return Scenario(
        spec.name,
        "train_serving_skew",
        data,
        spec.family,
        tr,
        te,
        f"serving path: {story} (x{a:.4g}{' + ' + format(b, '.4g') if b else ''})",
        [{"code": "pipeline.train_serving_skew", "columns": [col]}],
        PROD_ACC,
        meas,
        "current has no labels.",
        model=model,
        current=_unlabelled(cur2, data.target),
    )


# --------------------------------------------------------------------------- drift


@kind("data_drift", ["production.data_drift"])
def data_drift(spec: Spec) -> Scenario:
    """A real shift of the population taken from the data itself: the production batch comes from
    another period or group than training (summer flights after a winter-spring training set,
    later computer models, more recent years)."""
    data = load(spec)
    df = data.frame
    if spec.dataset == "flights":
        key, story = (
            df["season_month"] <= 5,
            "training on January-May flights, production batch from July-August",
        )
        late = df["season_month"].isin([7, 8])
    elif spec.dataset == "computers":
        key, story = (
            df["month_index"] <= 18,
            "training on the first 18 months of listings, production batch from months 28-35",
        )
        late = df["month_index"] >= 28
    elif spec.dataset == "seattle":
        key, story = (
            df["doy"].between(1, 150),
            "training on January-May, production batch from June-September",
        )
        late = df["doy"].between(160, 270)
    elif spec.dataset == "males":
        key, story = df["wave"] <= 1982, "training on waves 1980-82, production batch from 1986-87"
        late = df["wave"] >= 1986
    else:
        raise ValueError(spec.dataset)
    data.frame = df[key].reset_index(drop=True)
    tr, te = split_data(data, spec)
    cur = (
        df[late]
        .sample(n=min(int(late.sum()), max(len(te), 300)), random_state=spec.seed)
        .reset_index(drop=True)
    )
    model = train_model(data, spec.family, tr, spec.seed)
    meas = headline(model, data, tr, te)
    ps = {c: rnd(psi(tr[c], cur[c])) for c in data.numeric}
    drifted = [c for c, v in sorted(ps.items(), key=lambda kv: -kv[1]) if v > 0.25]
    meas.update(psi_train_vs_current=ps, columns_psi_over_0_25=drifted)
    meas.update(
        {f"current_{k[5:]}": v for k, v in headline(model, data, tr, cur).items() if k.startswith("test_")}
    )
    return Scenario(
        spec.name,
        "data_drift",
        data,
        spec.family,
        tr,
        te,
        story,
        [{"code": "production.data_drift", "columns": drifted}],
        PROD_ACC + ["production.concept_drift"],
        meas,
        "A real shift in the data set (no synthetic change); current has no labels.",
        model=model,
        current=_unlabelled(cur, data.target),
    )


@kind("out_of_distribution", ["production.out_of_distribution"])
def out_of_distribution(spec: Spec) -> Scenario:
    """Variants: '' 3% of production rows have two columns far beyond the training range (an
    upstream unit/entry error on some rows); 'few' only 3 rows with impossible magnitudes."""
    data = load(spec)
    tr, te, cur = _three_way(data, spec)
    model = train_model(data, spec.family, tr, spec.seed)
    g = rng(spec)
    num = [c for c in data.numeric if tr[c].nunique() > 10][:6]
    cols = list(g.choice(num, 2, replace=False))
    k = 3 if spec.variant == "few" else max(3, int(0.03 * len(cur)))
    idx = g.choice(len(cur), k, replace=False)
    cur2 = cur.copy()
    for c in cols:
        lo, hi = tr[c].min(), tr[c].max()
        cur2.loc[idx, c] = hi + (hi - lo) * g.uniform(2, 8, k) + 1
    meas = headline(model, data, tr, te)
    meas.update(
        ood_rows=int(k),
        ood_row_share=rnd(k / len(cur2)),
        columns=cols,
        train_range={c: [float(tr[c].min()), float(tr[c].max())] for c in cols},
        ood_rows_range={c: [float(cur2.loc[idx, c].min()), float(cur2.loc[idx, c].max())] for c in cols},
        psi_train_vs_current={c: rnd(psi(tr[c], cur2[c])) for c in cols},
    )
    return Scenario(
        spec.name,
        "out_of_distribution" + ("_few" if spec.variant else ""),
        data,
        spec.family,
        tr,
        te,
        f"{k} production rows ({k / len(cur2):.1%}) with {', '.join(cols)} far beyond the training range",
        [{"code": "production.out_of_distribution", "columns": cols}],
        PROD_ACC,
        meas,
        "current has no labels.",
        model=model,
        current=_unlabelled(cur2, data.target),
    )


@kind("drift_second_half", ["production.data_drift"])
def drift_second_half(spec: Spec) -> Scenario:
    """A time-stamped production batch whose second half is shifted (a sensor or feed changed
    mid-batch): averaged over the batch the shift is half as large (issue 9, cap. 12)."""
    data = load(spec)
    tcol = data.time
    if tcol is None:  # rows recorded over a year, in no particular order of their values
        tcol = "recorded_at"
        g0 = rng(spec, 7)
        secs = np.sort(g0.uniform(0, 365 * 86400, len(data.frame)))
        data.frame = data.frame.sample(frac=1, random_state=spec.seed).reset_index(drop=True)
        data.frame[tcol] = pd.Timestamp("2024-01-01") + pd.to_timedelta(np.round(secs), unit="s")
        data.time = tcol
    df = data.frame.sort_values(tcol).reset_index(drop=True)
    n = len(df)
    cut1, cut2 = int(n * 0.7), int(n * 0.8)
    # a forward split: test after train, the production batch after both
    tr, te = (
        df.iloc[: int(cut1 * 0.75)].reset_index(drop=True),
        df.iloc[int(cut1 * 0.75) : cut1].reset_index(drop=True),
    )
    data.frame = df.iloc[:cut1]
    cur = df.iloc[cut2:].reset_index(drop=True).copy()
    g = rng(spec)
    col = {"flights": "route_miles", "affairs": "resp_years", "fishing": "monthly_earnings"}.get(
        spec.dataset, data.numeric[0]
    )
    half = np.arange(len(cur)) >= len(cur) // 2
    sd = tr[col].std()
    cur.loc[half, col] = cur.loc[half, col] + 1.2 * sd
    model = train_model(data, spec.family, tr, spec.seed)
    meas = headline(model, data, tr, te)
    meas.update(
        column=col,
        shift_in_sd=1.2,
        change_starts_at=str(cur[tcol].iloc[len(cur) // 2]),
        psi_whole_batch=rnd(psi(tr[col], cur[col])),
        psi_first_half=rnd(psi(tr[col], cur.loc[~half, col])),
        psi_second_half=rnd(psi(tr[col], cur.loc[half, col])),
    )
    _ = g
    # the first half must look like training (PSI of a same-population sample is about 9/n)
    if meas["psi_first_half"] > 0.05 + 20 / max(int((~half).sum()), 1):
        raise ValueError(f"{col} already drifts in the first half (PSI {meas['psi_first_half']})")
    return Scenario(
        spec.name,
        "drift_second_half",
        data,
        spec.family,
        tr,
        te,
        f"{col} shifted by 1.2 sd from the middle of the time-ordered production batch on",
        [{"code": "production.data_drift", "columns": [col]}],
        PROD_ACC + ["production.concept_drift"],
        meas,
        "current has no labels.",
        model=model,
        current=_unlabelled(cur, data.target),
        meta={"time_column": tcol},
    )
