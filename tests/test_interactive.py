"""The drawn figure as an interactive chart spec: each plot type the example posts use is
mapped from the matplotlib artists, with its run (cell and seed) where the data tells it, and
anything unmappable leaves the figure static with the reason."""

from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from physai_blog.figures.mathtext import plain  # noqa: E402
from physai_blog.figures.spec import (  # noqa: E402
    MAX_POINTS,
    Unmappable,
    figure_spec,
    spec_json,
    write_chart,
)
from physai_blog.runtime.data import load_data  # noqa: E402


def make_data(tmp_path, cells=(0.1, 1.0), seeds=(0, 1), steps=12):
    entries = []
    for wd in cells:
        for seed in seeds:
            folder = tmp_path / f"wd-{wd}_seed-{seed}"
            folder.mkdir(parents=True)
            rng = np.random.default_rng(int(seed + 10 * wd))
            rows = ["step,loss,acc"] + [f"{s},{float(np.exp(-wd * s) + rng.random() * 0.01)!r},"
                                        f"{float(rng.random())!r}" for s in range(steps)]
            (folder / "scalars.csv").write_text("\n".join(rows) + "\n")
            (folder / "values.json").write_text(json.dumps({"t_grok": 100.0 * (seed + 1) / wd}))
            (folder / "arrays").mkdir()
            np.save(folder / "arrays/power.npy", rng.random(6))
            entries.append((folder, folder.name, {"wd": wd}, {"wd": wd}, seed))
    return load_data(entries, {"wd": list(cells)}, {"wd": cells[0]})


@pytest.fixture
def fig():
    figure = plt.figure(figsize=(6.4, 4.0))
    yield figure
    plt.close(figure)


def by_kind(spec, kind):
    return [s for s in spec["series"] if s["kind"] == kind]


def test_lines_carry_their_run_and_the_legend_groups_the_other_seeds(tmp_path, fig):
    data = make_data(tmp_path)
    ax = fig.add_subplot()
    for i, run in enumerate(data.select(wd=1.0)):
        x, y = run.series("loss")
        ax.plot(x[1:], y[1:], color="C0", lw=1.3, label="train" if i == 0 else None)
    ax.axhline(0.5, color="gray", ls=":", label="chance")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("training step")
    ax.set_ylabel(r"norm $\|\theta\|_2$")
    ax.set_ylim(0.001, 2)
    ax.legend(title="weight decay")
    spec = figure_spec(fig, data)
    assert spec["x"]["scale"] == "log" and spec["y"]["scale"] == "log"
    assert spec["y"]["min"] == 0.001 and spec["y"]["max"] == 2
    assert spec["x"]["label"] == "training step" and spec["y"]["label"] == "norm ‖θ‖₂"
    lines = by_kind(spec, "line")
    assert len(lines) == 2 and all(s["color"] == "#1f77b4" for s in lines)
    runs = [spec["runs"][s["run"]] for s in lines]
    assert [r["seed"] for r in runs] == [0, 1] and all(r["cell"] == {"wd": 1.0} for r in runs)
    assert all(s["column"] == "loss" for s in lines)
    x, y = data.select(wd=1.0).runs[1].series("loss")
    assert lines[1]["x"] == x[1:].tolist() and lines[1]["y"] == y[1:].tolist()
    (rule,) = by_kind(spec, "hline")
    assert rule["y"] == 0.5 and rule["dash"] and rule["label"] == "chance"
    legend = spec["legend"]
    assert legend["title"] == "weight decay"
    assert [e["label"] for e in legend["entries"]] == ["train", "chance"]
    assert legend["entries"][0]["series"] == sorted(s["id"] for s in lines)
    assert legend["entries"][1]["series"] == [rule["id"]]


