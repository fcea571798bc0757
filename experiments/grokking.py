"""Grokking on modular addition, (a + b) mod p, with a one-hidden-layer MLP and AdamW.

Model: a shared learned embedding E (p x d) for both operands, concatenated, one hidden
layer with a quadratic activation and a linear read-out,

    logits = W2 (W1 [E_a; E_b] + b1)^2 + b2,

trained full-batch with AdamW on a random half of the p^2 pairs.  The quadratic activation
(as in Gromov 2023) groks quickly and reliably on a CPU.  Adam's eps is 1e-6 instead of
1e-8: with the default, once the training loss reaches ~1e-7 the optimizer takes huge
normalized steps (the "slingshot") and the test accuracy collapses and recovers repeatedly.

Run it alone with `python experiments/grokking.py` (data and figures go to ./out/grokking).
"""
import math

import numpy as np
import torch
import torch.nn.functional as F

from physai_blog import Experiment

exp = Experiment(
    params={
        "p": 31,                 # modulus (prime)
        "train_frac": 0.5,       # fraction of the p^2 pairs used for training
        "d_embed": 32,
        "d_hidden": 128,
        "lr": 3e-3,
        "weight_decay": 1.0,
        "beta2": 0.98,
        "adam_eps": 1e-6,
        "max_steps": 15000,
        "eval_every": 10,
        "acc_memorize": 0.99,    # t_memorize: first eval with train accuracy >= this
        "acc_grok": 0.95,        # t_grok: first eval with test accuracy >= this
        "stop_after": 1.25,      # stop at step >= stop_after * t_grok + stop_extra ...
        "stop_extra": 300,       # ... once test accuracy >= 0.99 (keeps the plateau visible)
    },
    sweep={"weight_decay": [0.25, 0.5, 1.0, 2.0]},
    seeds=[0, 1, 2],
)

DEFAULT_WD = 1.0


@exp.run
def train(params, seed, log):
    P = params
    torch.manual_seed(seed)                      # the framework seeds too; be explicit
    p = int(P["p"])

    # data: all p^2 pairs, a random train/test split that depends on the seed
    g = torch.Generator().manual_seed(seed)
    a, b = torch.meshgrid(torch.arange(p), torch.arange(p), indexing="ij")
    X = torch.stack([a.flatten(), b.flatten()], 1)
    Y = (X[:, 0] + X[:, 1]) % p
    perm = torch.randperm(p * p, generator=g)
    n_train = int(round(P["train_frac"] * p * p))
    tr, te = perm[:n_train], perm[n_train:]

    # model (PyTorch default inits: embedding N(0, 1), linear U(+-1/sqrt(fan_in)))
    emb = torch.nn.Embedding(p, P["d_embed"])
    l1 = torch.nn.Linear(2 * P["d_embed"], P["d_hidden"])
    l2 = torch.nn.Linear(P["d_hidden"], p)
    # made on the CPU (the same init everywhere), then moved to the run's device: "cuda" when
    # the post grants a GPU (`resources: {gpu: 1}`) and one is there, else "cpu"
    emb, l1, l2 = emb.to(log.device), l1.to(log.device), l2.to(log.device)
    X, Y, tr, te = X.to(log.device), Y.to(log.device), tr.to(log.device), te.to(log.device)
    Xtr, Ytr = X[tr], Y[tr]
    weights = list(emb.parameters()) + list(l1.parameters()) + list(l2.parameters())

    def model(x):
        return l2(l1(emb(x).flatten(1)) ** 2)

    opt = torch.optim.AdamW(weights, lr=P["lr"], weight_decay=P["weight_decay"],
                            betas=(0.9, P["beta2"]), eps=P["adam_eps"])

    def norm():
        return math.sqrt(sum((w ** 2).sum().item() for w in weights))

    t_mem = t_grok = None
    test_acc_at_mem = wnorm_at_grok = None
    test_loss_max = 0.0
    with torch.no_grad():
        wnorm_init = norm()
    step, max_steps = 0, int(P["max_steps"])
    while True:
        if step % P["eval_every"] == 0 or step == max_steps:
            with torch.no_grad():
                out = model(X)
                losses = F.cross_entropy(out, Y, reduction="none")
                correct = (out.argmax(1) == Y).float()
                train_acc = correct[tr].mean().item()
                test_acc = correct[te].mean().item()
                wnorm = norm()
            test_loss = losses[te].mean().item()
            test_loss_max = max(test_loss_max, test_loss)
            log.scalars(step=step, train_acc=train_acc, test_acc=test_acc,
                        train_loss=losses[tr].mean().item(), test_loss=test_loss,
                        weight_norm=wnorm)
            if t_mem is None and train_acc >= P["acc_memorize"]:
                t_mem, test_acc_at_mem = step, test_acc
            if t_grok is None and test_acc >= P["acc_grok"]:
                t_grok, wnorm_at_grok = step, wnorm
            if step >= max_steps:
                break
            if (t_grok is not None and test_acc >= 0.99
                    and step >= P["stop_after"] * t_grok + P["stop_extra"]):
                break
        loss = F.cross_entropy(model(Xtr), Ytr)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1

    grokked = t_grok is not None
    t_mem = float(t_mem if t_mem is not None else max_steps)
    t_grok = float(t_grok if t_grok is not None else max_steps)
    log.value("t_memorize", t_mem)
    log.value("t_grok", t_grok)
    log.value("grok_delay", t_grok / max(t_mem, 1.0))
    log.value("grokked", 1.0 if grokked else 0.0)
    log.value("final_train_acc", train_acc)
    log.value("final_test_acc", test_acc)
    log.value("weight_norm_init", wnorm_init)
    log.value("weight_norm_at_grok", wnorm_at_grok if wnorm_at_grok is not None else wnorm)
    log.value("weight_norm_final", wnorm)
    log.value("test_loss_max", test_loss_max)
    log.value("test_acc_at_memorize", test_acc_at_mem if test_acc_at_mem is not None else test_acc)
    log.value("steps_run", float(step))

    # Fourier spectrum of the learned embedding: power per frequency k = 0..p//2
    with torch.no_grad():
        Ew = emb.weight.detach().cpu().numpy().astype(np.float64)
    power = (np.abs(np.fft.rfft(Ew, axis=0)) ** 2).sum(1)
    power = power / power.sum()
    log.array("embedding_fourier_power", power)
    # share of the non-constant embedding power in its 4 strongest frequencies
    nonconstant = np.sort(power[1:])[::-1]
    log.value("fourier_top4_frac", float(nonconstant[:4].sum() / nonconstant.sum()))


