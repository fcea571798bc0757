"""Double descent in random-features regression with label noise.

Data: x ~ N(0, I_d), target f*(x) = <beta, x> with ||beta|| = 1, labels
y = f*(x) + sigma * eps.  Features phi(x) = ReLU(W x) / sqrt(N) with W_ij ~ N(0, 1/d) frozen;
only the read-out a is fitted:

    ridgeless: the minimum-norm least-squares solution a = pinv(Phi) y
    ridge:     a = argmin (1/n) ||Phi a - y||^2 + ridge * ||a||^2

One run = one training set and a whole curve over the number of features N (N/n on a fixed
grid, dense near the interpolation threshold N = n).  At each N the errors are the median
over `n_draws` independent feature matrices: exactly at N = n the test error is heavy
tailed, so a mean over draws would be dominated by single outliers.  The series are indexed
by step = N.

Run it alone with `python experiments/double_descent.py` (output in ./out/double_descent).
"""
import math

import numpy as np
import torch

from physai_blog import Experiment

exp = Experiment(
    params={
        "n_train": 100,
        "d": 16,
        "label_noise": 0.5,      # std of the Gaussian label noise
        "ridge": 1e-2,
        "n_draws": 5,            # feature matrices per width (median taken)
        "n_test": 2000,
        "ratios": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 1.0,
                   1.05, 1.1, 1.2, 1.3, 1.5, 2.0, 3.0, 5.0, 10.0],
    },
    sweep={"n_train": [50, 100, 200]},
    seeds=[0, 1, 2],
)

DEFAULT_N = 100


@exp.run
def train(params, seed, log):
    P = params
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    dt = torch.float64
    n, d = int(P["n_train"]), int(P["d"])

    beta = torch.randn(d, generator=g, dtype=dt)
    beta /= beta.norm()
    X = torch.randn(n, d, generator=g, dtype=dt)
    y = X @ beta + P["label_noise"] * torch.randn(n, generator=g, dtype=dt)
    Xt = torch.randn(int(P["n_test"]), d, generator=g, dtype=dt)
    yt = Xt @ beta                      # test error against the clean target

    ratios = np.asarray(P["ratios"], dtype=float)
    widths = np.maximum(1, np.round(ratios * n).astype(int))
    rows = []
    for N in widths:
        N = int(N)
        tr, te, nm, tr_r, te_r, nm_r = [], [], [], [], [], []
        for _ in range(int(P["n_draws"])):
            W = torch.randn(d, N, generator=g, dtype=dt) / math.sqrt(d)
            Phi = torch.relu(X @ W) / math.sqrt(N)
            Phit = torch.relu(Xt @ W) / math.sqrt(N)
            a = torch.linalg.pinv(Phi) @ y
            tr.append(((Phi @ a - y) ** 2).mean().item())
            te.append(((Phit @ a - yt) ** 2).mean().item())
            nm.append(a.norm().item())
            lam = n * P["ridge"]
            if N <= n:
                ar = torch.linalg.solve(Phi.T @ Phi + lam * torch.eye(N, dtype=dt), Phi.T @ y)
            else:
                ar = Phi.T @ torch.linalg.solve(Phi @ Phi.T + lam * torch.eye(n, dtype=dt), y)
            tr_r.append(((Phi @ ar - y) ** 2).mean().item())
            te_r.append(((Phit @ ar - yt) ** 2).mean().item())
            nm_r.append(ar.norm().item())
        med = lambda v: float(np.median(v))  # noqa: E731
        row = dict(step=N, ratio=N / n, train_err=med(tr), test_err=med(te), norm=med(nm),
                   train_err_ridge=med(tr_r), test_err_ridge=med(te_r), norm_ridge=med(nm_r))
        rows.append(row)
        log.scalars(**row)

    te = np.array([r["test_err"] for r in rows])
    ter = np.array([r["test_err_ridge"] for r in rows])
    nm = np.array([r["norm"] for r in rows])
    rat = widths / n
    i_thr = int(np.argmin(np.abs(rat - 1.0)))            # N = n
    i_2 = int(np.argmin(np.abs(rat - 2.0)))              # N = 2n
    i_pk = int(np.argmax(te))
    log.value("peak_ratio", float(rat[i_pk]))            # N_peak / n
    log.value("peak_width", float(widths[i_pk]))
    log.value("test_err_peak", float(te[i_pk]))
    log.value("test_err_far", float(te[-1]))             # N = 10 n
    log.value("test_err_best_under", float(te[rat <= 0.8].min()))
    log.value("test_err_min", float(te.min()))
    log.value("norm_peak_ratio", float(rat[int(np.argmax(nm))]))
    log.value("norm_peak", float(nm.max()))
    # sharpness of the peak: error at N = n relative to N = 2n
    log.value("peak_contrast", float(te[i_thr] / te[i_2]))
    log.value("peak_contrast_ridge", float(ter[i_thr] / ter[i_2]))
    log.value("test_err_ridge_at_threshold", float(ter[i_thr]))
    log.value("test_err_ridge_max", float(ter.max()))
    log.value("test_err_ridge_far", float(ter[-1]))
    # largest upward bump of a curve: error / lowest error at any smaller N (1 = monotone)
    log.value("ridge_bump", max(1.0, max(float(ter[j] / ter[:j].min()) for j in range(1, len(ter)))))
    log.value("ridgeless_bump", max(1.0, max(float(te[j] / te[:j].min()) for j in range(1, len(te)))))
    log.value("train_err_past_threshold", float(max(r["train_err"] for r in rows if r["step"] >= n)))