def test_a_mean_with_a_band_is_the_cell_over_its_seeds(tmp_path, fig):
    data = make_data(tmp_path, seeds=(0, 1, 2))
    ax = fig.add_subplot()
    for cell, runs in data.by_cell():
        runs.band(ax, "loss", label=f"wd {cell['wd']}")
    ax.legend()
    spec = figure_spec(fig, data)
    lines, bands = by_kind(spec, "line"), by_kind(spec, "band")
    assert len(lines) == 2 and len(bands) == 2
    assert lines[0]["cell"] == {"wd": 0.1} and lines[0]["stat"] == "mean"
    assert lines[0]["seeds"] == [0, 1, 2] and lines[0]["column"] == "loss"
    xs, ys = data.select(wd=0.1).series("loss")
    assert bands[0]["x"] == xs.tolist()
    assert bands[0]["y"] == np.nanmin(ys, axis=0).tolist()
    assert bands[0]["y2"] == np.nanmax(ys, axis=0).tolist()
    assert bands[0]["cell"] == {"wd": 0.1} and bands[0]["stat"] == "min"
    entry = spec["legend"]["entries"][0]
    assert set(entry["series"]) == {lines[0]["id"], bands[0]["id"]}


def test_markers_carry_the_run_of_each_point(tmp_path, fig):
    data = make_data(tmp_path)
    ax = fig.add_subplot()
    wd = np.array([r.cell["wd"] for r in data])
    ax.plot(wd, data.values("t_grok"), "o", color="C3", label=r"$t_\mathrm{grok}$")
    ax.scatter([1, 2], [3, 4], s=25, color="C1")
    spec = figure_spec(fig, data)
    (points,) = [s for s in by_kind(spec, "line") if s.get("marker") == "o"]
    assert "dash" not in points and points["label"] == "t_grok"
    assert [spec["runs"][i]["label"] for i in points["points"]] == [r.label for r in data]
    (scatter,) = by_kind(spec, "scatter")
    assert scatter["x"] == [1.0, 2.0] and scatter["size"] == 5.0 and "points" not in scatter


def test_bars_and_curves_of_logged_arrays_carry_their_run_or_cell(tmp_path, fig):
    data = make_data(tmp_path, seeds=(0, 1, 2))
    ax = fig.add_subplot()
    runs = list(data.select(wd=1.0))
    for i, run in enumerate(runs):
        ax.bar(np.arange(6) + 0.2 * i, run.array("power"), width=0.2, label=f"seed {run.seed}")
    ax.plot(np.arange(6), data.select(wd=0.1).arrays("power").mean(0), "o-")
    reads = set(data.reads)
    spec = figure_spec(fig, data)
    assert data.reads == reads        # matching read nothing more than the figure did
    bars = by_kind(spec, "bars")
    assert [spec["runs"][b["run"]]["seed"] for b in bars] == [0, 1, 2]
    assert all(b["column"] == "power" for b in bars)
    (line,) = by_kind(spec, "line")
    assert line["cell"] == {"wd": 0.1} and line["stat"] == "mean" and line["seeds"] == [0, 1, 2]


def test_bars_errorbars_rules_and_texts(fig):
    ax = fig.add_subplot()
    ax.bar(np.arange(3) - 0.2, [0.5, 0.3, 0.2], width=0.4, label="seed 0")
    ax.bar(np.arange(3) + 0.2, [0.1, 0.6, 0.3], width=0.4, color=["r", "g", "b"])
    ax.errorbar([0, 1], [1, 2], yerr=[0.1, 0.2], fmt="s-", color="k", label="mean")
    ax.axvline(1.0, color="k", lw=0.6, ls="--")
    ax.text(1.04, 0.97, "N = n", transform=ax.get_xaxis_transform())
    ax.set_xticks([0, 2], ["zero", "two"])
    spec = figure_spec(fig)
    bars = by_kind(spec, "bars")
    assert [b["x"] for b in bars] == [[-0.2, 0.8, 1.8], [0.2, 1.2, 2.2]]
    assert bars[0]["y"] == [0.5, 0.3, 0.2] and bars[0]["barwidth"] == 0.4
    assert bars[0]["label"] == "seed 0" and bars[1]["colors"] == ["#ff0000", "#008000", "#0000ff"]
    (err,) = [s for s in by_kind(spec, "line") if "yerr" in s]
    assert err["yerr"] == [[0.9, 1.1], [1.8, 2.2]] and err["label"] == "mean"
    (vline,) = by_kind(spec, "vline")
    assert vline["x"] == 1.0 and vline["dash"] == [6, 4]
    (text,) = by_kind(spec, "text")
    assert text["coords"] == "xaxis" and text["text"] == "N = n"
    assert spec["x"]["ticks"] == [0.0, 2.0] and spec["x"]["ticklabels"] == ["zero", "two"]


