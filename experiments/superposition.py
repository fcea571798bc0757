"""Superposition in the ReLU output toy model of Elhage et al. (2022).

x in R^n with x_i = 0 with probability S (the sparsity), else x_i ~ U[0, 1], independently.
Model: x' = ReLU(W^T W x + b), W in R^{m x n}, b in R^n.
Loss: E_x sum_i I_i (x_i - x'_i)^2 with importance I_i = importance_decay**i.

`n_instances` models are trained in parallel (batched tensors) on independent data streams
and the one with the lowest loss on a held-out set is kept (as in the paper, which trains
many instances and shows the lowest-loss ones); this removes rare bad local minima from the
per-seed statistics.

Run it alone with `python experiments/superposition.py` (output in ./out/superposition).
"""
import numpy as np
import torch

from physai_blog import Experiment

exp = Experiment(
    params={
        "n_features": 20,
        "m_hidden": 5,
        "importance_decay": 0.9,
        "sparsity": 0.0,          # S = probability that a feature is zero
        "n_instances": 4,
        "steps": 2000,
        "batch": 512,
        "lr": 1e-2,               # AdamW, no weight decay, linear decay to 0
        "n_eval": 8192,
        "norm_threshold": 0.5,    # feature i is "represented" if ||W_i|| > this
        "log_every": 50,
    },
    sweep={"sparsity": [0.0, 0.7, 0.9, 0.97, 0.99]},
    seeds=[0, 1, 2],
)


def _sample(k, batch, n, S, g):
    # one uniform per entry: active iff u < 1 - S, and then u / (1 - S) ~ U[0, 1]
    u = torch.rand(k, batch, n, generator=g)
    if S <= 0:
        return u
    return torch.where(u < 1 - S, u / (1 - S), torch.zeros(()))


def _forward(x, W, b):
    # x: (k, batch, n), W: (k, m, n), b: (k, n)  ->  ReLU(x W^T W + b)
    h = torch.bmm(x, W.transpose(1, 2))                  # (k, batch, m)
    return torch.relu(torch.baddbmm(b[:, None, :], h, W))


@exp.run
def train(params, seed, log):
    P = params
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    n, m, k = int(P["n_features"]), int(P["m_hidden"]), int(P["n_instances"])
    S = float(P["sparsity"])
    imp = P["importance_decay"] ** torch.arange(n, dtype=torch.float32)

    W = torch.empty(k, m, n)
    for j in range(k):
        torch.nn.init.xavier_normal_(W[j], generator=g)
    W.requires_grad_(True)
    b = torch.zeros(k, n, requires_grad=True)
    steps = int(P["steps"])
    opt = torch.optim.AdamW([W, b], lr=P["lr"], weight_decay=0.0)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: max(0.0, 1 - s / steps))
    thr = P["norm_threshold"]

    for step in range(steps + 1):
        x = _sample(k, int(P["batch"]), n, S, g)
        L = (imp * (x - _forward(x, W, b)) ** 2).sum(-1).mean(1)   # (k,)
        if step % P["log_every"] == 0 or step == steps:
            with torch.no_grad():
                nrep = (W.norm(dim=1) > thr).sum(1)
            row = {"step": step, "loss_min": L.min().item(), "loss_mean": L.mean().item()}
            row.update({f"n_represented_{j}": float(nrep[j]) for j in range(k)})
            log.scalars(**row)
        if step == steps:
            break
        opt.zero_grad(set_to_none=True)
        L.sum().backward()
        opt.step()
        sched.step()

    with torch.no_grad():
        xe = _sample(k, int(P["n_eval"]), n, S, g)
        Le = (imp * (xe - _forward(xe, W, b)) ** 2).sum(-1).mean(1)
        best = int(Le.argmin())
        Wb = W[best].detach().double()                   # (m, n)
        bb = b[best].detach().double()
        norms = Wb.norm(dim=0)                           # ||W_i||, (n,)
        WtW = Wb.T @ Wb                                  # (n, n)
        unit = Wb / norms.clamp_min(1e-12)
        overlap = (unit.T @ Wb) ** 2                     # (W^_i . W_j)^2
        superpos = overlap.sum(1) - torch.diagonal(overlap)
        nrep_all = (W.norm(dim=1) > thr).sum(1)

    n_rep = float((norms > thr).sum())
    rep = norms > thr
    notrep = (~rep).nonzero().flatten()
    log.value("n_represented", n_rep)
    log.value("n_represented_per_dim", n_rep / m)
    log.value("n_represented_min_instance", float(nrep_all.min()))
    log.value("n_represented_max_instance", float(nrep_all.max()))
    log.value("loss", float(Le[best]))
    log.value("loss_spread", float(Le.max() / Le.min()))   # worst / best instance
    # ||W||_F^2 / m: features per dimension (the inverse of the paper's D* = m / ||W||_F^2)
    log.value("features_per_dim", float((Wb ** 2).sum() / m))
    # mean interference of the represented features with all others
    log.value("mean_superposition", float(superpos[rep].mean()) if rep.any() else 0.0)
    # the most important feature that is NOT represented (n if all are)
    log.value("first_unrepresented", float(notrep[0]) if len(notrep) else float(n))
    log.value("max_abs_offdiag", float((WtW - torch.diag(torch.diagonal(WtW))).abs().max()))
    log.array("W", Wb.numpy())
    log.array("WtW", WtW.numpy())
    log.array("b", bb.numpy())
    log.array("feature_norms", norms.numpy())
    log.array("superposition", superpos.numpy())


