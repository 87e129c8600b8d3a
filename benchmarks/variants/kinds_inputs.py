"""A new user's files (issue 9, capabilities 10, 15, 16): an ordinary planted failure (a leak,
copies across the split, out-of-range rows) in the inputs a new user has rather than the
benchmark's tidy Parquet and joblib files.

Kind `new_user`, the variant names the awkward inputs; each wraps the generator of the ordinary
kind (its truth and measurements) and rewrites the frames and the model file:

- `semicolon`: `;`-separated CSV with decimal commas (a European spreadsheet export);
- `codes_booster`: categories spelt as zero-padded numeric codes ('03', a zip-code-like column a
  CSV reader turns into 3) for a LightGBM model on pandas categories, saved natively (`save_model`
  -> model.txt), CSV files;
- `strings_svc`: a yes/no text target and a LinearSVC (no predict_proba), tab-separated .tsv;
- `extra_columns`: an id and a timestamp column in the files and a Pipeline whose
  ColumnTransformer was fitted on the whole frame (target included), saved with pickle,
  `|`-separated CSV;
- `xgb_json`: an XGBoost model on a pandas category saved natively (model.json), CSV files;
- `one_row`: a production batch of a single row, CSV files.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from planting import KINDS, Spec, kind, train_model
from scenario import Scenario, as_category, fit, make_model

# variant -> (the ordinary kind, its variant, the files)
_BASE = {
    "semicolon": ("label_leakage", "", {"sep": ";", "decimal": ","}),
    "codes_booster": ("label_leakage", "", {"sep": ",", "model": "lgb_txt"}),
    "strings_svc": ("train_test_overlap", "", {"sep": "\t", "ext": "tsv"}),
    "extra_columns": ("train_test_overlap", "", {"sep": "|", "model": "pickle"}),
    "xgb_json": ("label_leakage", "", {"sep": ",", "model": "xgb_json"}),
    "one_row": ("out_of_distribution", "few", {"sep": ","}),
}


def _frames(sc: Scenario) -> list[pd.DataFrame]:
    return [f for f in (sc.train, sc.test, sc.current) if f is not None]


def _codes(sc: Scenario) -> None:
    """Categories spelt as zero-padded numbers ('grade_3' -> '03'), the model refitted on them."""
    data = sc.data
    for col in data.categorical:
        values = sorted({str(v) for f in _frames(sc) if col in f for v in f[col].dropna().unique()})
        code = {v: f"{i + 1:02d}" for i, v in enumerate(values)}
        for f in _frames(sc):
            if col in f:
                f[col] = f[col].astype(str).map(code)
    frames = as_category(_frames(sc), data.categorical)
    sc.train, sc.test = frames[0], frames[1]
    if sc.current is not None:
        sc.current = frames[2]
    sc.model = train_model(data, sc.family, sc.train, 0)


def _strings(sc: Scenario) -> None:
    """A yes/no text target, the model refitted on it."""
    t = sc.data.target
    for f in _frames(sc):
        if t in f:
            f[t] = np.where(f[t].astype(int) == 1, "yes", "no")
    sc.model = train_model(sc.data, sc.family, sc.train, 0)


def _extra_columns(sc: Scenario) -> None:
    """An id and a timestamp in every file; the Pipeline fitted on the whole frame (its
    ColumnTransformer selects the features by name and drops the rest)."""
    data = sc.data
    for f, start in ((sc.train, 0), (sc.test, 10**6)):
        f.insert(0, "record_id", np.arange(start, start + len(f)))
        f["exported_at"] = pd.date_range("2024-03-01", periods=len(f), freq="min").astype(str)
    # copies across the split keep the training row's id and time, as a re-pulled extract would
    key = [*data.features, data.target]
    merged = sc.test[key].merge(
        sc.train[[*key, "record_id", "exported_at"]].drop_duplicates(key), on=key, how="left"
    )
    seen = merged["record_id"].notna().to_numpy()
    sc.test.loc[seen, "record_id"] = merged.loc[seen, "record_id"].astype(int).to_numpy()
    sc.test.loc[seen, "exported_at"] = merged.loc[seen, "exported_at"].to_numpy()
    num = [c for c in data.features if c not in data.categorical]
    model = make_model(sc.family, data.task, num, list(data.categorical), 0)
    sc.model = fit(model, sc.train, sc.train[data.target], data.task)


def _one_row(sc: Scenario) -> None:
    """The production batch cut to one of its rows far outside the training range."""
    assert sc.current is not None
    cols = list(sc.measured["columns"])
    far = np.zeros(len(sc.current), dtype=bool)
    for c in cols:
        far |= (sc.current[c] > sc.train[c].max()).to_numpy()
    sc.current = sc.current.iloc[[int(np.flatnonzero(far)[0])]].reset_index(drop=True)
    sc.measured["ood_rows"] = 1
    sc.measured["ood_row_share"] = 1.0
    sc.planted = f"a production batch of one row, with {', '.join(cols)} far beyond the training range"


_REWRITE = {
    "codes_booster": _codes,
    "strings_svc": _strings,
    "extra_columns": _extra_columns,
    "xgb_json": _codes,
    "one_row": _one_row,
}


@kind("new_user", ["data.label_leakage", "data.train_test_overlap", "production.out_of_distribution"])
def new_user(spec: Spec) -> Scenario:
    base_kind, base_variant, files = _BASE[spec.variant]
    base = Spec(base_kind, spec.dataset, spec.task, spec.family, spec.n, spec.seed, base_variant)
    sc = KINDS[base_kind](base)
    if spec.variant in _REWRITE:
        _REWRITE[spec.variant](sc)
    sc.name = spec.name
    sc.kind = f"new_user_{spec.variant}"
    sc.files = dict(files)
    sc.meta["categorical"] = None  # a new user does not list them: inferred, or restored from the model
    sc.notes = (sc.notes + " " if sc.notes else "") + f"new-user inputs: {spec.variant} ({files})."
    return sc
