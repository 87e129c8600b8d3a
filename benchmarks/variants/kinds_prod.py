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


# dataset -> (frame -> (training rows, batch rows), story): a real shift of the data set itself
DRIFTS: dict = {}


@kind("data_drift", ["production.data_drift"])
def data_drift(spec: Spec) -> Scenario:
    """A real shift of the population taken from the data itself: the production batch comes from
    another period or group than training (summer flights after a winter-spring training set,
    later computer models, more recent years)."""
    data = load(spec)
    df = data.frame
    if spec.dataset in DRIFTS:  # the held-out data sets (holdout_plants.py)
        pick, story = DRIFTS[spec.dataset]
        key, late = pick(df)
    elif spec.dataset == "flights":
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
    num = [c for c in data.numeric if tr[c].nunique() > 5][:6] or list(data.numeric)
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


# --------------------------------------------------------------------------- labelled batches, artifacts

# dataset -> (segment predicates, story); inside the segment the outcome changed in production
_CONCEPT = {
    "flights": (
        [{"column": "airline", "op": "in", "value": ["UA", "B6"]}],
        "two airlines changed their schedules: their flights now arrive late at a much higher rate",
    ),
    "affairs": (
        [{"column": "n_kids", "op": ">=", "value": 2.0}],
        "the survey question changed for respondents with children: they now report differently",
    ),
    "computers": (
        [{"column": "premium_brand", "op": "==", "value": "yes"}],
        "premium brands raised their prices by 45%",
    ),
    "males": (
        [{"column": "in_union", "op": "==", "value": "yes"}],
        "a new union contract: union members' wages rose",
    ),
}


@kind("concept_drift", ["production.concept_drift"])
def concept_drift(spec: Spec) -> Scenario:
    """A labelled production batch from the same population whose outcome changed for a large
    segment: inputs look stable, performance drops."""
    data = load(spec)
    tr, te, cur = _three_way(data, spec)
    model = train_model(data, spec.family, tr, spec.seed)
    preds, story = _CONCEPT[spec.dataset]
    from planting import slice_rows

    m = slice_rows(cur, preds).to_numpy()
    g = rng(spec)
    cur2 = cur.copy()
    if data.task == "binary":
        base = cur2[data.target].to_numpy()
        cur2.loc[m, data.target] = np.where(g.random(int(m.sum())) < 0.6, 1 - base[m], base[m])
    elif data.target in ("list_price",):
        cur2.loc[m, data.target] = cur2.loc[m, data.target] * 1.45
    else:
        cur2.loc[m, data.target] = cur2.loc[m, data.target] + 1.0 * tr[data.target].std()
    meas = headline(model, data, tr, te)
    meas.update(
        {f"current_{k[5:]}": v for k, v in headline(model, data, tr, cur2).items() if k.startswith("test_")}
    )
    meas.update(
        {
            f"current_old_labels_{k[5:]}": v
            for k, v in headline(model, data, tr, cur).items()
            if k.startswith("test_")
        }
    )
    meas.update(
        segment_share=rnd(m.mean()), max_feature_psi=rnd(max(psi(tr[c], cur2[c]) for c in data.numeric))
    )
    return Scenario(
        spec.name,
        "concept_drift",
        data,
        spec.family,
        tr,
        te,
        story,
        [{"code": "production.concept_drift"}],
        [
            "errors.high_confidence_errors",
            "errors.underperforming_slice",
            "production.prediction_drift",
            "production.estimated_performance_drop",
            "evaluation.miscalibration",
        ],
        meas,
        "current has labels.",
        model=model,
        current=cur2,
    )


@kind("schema_change", ["production.schema_change"])
def schema_change(spec: Spec) -> Scenario:
    """A production batch after an upstream release: one model column renamed, one numeric column
    arriving as text, and a new category value in one categorical column."""
    data = load(spec)
    tr, te, cur = _three_way(data, spec)
    model = train_model(data, spec.family, tr, spec.seed)
    cur2 = _unlabelled(cur, data.target)
    ren, txt = data.numeric[0], data.numeric[1]
    cur2 = cur2.rename(columns={ren: ren + "_v2"})
    cur2[txt] = cur2[txt].map(lambda v: f"{v:,.2f}" if pd.notna(v) else "")
    cols = [ren, ren + "_v2", txt]
    meas = headline(model, data, tr, te)
    meas.update(renamed={ren: ren + "_v2"}, now_text=[txt])
    if data.categorical:
        cat = data.categorical[0]
        new = "NEW_" + str(cur2[cat].astype(str).iloc[0]).upper()
        k = int(0.1 * len(cur2))
        vals = cur2[cat].astype(str).to_numpy(dtype=object)
        vals[:k] = new
        cur2[cat] = vals
        cols.append(cat)
        meas["new_category"] = {cat: new, "share": rnd(k / len(cur2))}
    return Scenario(
        spec.name,
        "schema_change",
        data,
        spec.family,
        tr,
        te,
        f"production batch: {ren} renamed {ren}_v2, {txt} arrives as formatted text"
        + (f", {cols[-1]} has a new value" if data.categorical else ""),
        [{"code": "production.schema_change", "columns": cols}],
        PROD_ACC + ["data.missing_values", "data.unseen_categories", "pipeline.train_serving_skew"],
        meas,
        "current has no labels.",
        model=model,
        current=cur2,
    )