# -- figures: drawn from the stored data only ----------------------------------------------------

def _wd_colors(data):
    import matplotlib

    wds = data.sweep["weight_decay"]
    cmap = matplotlib.colormaps["viridis"]
    return {wd: cmap(0.1 + 0.75 * i / max(1, len(wds) - 1)) for i, wd in enumerate(wds)}


@exp.figure("accuracy", caption="Train and test accuracy at weight decay λ = 1, one line per "
            "seed. The training set is memorized within a few hundred steps; test accuracy "
            "stays below chance (dotted) for much longer, then jumps.")
def accuracy(data, fig):
    ax = fig.add_subplot()
    for i, run in enumerate(data.select(weight_decay=DEFAULT_WD)):
        for name, color, label in [("train_acc", "C0", "train"), ("test_acc", "C3", "test")]:
            x, y = run.series(name)
            ax.plot(x[1:], y[1:], color=color, lw=1.3, alpha=0.85,
                    label=label if i == 0 else None)
    p = data.params["p"]
    ax.axhline(1 / p, color="gray", lw=0.8, ls=":", label=f"chance (1/{p})")
    ax.set_xscale("log")
    ax.set_xlabel("training step")
    ax.set_ylabel("accuracy")
    ax.set_ylim(-0.02, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(loc="center left", bbox_to_anchor=(0.25, 0.55), frameon=False)


@exp.figure("loss", caption="Train and test cross-entropy at λ = 1, one line per seed. While "
            "the training loss falls, the test loss rises far above log p (dotted), the loss "
            "of a uniform guess, and comes down slowly over the plateau.")
def loss(data, fig):
    ax = fig.add_subplot()
    for i, run in enumerate(data.select(weight_decay=DEFAULT_WD)):
        for name, color, label in [("train_loss", "C0", "train"), ("test_loss", "C3", "test")]:
            x, y = run.series(name)
            ax.plot(x[1:], y[1:], color=color, lw=1.3, alpha=0.85,
                    label=label if i == 0 else None)
    ax.axhline(math.log(data.params["p"]), color="gray", lw=0.8, ls=":", label="log p")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("training step")
    ax.set_ylabel("cross-entropy")
    ax.grid(alpha=0.3)
    ax.legend(frameon=False)


@exp.figure("weight_norm", caption="Total parameter norm during training for each weight decay, "
            "one line per seed (runs stop at different steps); dots mark each run's grokking "
            "time.")
def weight_norm(data, fig):
    ax = fig.add_subplot()
    colors = _wd_colors(data)
    for cell, runs in data.by_cell():
        wd = cell["weight_decay"]
        for i, run in enumerate(runs):
            x, y = run.series("weight_norm")
            ax.plot(x[1:], y[1:], color=colors[wd], lw=1.2, alpha=0.85,
                    label=f"λ = {wd:g}" if i == 0 else None)
        for run in runs:
            ax.plot(run.values["t_grok"], run.values["weight_norm_at_grok"], "o",
                    color=colors[wd], ms=5, mec="white", mew=0.8)
    ax.set_xscale("log")
    ax.set_xlim(left=10)
    ax.set_xlabel("training step")
    ax.set_ylabel(r"parameter norm $\|\theta\|_2$")
    ax.grid(alpha=0.3)
    ax.legend(frameon=False, title="weight decay")


@exp.figure("test_acc_by_wd", caption="Test accuracy for each weight decay, one line per seed. "
            "Stronger weight decay groks sooner.")
def test_acc_by_wd(data, fig):
    ax = fig.add_subplot()
    colors = _wd_colors(data)
    for cell, runs in data.by_cell():
        wd = cell["weight_decay"]
        for i, run in enumerate(runs):
            x, y = run.series("test_acc")
            ax.plot(x[1:], y[1:], color=colors[wd], lw=1.2, alpha=0.85,
                    label=f"λ = {wd:g}" if i == 0 else None)
    ax.set_xscale("log")
    ax.set_xlim(left=10)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("training step")
    ax.set_ylabel("test accuracy")
    ax.grid(alpha=0.3)
    ax.legend(frameon=False, title="weight decay", loc="upper left")


@exp.figure("grok_time", caption="Grokking time (test accuracy ≥ 95 %) and memorization time "
            "(train accuracy ≥ 99 %) against weight decay, one point per run, log-log; dashed: "
            "least-squares power law fitted to all grokking times.")
def grok_time(data, fig):
    ax = fig.add_subplot()
    wd = np.array([r.cell["weight_decay"] for r in data])
    tg, tm = data.values("t_grok"), data.values("t_memorize")
    jitter = np.exp(0.03 * (np.array([r.seed for r in data]) - np.mean(data.seeds)))
    ax.plot(wd * jitter, tg, "o", color="C3", label=r"$t_\mathrm{grok}$")
    ax.plot(wd * jitter, tm, "s", color="C0", label=r"$t_\mathrm{memorize}$")
    k, c = np.polyfit(np.log(wd), np.log(tg), 1)
    xx = np.geomspace(wd.min() / 1.15, wd.max() * 1.15, 50)
    ax.plot(xx, np.exp(c) * xx ** k, "--", color="C3", lw=1,
            label=rf"fit $t_\mathrm{{grok}} \propto \lambda^{{{k:.2f}}}$")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ticks = data.sweep["weight_decay"]
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.set_xticks([], minor=True)
    ax.set_xlabel(r"weight decay $\lambda$")
    ax.set_ylabel("training step")
    ax.grid(alpha=0.3, which="both")
    ax.legend(frameon=False)


@exp.figure("fourier", caption="Share of the embedding's power in each Fourier frequency k of "
            "Z_p at the end of training (λ = 1), one bar per seed: a handful of frequencies "
            "carry almost everything, and which ones depends on the seed.")
def fourier(data, fig):
    ax = fig.add_subplot()
    runs = list(data.select(weight_decay=DEFAULT_WD))
    width = 0.8 / len(runs)
    for i, run in enumerate(runs):
        power = run.array("embedding_fourier_power")
        k = np.arange(len(power))
        ax.bar(k + (i - (len(runs) - 1) / 2) * width, power, width=width,
               label=f"seed {run.seed}")
    ax.set_xticks(np.arange(0, len(power), 2))
    ax.set_xlim(-0.7, len(power) - 0.3)
    ax.set_xlabel("frequency $k$")
    ax.set_ylabel("share of embedding power")
    ax.grid(alpha=0.3, axis="y")
    ax.legend(frameon=False)


if __name__ == "__main__":
    exp.main()