# -- figures: drawn from the stored data only ----------------------------------------------------

def _density_label(S):
    return f"1 − S = {1 - S:.2g}"


def _s_colors(data):
    import matplotlib

    Ss = data.sweep["sparsity"]
    cmap = matplotlib.colormaps["plasma"]
    return {S: cmap(0.05 + 0.8 * i / max(1, len(Ss) - 1)) for i, S in enumerate(Ss)}


@exp.figure("wtw", caption="Top: the Gram matrix WᵀW of the kept model (first seed) for each "
            "feature density 1 − S, features ordered by importance. Bottom: the feature norms "
            "‖W_i‖, colored by how much feature i overlaps with the others (its superposition); "
            "dotted: the 0.5 threshold for 'represented'.", size=(12, 4.6))
def wtw(data, fig):
    import matplotlib

    Ss = data.sweep["sparsity"]
    seed = data.seeds[0]
    thr = data.params["norm_threshold"]
    axes = fig.subplots(2, len(Ss), gridspec_kw={"height_ratios": [3, 1.1], "hspace": 0.08,
                                                  "wspace": 0.08})
    top = max(2.0, max(float(r.array("superposition").max()) for r in data if r.seed == seed))
    sp_norm = matplotlib.colors.Normalize(0, float(np.ceil(top)))
    sp_cmap = matplotlib.colormaps["viridis"]
    for j, S in enumerate(Ss):
        run = next(r for r in data.select(sparsity=S) if r.seed == seed)
        M = run.array("WtW")
        ax = axes[0, j]
        im = ax.imshow(M, cmap="RdBu_r", vmin=-1.2, vmax=1.2, interpolation="nearest")
        ax.set_title(_density_label(S), fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
        norms, sp = run.array("feature_norms"), run.array("superposition")
        ax = axes[1, j]
        ax.bar(np.arange(len(norms)), norms, width=0.85, color=sp_cmap(sp_norm(sp)))
        ax.axhline(thr, color="k", lw=0.6, ls=":")
        ax.set_ylim(0, 1.4)
        ax.set_xlim(-0.6, len(norms) - 0.4)
        ax.set_xticks([0, len(norms) - 1])
        ax.tick_params(labelsize=8)
        if j:
            ax.set_yticks([])
    axes[0, 0].set_ylabel("feature $i$")
    axes[1, 0].set_ylabel(r"$\|W_i\|$")
    axes[1, len(Ss) // 2].set_xlabel("feature index $i$ (importance $0.9^i$)")
    cb = fig.colorbar(im, ax=axes[0, :].tolist(), fraction=0.02, pad=0.01)
    cb.set_label(r"$W^\top W$")
    cb2 = fig.colorbar(matplotlib.cm.ScalarMappable(sp_norm, sp_cmap), ax=axes[1, :].tolist(),
                       fraction=0.02, pad=0.01)
    cb2.set_label("superposition", fontsize=8)
    cb2.ax.tick_params(labelsize=7)


@exp.figure("n_represented", caption="Number of represented features (‖W_i‖ > 0.5) against "
            "feature density, one point per seed; the dashed and dotted lines mark the hidden "
            "dimension m and the number of features n.")
def n_represented(data, fig):
    ax = fig.add_subplot()
    m, n = data.params["m_hidden"], data.params["n_features"]
    dens = np.array([1 - r.cell["sparsity"] for r in data])
    jitter = np.exp(0.04 * (np.array([r.seed for r in data]) - np.mean(data.seeds)))
    ax.plot(dens * jitter, data.values("n_represented"), "o", color="C4", alpha=0.8,
            label="one run (seed)")
    means = [(1 - c["sparsity"], np.mean(d.values("n_represented"))) for c, d in data.by_cell()]
    xs, ys = zip(*sorted(means))
    ax.plot(xs, ys, "-", color="C4", lw=1, alpha=0.6)
    ax.axhline(m, color="gray", ls="--", lw=0.9)
    ax.axhline(n, color="gray", ls=":", lw=0.9)
    ax.text(0.98, m + 0.3, f"m = {m} (hidden dimensions)", ha="left", va="bottom", fontsize=9,
            color="gray")
    ax.text(0.98, n - 0.3, f"n = {n} (features)", ha="left", va="top", fontsize=9, color="gray")
    ax.set_xscale("log")
    ax.invert_xaxis()
    ax.set_ylim(0, n + 1)
    ax.set_yticks(range(0, n + 1, m))
    ax.set_xlabel("feature density $1-S$  (sparser to the right)")
    ax.set_ylabel(r"represented features, $\|W_i\| > 0.5$")
    ax.grid(alpha=0.3, which="both", lw=0.5)
    ax.legend(frameon=False, loc="lower right")


@exp.figure("norms_vs_importance", caption="Feature norms ‖W_i‖ against the feature index "
            "(importance 0.9^i) for each density (line: mean, band: min to max over seeds).")
def norms_vs_importance(data, fig):
    ax = fig.add_subplot()
    colors = _s_colors(data)
    for cell, runs in data.by_cell():
        A = runs.arrays("feature_norms")
        i = np.arange(A.shape[1])
        ax.plot(i, A.mean(0), "o-", ms=3.5, lw=1.3, color=colors[cell["sparsity"]],
                label=_density_label(cell["sparsity"]))
        ax.fill_between(i, A.min(0), A.max(0), color=colors[cell["sparsity"]], alpha=0.2, lw=0)
    ax.axhline(data.params["norm_threshold"], color="k", lw=0.6, ls=":")
    ax.set_xticks(np.arange(0, A.shape[1], 2))
    ax.set_xlabel("feature index $i$ (importance $0.9^i$)")
    ax.set_ylabel(r"$\|W_i\|$")
    ax.grid(alpha=0.3, lw=0.5)
    ax.legend(frameon=False, fontsize=9)


@exp.figure("loss_curves", caption="Training loss of the best of the 4 instances at each "
            "step (line: mean, band: min to max over seeds); sparser inputs have less to "
            "reconstruct, so the loss is lower.")
def loss_curves(data, fig):
    ax = fig.add_subplot()
    colors = _s_colors(data)
    for cell, runs in data.by_cell():
        runs.band(ax, "loss_min", color=colors[cell["sparsity"]], lw=1.3,
                  label=_density_label(cell["sparsity"]))
    ax.set_yscale("log")
    ax.set_xlabel("training step")
    ax.set_ylabel("importance-weighted loss")
    ax.grid(alpha=0.3, which="both", lw=0.5)
    ax.legend(frameon=False, fontsize=9, loc="center left", bbox_to_anchor=(1.0, 0.5))


if __name__ == "__main__":
    exp.main()