def test_an_image_is_a_heatmap_with_its_colours_and_an_inverted_axis_stays(fig):
    ax = fig.add_subplot()
    m = np.array([[1.0, -0.5], [0.25, 0.0]])
    ax.imshow(m, cmap="RdBu_r", vmin=-1, vmax=1)
    fig.colorbar(ax.images[0], ax=ax)    # a colorbar is not a second panel
    spec = figure_spec(fig)
    (heat,) = by_kind(spec, "heatmap")
    assert heat["values"] == m.tolist() and heat["clim"] == [-1.0, 1.0]
    assert heat["colors"][0][0] == matplotlib.colors.to_hex(plt.get_cmap("RdBu_r")(1.0))
    assert spec["y"]["invert"] is True      # imshow puts row 0 on top


def test_symlog_and_inverted_axes(fig):
    ax = fig.add_subplot()
    ax.plot([1, 2, 3], [-10, 0, 10])
    ax.set_yscale("symlog", linthresh=0.5)
    ax.invert_xaxis()
    spec = figure_spec(fig)
    assert spec["y"]["scale"] == "symlog" and spec["y"]["linthresh"] == 0.5
    assert spec["x"]["invert"] is True and spec["x"]["min"] < spec["x"]["max"]


def test_long_series_are_decimated_to_real_points(fig):
    ax = fig.add_subplot()
    x = np.arange(100_000, dtype=float)
    y = np.sin(x / 500) + (x == 54_321) * 5.0     # one spike a naive stride would drop
    ax.plot(x, y)
    (line,) = figure_spec(fig)["series"]
    assert line["n"] == 100_000 and len(line["x"]) <= MAX_POINTS
    assert 5.0 + np.sin(54_321 / 500) in line["y"]
    assert set(line["x"]) <= set(x.tolist()) and line["x"] == sorted(line["x"])
    assert all(y[int(xi)] == yi for xi, yi in zip(line["x"], line["y"]))


@pytest.mark.parametrize("draw, reason", [
    (lambda f: f.subplots(1, 2), "2 panels"),
    (lambda f: f.add_subplot().pie([1, 2]), "Wedge"),
    (lambda f: f.add_subplot().barh([1, 2], [3, 4]), "horizontal bars"),
    (lambda f: f.add_subplot().scatter([1, 2], [1, 2], c=[0.1, 0.9]), "one colour per point"),
    (lambda f: f.add_subplot().annotate("a", (1, 1), xytext=(2, 2)), "Annotation"),
])
def test_what_cannot_be_mapped_stays_static_with_the_reason(fig, tmp_path, draw, reason):
    draw(fig)
    with pytest.raises(Unmappable, match=reason):
        figure_spec(fig)
    assert write_chart(fig, None, "f", tmp_path / "f.js") is not None
    assert (tmp_path / "f.js").read_text().startswith('physaiFigure("f",null,')
    assert reason in (tmp_path / "f.js").read_text()