@kind("serialization_mismatch", ["pipeline.serialization_mismatch"])
def serialization_mismatch(spec: Spec) -> Scenario:
    """The scores production logged come from another fitted model than model.joblib (the model
    was retrained with other settings and the file in the registry was never updated)."""
    data = load(spec)
    tr, te, cur = _three_way(data, spec)
    model = train_model(data, spec.family, tr, spec.seed)
    other_rows = tr.sample(frac=0.8, random_state=spec.seed + 7)
    # retrained on other rows with other settings (class weights for a linear model)
    kw = {"class_weight": "balanced"} if spec.family == "logreg" else {}
    served = train_model(data, spec.family, other_rows, spec.seed + 7, **kw)
    logged = np.asarray(scores(served, cur[data.features], data.task))
    mine = np.asarray(scores(model, cur[data.features], data.task))
    cur2 = _unlabelled(cur, data.target)
    cur2["served_score"] = logged.round(6)
    meas = headline(model, data, tr, te)
    scale = 1.0 if data.task != "regression" else float(tr[data.target].std())
    meas.update(
        mean_abs_score_difference=rnd(np.mean(np.abs(logged - mine))),
        mean_abs_difference_in_target_sd=rnd(np.mean(np.abs(logged - mine)) / scale),
        share_rows_diff_over_0_05=rnd(np.mean(np.abs(logged - mine) / scale > 0.05)),
    )
    if meas["mean_abs_difference_in_target_sd"] < 0.03:
        raise ValueError(f"the served model is too close: {meas}")
    return Scenario(
        spec.name,
        "serialization_mismatch",
        data,
        spec.family,
        tr,
        te,
        "served_score in current comes from another fitted model (other rows, other seed)",
        [{"code": "pipeline.serialization_mismatch"}],
        ["production.prediction_drift"],
        meas,
        "current has no labels.",
        model=model,
        current=cur2,
        meta={"prediction_column": "served_score"},
    )


@kind("estimated_performance_drop", ["production.estimated_performance_drop"])
def estimated_performance_drop(spec: Spec) -> Scenario:
    """An unlabelled batch from a population where the model is unsure (a campaign reached people
    near the decision boundary: the batch is drawn from the middle of the model's scores).
    Variant 'curated': the evaluation set was also curated, its borderline cases (scores 0.3-0.7)
    removed, so it has few rows where the batch falls (issue 9, cap. 11)."""
    data = load(spec)
    tr, te, cur = _three_way(data, spec)
    model = train_model(data, spec.family, tr, spec.seed)
    p = np.asarray(scores(model, cur[data.features], "binary"))
    g = rng(spec)
    w = np.exp(-(((p - 0.5) / 0.12) ** 2))
    pick = g.random(len(cur)) < w / w.max()
    cur2 = cur[pick].reset_index(drop=True)
    te2 = te
    if spec.variant == "curated":
        pt = np.asarray(scores(model, te[data.features], "binary"))
        te2 = te[(pt < 0.3) | (pt > 0.7)].reset_index(drop=True)
    meas = headline(model, data, tr, te2)
    meas.update(
        {
            f"current_real_{k[5:]}": v
            for k, v in headline(model, data, tr, cur2).items()
            if k.startswith("test_")
        }
    )
    pc = np.asarray(scores(model, cur2[data.features], "binary"))
    meas.update(
        current_rows=len(cur2),
        confidence_based_accuracy_current=rnd(np.mean(np.maximum(pc, 1 - pc))),
        share_test_scores_in_0_3_0_7=rnd(
            np.mean(np.abs(np.asarray(scores(model, te2[data.features], "binary")) - 0.5) < 0.2)
        ),
        share_current_scores_in_0_3_0_7=rnd(np.mean(np.abs(pc - 0.5) < 0.2)),
    )
    if meas["test_accuracy"] - meas["current_real_accuracy"] < 0.08:
        raise ValueError("no real drop")
    if len(cur2) < 50:  # an accuracy on fewer rows has a 95% interval wider than +-0.14
        raise ValueError(f"a batch of {len(cur2)} rows: too few to measure its accuracy")
    return Scenario(
        spec.name,
        "estimated_performance_drop" + ("_curated" if spec.variant else ""),
        data,
        spec.family,
        tr,
        te2,
        "unlabelled batch from the population where the model is unsure"
        + ("; the evaluation set had its borderline cases removed" if spec.variant else ""),
        [{"code": "production.estimated_performance_drop"}],
        ["production.data_drift", "production.prediction_drift", "evaluation.miscalibration"],
        meas,
        "The batch's real labels were held back; measured.current_real_* is the real score.",
        model=model,
        current=_unlabelled(cur2, data.target),
        meta={"metric": "accuracy", "threshold": 0.5},
    )
