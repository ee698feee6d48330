"""Reference intervals for @tagi/eval's task-level bootstrap (src/bootstrap.golden.test.ts).

Run: python3 make_golden.py > golden.json   (numpy 2.4.6, scipy 1.17.1 when generated)

Data and resample indices are drawn here with numpy and stored, so the JS code is checked on the
same resamples: the bootstrap distribution (weighted per-task means; mean over drawn seeds), the
percentile interval (scipy.stats.quantile, linear interpolation, as scipy.stats.bootstrap) and the
BCa interval (scipy.stats._resampling._bca_interval: bias correction, jackknife acceleration).
"""
import json

import numpy as np
import scipy
from scipy import stats
from scipy.special import ndtr, ndtri
from scipy.stats._resampling import _bca_interval

rng = np.random.default_rng(20240612)
B = 1000
LEVEL = 0.95
ALPHA = (1 - LEVEL) / 2


def statistic_factory(x, w):
    """x [S, T] per-seed per-task means, w [T]: stat(task indices) with all seeds (for the jackknife)."""

    def stat(idx, axis=-1):
        idx = np.asarray(idx)
        # sum over the drawn tasks of w_t * x[s, t], per seed; then / sum of w over the drawn tasks
        sums = (x * w)[:, idx]  # [S, ..., n]
        den = w[idx].sum(axis=-1)
        return (sums.sum(axis=-1) / den).mean(axis=0)

    return stat


DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def encode(idx):
    """Resample indices [B, n] (each < 36) as B strings of base-36 digits: a compact fixture."""
    return ["".join(DIGITS[i] for i in row) for row in idx]


def distribution(x, w, task_idx, seed_idx):
    """theta*_r = mean over drawn seeds of (sum_t in draw w_t x_st / sum w)."""
    sums = (x * w)[:, task_idx].sum(axis=-1)  # [S, B]
    den = w[task_idx].sum(axis=-1)  # [B]
    per_seed = sums / den  # [S, B]
    if seed_idx is None:
        return per_seed.mean(axis=0)
    return np.take_along_axis(per_seed.T, seed_idx, axis=1).mean(axis=1)


def intervals(theta_b, data_idx, stat):
    pct = stats.quantile(theta_b, np.array([ALPHA, 1 - ALPHA]))
    a1, a2, a_hat = _bca_interval((data_idx,), stat, -1, ALPHA, theta_b, None, np)
    bca = stats.quantile(theta_b, np.array([float(a1), float(a2)]))
    return {"percentile": [float(pct[0]), float(pct[1])], "bca": [float(bca[0]), float(bca[1])], "acceleration": float(a_hat)}


def case(name, xs, w, seeded):
    """xs: list of [S, T] matrices (one per method, same tasks); the first two are compared (A - B)."""
    T = xs[0].shape[1]
    task_idx = rng.integers(0, T, size=(B, T))
    seed_idx = [rng.integers(0, x.shape[0], size=(B, x.shape[0])) if x.shape[0] > 1 else None for x in xs]
    out = {"name": name, "weights": w.tolist(), "task_indices": encode(task_idx), "methods": []}
    dists = []
    for x, si in zip(xs, seed_idx):
        theta_b = distribution(x, w, task_idx, si)
        dists.append(theta_b)
        stat = statistic_factory(x, w)
        est = float(stat(np.arange(T)))
        out["methods"].append({
            "scores": x.tolist(),
            "seed_indices": None if si is None else encode(si),
            "estimate": est,
            "distribution_head": theta_b[:5].tolist(),
            "standard_error": float(np.std(theta_b, ddof=1)),
            **intervals(theta_b, np.arange(T), stat),
        })
    if len(xs) > 1:
        d = dists[0] - dists[1]
        sa, sb = statistic_factory(xs[0], w), statistic_factory(xs[1], w)
        stat = lambda idx, axis=-1: sa(idx, axis) - sb(idx, axis)
        out["difference"] = {
            "estimate": float(stat(np.arange(T))),
            "p_value": float(np.mean(d <= 0)),
            "standard_error": float(np.std(d, ddof=1)),
            **intervals(d, np.arange(T), stat),
        }
    return out


# per-task ROUGE-L-like scores: skewed, in [0, 100]; methods on the same tasks share `task` effects
def scores(S, T, shift=0.0, task=None):
    task = rng.gamma(2.0, 12.0, size=T) if task is None else task
    seed = rng.normal(0, 2.0, size=(S, 1))
    return np.clip(task + shift + seed + rng.normal(0, 3.0, size=(S, T)), 0, 100)


T = 23
counts = rng.integers(5, 40, size=T).astype(float)
shared_task = rng.gamma(2.0, 12.0, size=T)
base = scores(1, T, task=shared_task)
cases = [
    case("one seed, equal weights", [scores(1, T)], np.ones(T), False),
    case("one seed, instance counts as weights", [scores(1, T)], counts, False),
    case("three seeds (crossed)", [scores(3, T)], counts, True),
    case("paired: three seeds minus one seed", [scores(3, T, shift=4.0, task=shared_task), base], counts, True),
]
normal = {
    "cdf": [[x, float(ndtr(x))] for x in [-8.0, -5.0, -3.3, -1.959963984540054, -1.0, -0.3, 0.0, 0.5, 1.0, 2.5, 4.0, 7.5]],
    "quantile": [[p, float(ndtri(p))] for p in [1e-12, 1e-6, 0.001, 0.01, 0.02425, 0.025, 0.1, 0.5, 0.7, 0.975, 0.99, 0.999999]],
}
quantile = {
    "values": sorted(rng.normal(size=17).tolist()),
    "q": [0.0, 0.025, 0.1, 0.5, 0.77, 0.975, 1.0],
}
quantile["expected"] = [float(v) for v in np.quantile(np.array(quantile["values"]), quantile["q"])]
print(json.dumps({
    "generator": f"make_golden.py with numpy {np.__version__}, scipy {scipy.__version__}",
    "resamples": B,
    "level": LEVEL,
    "cases": cases,
    "normal": normal,
    "quantile": quantile,
}))
