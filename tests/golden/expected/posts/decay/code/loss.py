# Plotting code of figure 'loss', from experiments/decay.py (line 29).
# It draws from the raw data only. To redraw every figure from the
# published data:  python decay.py --figures-only --out <folder>
# (with the run folders of data/ placed in <folder>/data/).

@exp.figure("loss", caption="Loss against step; band = min..max over seeds.")
def loss_figure(data, fig):
    ax = fig.add_subplot()
    data.band(ax, "loss")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