def test_the_chart_script_is_deterministic_and_loadable(tmp_path, fig):
    data = make_data(tmp_path, seeds=(0, 1, 2))
    ax = fig.add_subplot()
    data.select(wd=0.1).band(ax, "acc", stat="std")
    assert write_chart(fig, data, "acc", tmp_path / "a.js") is None
    assert write_chart(fig, data, "acc", tmp_path / "b.js") is None
    text = (tmp_path / "a.js").read_text()
    assert text == (tmp_path / "b.js").read_text()
    body = text.removeprefix('physaiFigure("acc",').removesuffix(",null);\n")
    (band,) = by_kind(json.loads(body), "band")
    assert band["stat"] == "mean-std"
    assert spec_json({"a": float("nan"), "b": np.float32(0.5)}) == '{"a":null,"b":0.5}'


def test_mathtext_labels_read_as_plain_text():
    assert plain(r"parameter norm $\|\theta\|_2$") == "parameter norm ‖θ‖₂"
    assert plain(r"read-out norm $\|\hat a\|_2$") == "read-out norm ‖â‖₂"
    assert plain(r"weight decay $\lambda$ and 5$") == "weight decay λ and 5$"
    assert plain(r"fit $t \propto \lambda^{2}$") == "fit t ∝ λ²"
    assert plain("no math") == "no math"


def test_the_explorer_data_holds_every_logged_series_and_value(built_sample):
    from physai_blog.artifacts.explore import MAX_ROWS, read_columns, thin

    root, _ = built_sample
    data = root / "site/posts/decay/data"
    text = (data / "explorer.js").read_text()
    body = json.loads(text.removeprefix("physaiExplore(").removesuffix(");\n"))
    assert [r["label"] for r in body["runs"]] == ["seed-0", "seed-1"]
    for run in body["runs"]:
        raw = read_columns((data / run["label"] / "scalars.csv").read_text())
        assert run["scalars"] == raw and set(raw) == {"step", "loss"}
        assert run["values"] == json.loads((data / run["label"] / "values.json").read_text())
    assert read_columns("a,b\n1,\n,nan\n") == {"a": [1.0, None], "b": [None, None]}
    n = 3 * MAX_ROWS
    spike = [0.0] * n
    spike[7] = 9.0
    thinned = thin({"step": list(range(n)), "y": spike})
    assert len(thinned["y"]) <= MAX_ROWS + 2 and 9.0 in thinned["y"]
    assert thinned["step"][0] == 0 and thinned["step"][-1] == n - 1


def test_a_post_page_ships_under_150_kb_of_compressed_script(built_sample):
    """The scripts and styles a post with figures loads (not its figure data), gzipped."""
    import gzip
    import re

    root, _ = built_sample
    site = root / "site"
    html = (site / "posts/decay/index.html").read_text()
    assets = re.findall(r'(?:src|href)="\.\./\.\./(assets/[^"]+\.(?:js|css))"', html)
    assert {"assets/chart.js", "assets/explorer.js", "assets/uplot-1.6.32.min.js",
            "assets/site.js"} <= set(assets)
    total = sum(len(gzip.compress((site / a).read_bytes(), 9)) for a in assets if
                a.endswith(".js"))
    assert total < 150_000, total
    assert (site / "assets/uplot-LICENSE.txt").read_text().startswith("The MIT License")


def test_build_v_says_which_figure_stays_static_and_why(tmp_path):
    from conftest import FAST_EXPERIMENT, cli, make_blog

    experiment = FAST_EXPERIMENT.replace(
        "    ax = fig.add_subplot()\n    ax.plot(*data.run.series(\"y\"))",
        "    left, right = fig.subplots(1, 2)\n    left.plot(*data.run.series(\"y\"))")
    root = make_blog(tmp_path / "blog", experiments={"fast.py": experiment})
    result = cli("build", "--root", root, "-v")
    assert result.exit_code == 0, result.output
    assert ("figure fast/curve stays static (no interactive chart): 2 panels (only "
            "single-panel figures are interactive)") in result.output
    chart = (root / "site/posts/fast/figures/curve.js").read_text()
    assert chart.startswith('physaiFigure("curve",null,"2 panels')
