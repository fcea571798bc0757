"""@@TITLE@@: the experiment behind posts/@@POST_FILE@@.

A starting point that shows the whole API on a phenomenon small enough to run in a blink:
gradient descent on a random least-squares problem.  Late in training the excess loss falls
geometrically, at the rate set by the learning rate and the *smallest* eigenvalue of the
Hessian.  Replace it with your own phenomenon and keep the shape:

    Experiment(...)   literal params, sweep and seeds (the build reads them without running this)
    @exp.run          called once per (sweep cell, seed), each run cached on its own;
                      log what you measure: series, values quoted in prose, arrays
    @exp.figure       draws from the stored data only, so restyling never reruns training

Run it alone with `python experiments/@@SLUG@@.py` (data and figures go to ./out/).
"""

import numpy as np

from physai_blog import Experiment

exp = Experiment(
    params={"samples": 100, "dim": 20, "noise": 0.5, "lr": 0.1, "time": 30.0},
    sweep={"lr": [0.05, 0.1, 0.2, 0.4]},      # one cell per learning rate
    seeds=[0, 1, 2],                           # every cell runs once per seed
)


@exp.run
def train(params, seed, log):
    """Full-batch gradient descent on L(w) = |Xw - y|^2 / 2n, from w = 0."""
    rng = np.random.default_rng(seed)          # seeds are also set globally before the call
    n, d, lr = params["samples"], params["dim"], params["lr"]
    X = rng.standard_normal((n, d))
    y = X @ rng.standard_normal(d) + params["noise"] * rng.standard_normal(n)
    hessian = X.T @ X / n
    w_opt = np.linalg.solve(hessian, X.T @ y / n)
    spectrum = np.linalg.eigvalsh(hessian)     # ascending
    steps = int(round(params["time"] / lr))     # the same gradient-flow time for every lr

    w = np.zeros(d)
    excess = []
    for step in range(steps + 1):
        e = w - w_opt
        excess.append(0.5 * e @ hessian @ e)   # L(w) - min L, exact (no cancellation)
        log.scalars(step=step, time=step * lr, excess=excess[-1])   # a series -> scalars.csv
        w -= lr * (X.T @ (X @ w - y) / n)

    tail = slice(2 * steps // 3, steps + 1)    # the late, single-mode regime
    slope = np.polyfit(np.arange(steps + 1)[tail], np.log(excess[tail]), 1)[0]
    log.value("rate", -slope)                                           # a number for prose
    log.value("predicted_rate", -2 * np.log(1 - lr * spectrum[0]))
    log.value("lambda_min", spectrum[0])
    log.value("drop", excess[0] / excess[-1])
    log.array("spectrum", spectrum)                                     # -> arrays/spectrum.npy


@exp.figure("excess-loss", caption="Excess loss against gradient-flow time η·t for each "
            "learning rate η; line = mean, band = min..max over seeds.")
def excess_loss(data, fig):
    ax = fig.add_subplot()
    for cell, runs in data.by_cell():          # one sweep cell at a time
        runs.band(ax, "excess", x="time", label=f"η = {cell['lr']}")
    ax.set_yscale("log")
    ax.set_xlabel("gradient-flow time η·t")
    ax.set_ylabel("L(w) − min L")
    ax.legend(frameon=False)


@exp.figure("rates", caption="Measured late-time rate against the prediction "
            "−2 log(1 − η λ_min); one dot per run, dashed line = equality.")
def rates(data, fig):
    ax = fig.add_subplot()
    predicted, measured = data.values("predicted_rate"), data.values("rate")
    ax.loglog(predicted, measured, "o")
    ax.plot(predicted, predicted, "--", color="grey", linewidth=1)
    ax.set_xlabel("predicted rate per step")
    ax.set_ylabel("measured rate per step")


if __name__ == "__main__":
    exp.main()