# -- figures: drawn from the stored data only ----------------------------------------------------

def _n_colors(data):
    import matplotlib

    ns = data.sweep["n_train"]
    cmap = matplotlib.colormaps["viridis"]
    return {n: cmap(0.1 + 0.75 * i / max(1, len(ns) - 1)) for i, n in enumerate(ns)}


@exp.figure("test_error", caption="Test error against the number of features per training "
            "sample, n = 100, for the minimum-norm interpolator and for ridge (λ = 0.01); the "
            "dotted line is the ridgeless training error. Line: mean, band: min to max over "
            "seeds (each point is itself a median over 5 feature draws).")
def test_error(data, fig):
    ax = fig.add_subplot()
    runs = data.select(n_train=DEFAULT_N)
    runs.band(ax, "test_err", x="ratio", color="C3", marker="o", ms=3, lw=1.5,
              label="min-norm (ridgeless), test")
    runs.band(ax, "test_err_ridge", x="ratio", color="C0", marker="s", ms=3, lw=1.5,
              label=f"ridge λ = {data.params['ridge']:g}, test")
    x, tr = runs.series("train_err", x="ratio")
    ax.plot(x, np.clip(np.nanmean(tr, axis=0), 1e-4, None), ":", color="gray", lw=1.2,
            label="ridgeless, train (floored at 1e-4)")
    ax.axvline(1.0, color="k", lw=0.6, ls="--")
    ax.text(1.04, 0.97, "N = n", transform=ax.get_xaxis_transform(), va="top", fontsize=9)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("features per training sample $N/n$")
    ax.set_ylabel("mean squared error")
    ax.grid(alpha=0.3, which="both", lw=0.5)
    ax.legend(frameon=False, fontsize=9, loc="upper right")


@exp.figure("threshold_moves", caption="Ridgeless test error against the absolute number of "
            "features for three training-set sizes (line: mean, band: min to max over seeds); "
            "dashed lines mark N = n. The peak moves with n.")
def threshold_moves(data, fig):
    ax = fig.add_subplot()
    colors = _n_colors(data)
    for cell, runs in data.by_cell():
        n = cell["n_train"]
        runs.band(ax, "test_err", color=colors[n], lw=1.5, label=f"n = {n}")
        ax.axvline(n, color=colors[n], lw=0.8, ls="--")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("number of random features $N$")
    ax.set_ylabel("test MSE (ridgeless)")
    ax.grid(alpha=0.3, which="both", lw=0.5)
    ax.legend(frameon=False, title="training samples")


@exp.figure("norm", caption="Norm of the fitted read-out weights against N/n, n = 100 (line: "
            "mean, band: min to max over seeds). The minimum-norm solution blows up at the "
            "threshold; ridge keeps it bounded.")
def norm(data, fig):
    ax = fig.add_subplot()
    runs = data.select(n_train=DEFAULT_N)
    runs.band(ax, "norm", x="ratio", color="C3", marker="o", ms=3, lw=1.5,
              label="min-norm (ridgeless)")
    runs.band(ax, "norm_ridge", x="ratio", color="C0", marker="s", ms=3, lw=1.5,
              label=f"ridge λ = {data.params['ridge']:g}")
    ax.axvline(1.0, color="k", lw=0.6, ls="--")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("features per training sample $N/n$")
    ax.set_ylabel(r"read-out norm $\|\hat a\|_2$")
    ax.grid(alpha=0.3, which="both", lw=0.5)
    ax.legend(frameon=False)


if __name__ == "__main__":
    exp.main()
