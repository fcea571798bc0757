"""A tiny experiment: a noisy decaying loss, on CPU in milliseconds."""

import os

import torch

from helpers import decay
from physai_blog import Experiment

exp = Experiment(params={"rate": 0.5, "steps": 20}, seeds=[0, 1])


@exp.run
def train(params, seed, log):
    counter = os.environ.get("PHYSAI_TEST_COUNTER")
    if counter:
        with open(counter, "a") as fh:
            fh.write(f"{seed}\n")
    noise = torch.randn(params["steps"]) * 0.01
    for step in range(params["steps"]):
        loss = decay(step, params["rate"]) + float(noise[step])
        log.scalars(step=step, loss=loss)
    log.value("final_loss", loss)
    log.value("half_life", 1.0 / params["rate"])
    log.array("noise", noise)


@exp.figure("loss", caption="Loss against step; band = min..max over seeds.")
def loss_figure(data, fig):
    ax = fig.add_subplot()
    data.band(ax, "loss")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")


if __name__ == "__main__":
    exp.main()
