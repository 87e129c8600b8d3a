"""Confirmation of the refined candidates on the half of the rows the search never saw: a one-sided
test per candidate with Holm's correction over all of them and an effect-size gate; the survivors
are described with statistics on all rows."""

from __future__ import annotations

import numpy as np

from ..metrics import holm
from .result import Slice
from .score import Cand, Options, Sample, mask_on_rows, mean_ci, one_sided_p, penalised, sl_score


def confirm(
    refined: list[Cand], st: Sample, error: np.ndarray, conf: np.ndarray, o: Options, min_count: int
) -> list[Slice]:
    """Slices whose excess error holds on the confirmation half (Holm over every candidate
    tested, and at least min_lift times the half's mean error), described on all rows."""
    e_conf = error[conf]
    pvals = []
    conf_stats = []
    for c in refined:
        mk = mask_on_rows(c, st.cols, conf)
        e_in, e_out = e_conf[mk], e_conf[~mk]
        pvals.append(one_sided_p(e_in, e_out, st.binary))
        conf_stats.append(
            (
                int(mk.sum()),
                float(e_in.mean()) if e_in.size else float("nan"),
                float(e_out.mean()) if e_out.size else float("nan"),
            )
        )
    adj = holm(pvals).tolist()
    conf_mean = float(e_conf.mean()) if e_conf.size else 0.0
    out: list[Slice] = []
    for c, pa, cs in zip(refined, adj, conf_stats):
        if not pa < o.alpha:
            continue
        if not cs[1] >= o.min_lift * conf_mean:
            continue
        s = _described(c, st, error, min_count, o.sl_alpha, float(pa), cs)
        if s is not None:
            s.confirm_rows = np.zeros(error.size, dtype=bool)
            s.confirm_rows[conf] = True
            s.family = len(refined)
            out.append(s)
    out.sort(key=lambda s: -penalised(s.score, s.order, o.simplicity))
    return out[: o.top_k]


def _described(
    c: Cand,
    st: Sample,
    error: np.ndarray,
    min_count: int,
    sl_alpha: float,
    p_value: float,
    confirmation: tuple[int, float, float],
) -> Slice | None:
    """The candidate's statistics on all rows (with its adjusted p-value and its figures on the
    confirmation half); None when it is too small, everything, or no worse than the rest there."""
    n = error.size
    mk = mask_on_rows(c, st.cols, None)
    size = int(mk.sum())
    if size < min_count or size >= n:
        return None
    e_in = error[mk]
    e_out = error[~mk]
    err_in = float(e_in.mean())
    err_out = float(e_out.mean())
    if err_in <= err_out:
        return None
    ebar_all = float(error.mean())
    return Slice(
        predicates=[st.cols[j].predicate(it) for j, it in c.preds],
        size=size,
        support=size / n,
        error=err_in,
        rest_error=err_out,
        ci=mean_ci(e_in, st.binary),
        lift=err_in / ebar_all,
        share_of_errors=float(e_in.sum()) / float(error.sum()),
        p_value=p_value,
        mask=mk,
        score=float(sl_score(e_in.sum(), size, ebar_all, n, sl_alpha)),
        overall_error=ebar_all,
        confirm_size=confirmation[0],
        confirm_error=confirmation[1],
        confirm_rest_error=confirmation[2],
    )
