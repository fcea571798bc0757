"""A drawn matplotlib figure as a small JSON chart spec, for the interactive figure in the page.

The worker calls ``figure_spec`` on the Figure a plotting function drew, before it is closed:
every axes' lines, markers, bands (``fill_between``), bars, error bars, rules (``axhline``),
texts and images become plain numbers, colours and labels; axis scales, limits, ticks and the
legend come along.  Anything it cannot map faithfully raises ``Unmappable`` with the reason,
and the figure stays a static image: a wrong interactive chart is worse than none.

Series above ``MAX_POINTS`` points are decimated for display (each bucket keeps its first,
lowest, highest and last point, so every point shown is a real data point); the downloads keep
the full data.  Series carry the run (sweep cell and seed) they were drawn from, when the
figure's data can tell (``figures/identity.py``).
"""

from __future__ import annotations

import json
import math

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import FillBetweenPolyCollection, LineCollection, PathCollection
from matplotlib.colors import to_hex, to_rgba
from matplotlib.container import BarContainer, ErrorbarContainer
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.text import Text

from physai_blog.figures.identity import Identities
from physai_blog.figures.mathtext import plain

SPEC_VERSION = 1
MAX_POINTS = 4000
BUCKETS = 1000
DASHES = {"--": [6, 4], ":": [1.5, 3], "-.": [6, 3, 1.5, 3], "dashed": [6, 4],
          "dotted": [1.5, 3], "dashdot": [6, 3, 1.5, 3]}


class Unmappable(Exception):
    """An artist (or figure layout) the interactive chart cannot draw faithfully."""


def figure_spec(fig: Figure, data=None) -> dict:
    """The chart spec of ``fig``; raises ``Unmappable`` naming what stays static."""
    panels = [ax for ax in fig.axes if not _is_colorbar(ax) and ax.get_visible()]
    if len(panels) != 1:
        raise Unmappable(f"{len(panels)} panels (only single-panel figures are interactive)")
    ax = panels[0]
    ids = Identities(data)
    series = AxesWalk(ax, ids).series()
    width, height = fig.get_size_inches()
    return {"version": SPEC_VERSION, "size": [round(float(width) * 100), round(float(height) * 100)],
            "title": plain(ax.get_title()), "x": _axis(ax, "x"), "y": _axis(ax, "y"),
            "grid": _grid(ax), "series": series, "legend": _legend(ax, series),
            "runs": ids.table()}


def spec_json(spec: dict) -> str:
    """Deterministic JSON: sorted keys, shortest round-trip floats, NaN as null."""
    return json.dumps(_clean(spec), sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


def _clean(value):
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


def _is_colorbar(ax: Axes) -> bool:
    return getattr(ax, "_colorbar", None) is not None


def _axis(ax: Axes, which: str) -> dict:
    axis = ax.xaxis if which == "x" else ax.yaxis
    scale = axis.get_scale()
    if scale not in ("linear", "log", "symlog"):
        raise Unmappable(f"{which} axis scale {scale!r}")
    lo, hi = ax.get_xlim() if which == "x" else ax.get_ylim()
    out = {"label": plain(axis.get_label_text()), "scale": scale,
           "min": float(min(lo, hi)), "max": float(max(lo, hi)), "invert": bool(lo > hi)}
    if scale == "symlog":
        out["linthresh"] = float(axis.get_transform().linthresh)
    if axis.get_major_locator().__class__.__name__ == "FixedLocator":
        ticks = [float(t) for t in axis.get_majorticklocs()]
        labels = [t.get_text() for t in axis.get_majorticklabels()]
        out["ticks"] = ticks
        if any(labels):
            out["ticklabels"] = [plain(t) for t in labels]
    return out


def _grid(ax: Axes) -> dict:
    lines = {"x": [g for g in ax.xaxis.get_gridlines() if g.get_visible()],
             "y": [g for g in ax.yaxis.get_gridlines() if g.get_visible()]}
    return {k: bool(v) for k, v in lines.items()}


def _style(artist, color) -> dict:
    rgba = to_rgba(color, artist.get_alpha())
    return {"color": to_hex(rgba, keep_alpha=False), "alpha": round(float(rgba[3]), 4)}


class AxesWalk:
    """Every artist of one axes, mapped in drawing order (z-order, as matplotlib does)."""

    def __init__(self, ax: Axes, ids: Identities):
        self.ax, self.ids = ax, ids
        self.done: set[int] = set()

    def series(self) -> list[dict]:
        out: list[dict] = []
        for container in self.ax.containers:
            out.extend(self.container(container))
        pool = {id(a) for a in (*self.ax.lines, *self.ax.collections, *self.ax.patches,
                                *self.ax.images, *self.ax.texts)}
        artists = [a for a in self.ax.get_children() if id(a) in pool]   # in drawing order
        for artist in sorted(artists, key=lambda a: a.get_zorder()):
            if id(artist) in self.done or not artist.get_visible():
                continue
            out.append(self.artist(artist))
        for i, s in enumerate(out):
            s["id"] = i
        return out

    def artist(self, artist) -> dict:
        if isinstance(artist, Line2D):
            return self.line(artist)
        if isinstance(artist, FillBetweenPolyCollection):
            return self.band(artist)
        if isinstance(artist, PathCollection):
            return self.scatter(artist)
        if isinstance(artist, AxesImage):
            return self.image(artist)
        if type(artist) is Text:
            return self.text(artist)
        raise Unmappable(f"a {type(artist).__name__} artist")

    def _data_transform(self, artist) -> None:
        if artist.get_transform() is not self.ax.transData:
            raise Unmappable(f"a {type(artist).__name__} not in data coordinates")

    def line(self, line: Line2D) -> dict:
        x = np.asarray(np.ma.filled(np.ma.asarray(line.get_xdata(), float), np.nan), float)
        y = np.asarray(np.ma.filled(np.ma.asarray(line.get_ydata(), float), np.nan), float)
        style = {**_style(line, line.get_color()), "width": float(line.get_linewidth()),
                 "label": _label(line)}
        ls, marker = line.get_linestyle(), line.get_marker()
        if ls not in ("None", "", " ", "none"):
            style["dash"] = DASHES.get(ls, [])
        if marker not in ("None", "", " ", "none", None):
            style["marker"] = str(marker)
            style["size"] = float(line.get_markersize())
            style["face"] = to_hex(to_rgba(line.get_markerfacecolor()), keep_alpha=False)
        tr = line.get_transform()
        if tr is self.ax.get_yaxis_transform() and len(set(y.tolist())) == 1:
            return {"kind": "hline", "y": float(y[0]), **style}
        if tr is self.ax.get_xaxis_transform() and len(set(x.tolist())) == 1:
            return {"kind": "vline", "x": float(x[0]), **style}
        self._data_transform(line)
        return self.points("line", x, y, style)

    def points(self, kind: str, x, y, style: dict, extra: dict | None = None) -> dict:
        keep = np.isfinite(x) & np.isfinite(y)
        x, y = x[keep], y[keep]
        out = {"kind": kind, **style, **self.ids.of(x, y), "n": int(len(x))}
        idx = decimate(y) if len(x) > MAX_POINTS else None
        for key, values in {"x": x, "y": y, **(extra or {})}.items():
            values = np.asarray(values)[keep] if key not in ("x", "y") else values
            out[key] = (values if idx is None else values[idx]).tolist()
        if "points" in out and idx is not None:
            out["points"] = [out["points"][i] for i in idx.tolist()]
        return out

    def scatter(self, coll: PathCollection) -> dict:
        if coll.get_offset_transform() is not self.ax.transData:
            raise Unmappable("a scatter not in data coordinates")
        xy = np.asarray(coll.get_offsets(), float)
        colors = coll.get_facecolors()
        if len(colors) > 1 or coll.get_array() is not None:
            raise Unmappable("a scatter with one colour per point")
        sizes = coll.get_sizes()
        style = {**_style(coll, colors[0] if len(colors) else "C0"), "label": _label(coll),
                 "marker": "o", "size": float(np.sqrt(sizes[0])) if len(sizes) else 6.0}
        style["face"] = style["color"]
        return self.points("scatter", xy[:, 0], xy[:, 1], style)

    def band(self, coll: FillBetweenPolyCollection) -> dict:
        self._data_transform(coll)
        if coll.t_direction != "x":
            raise Unmappable("fill_betweenx")
        xs, lo, hi = [], [], []
        for path in coll.get_paths():
            v = path.vertices
            n = (len(v) - 3) // 2
            fwd, back = v[1:n + 1], v[n + 2:2 * n + 2][::-1]
            if n < 1 or len(back) != n or not np.array_equal(fwd[:, 0], back[:, 0]):
                raise Unmappable("a filled area that is not a band between two curves")
            xs.append(fwd[:, 0])
            lo.append(fwd[:, 1])
            hi.append(back[:, 1])
        face = coll.get_facecolor()
        style = {**_style(coll, face[0] if len(face) else "C0"), "label": _label(coll)}
        x, lo, hi = (np.concatenate(a) if a else np.array([]) for a in (xs, lo, hi))
        lows, highs = np.minimum(lo, hi), np.maximum(lo, hi)
        return self.points("band", x, lows, style, {"y2": highs})

    def container(self, container) -> list[dict]:
        if isinstance(container, BarContainer):
            return [self.bars(container)]
        if isinstance(container, ErrorbarContainer):
            return [self.errorbar(container)]
        raise Unmappable(f"a {type(container).__name__}")

    def bars(self, container: BarContainer) -> dict:
        rects = list(container.patches)
        if not rects or not all(isinstance(r, Rectangle) for r in rects):
            raise Unmappable("bars that are not rectangles")
        self.done |= {id(r) for r in rects}
        if container.orientation != "vertical":
            raise Unmappable("horizontal bars")
        x = np.array([r.get_x() + r.get_width() / 2 for r in rects], float)
        y = np.array([r.get_y() + r.get_height() for r in rects], float)
        base = [float(r.get_y()) for r in rects]
        colors = {to_hex(r.get_facecolor(), keep_alpha=False) for r in rects}
        style = {**_style(rects[0], rects[0].get_facecolor()), "label": _label(container),
                 "barwidth": float(rects[0].get_width()), "base": base}
        if len(colors) > 1:
            style["colors"] = [to_hex(r.get_facecolor(), keep_alpha=False) for r in rects]
        return self.points("bars", x, y, style)

    def errorbar(self, container: ErrorbarContainer) -> dict:
        line, caps, bars = container.lines
        self.done |= {id(a) for a in (line, *caps, *bars) if a is not None}
        if line is None:
            raise Unmappable("error bars without a data line")
        out = self.line(line)
        out["label"] = _label(container)
        for coll in bars:
            if not isinstance(coll, LineCollection):
                raise Unmappable("error bars that are not segments")
            segs = [np.asarray(s, float) for s in coll.get_segments()]
            vertical = all(s[0, 0] == s[1, 0] for s in segs)
            key = "yerr" if vertical else "xerr"
            out[key] = [[float(min(s[:, int(vertical)])), float(max(s[:, int(vertical)]))]
                        for s in segs]
        return out

    def image(self, im: AxesImage) -> dict:
        values = np.ma.filled(np.ma.asarray(im.get_array(), float), np.nan)
        if values.ndim != 2:
            raise Unmappable("an RGB image (only value maps become heatmaps)")
        rgba = im.to_rgba(im.get_array(), bytes=True)
        colors = [[f"#{r:02x}{g:02x}{b:02x}" for r, g, b, _ in row] for row in rgba.tolist()]
        return {"kind": "heatmap", "extent": [float(v) for v in im.get_extent()],
                "origin": im.origin, "values": values.tolist(), "colors": colors,
                "label": _label(im), "clim": [float(v) for v in im.get_clim()]}

    def text(self, text) -> dict:
        tr = text.get_transform()
        coords = {id(self.ax.transData): "data", id(self.ax.transAxes): "axes",
                  id(self.ax.get_xaxis_transform()): "xaxis",
                  id(self.ax.get_yaxis_transform()): "yaxis"}.get(id(tr))
        if coords is None:
            raise Unmappable("a text placed in other coordinates")
        x, y = text.get_position()
        return {"kind": "text", "text": plain(text.get_text()), "x": float(x), "y": float(y),
                "coords": coords, "ha": text.get_ha(), "va": text.get_va(),
                "size": float(text.get_fontsize()),
                "color": to_hex(to_rgba(text.get_color()), keep_alpha=False)}


def _label(artist) -> str | None:
    label = artist.get_label()
    return plain(label) if label and not str(label).startswith("_") else None


def decimate(y: np.ndarray) -> np.ndarray:
    """Indices of the points kept: per bucket its first, min, max and last (sorted, unique)."""
    edges = np.linspace(0, len(y), BUCKETS + 1).astype(int)
    keep = []
    for a, b in zip(edges[:-1], edges[1:]):
        if b > a:
            part = y[a:b]
            keep += [a, a + int(np.argmin(part)), a + int(np.argmax(part)), b - 1]
    return np.unique(np.array(keep, int))


def _legend(ax: Axes, series: list[dict]) -> dict | None:
    """The legend's entries, each with the series it stands for: its own artist, and the
    unlabelled series drawn in exactly its style (the other seeds of a labelled line)."""
    legend = ax.get_legend()
    if legend is None:
        return None
    labels = [plain(t.get_text()) for t in legend.get_texts()]
    entries = [{"label": label, "series": [s["id"] for s in series if s.get("label") == label]}
               for label in labels]
    for s in series:
        if s.get("label") is None and s["kind"] not in ("text", "heatmap"):
            owners = [e for e in entries if any(_same_style(s, series[i]) for i in e["series"])]
            if len(owners) == 1:
                owners[0]["series"].append(s["id"])
    return {"title": plain(legend.get_title().get_text()), "entries": entries}


def _same_style(a: dict, b: dict) -> bool:
    if a["kind"] == "band":    # a band belongs to the line of its colour
        return b["kind"] == "line" and a.get("color") == b.get("color")
    keys = ("kind", "color", "dash", "marker", "width")
    return all(a.get(k) == b.get(k) for k in keys)


def write_chart(fig: Figure, data, name: str, path) -> str | None:
    """Write the figure's chart script (its spec, or why it stays static) to ``path``;
    return that reason, or None when the figure is interactive."""
    try:
        spec, reason = figure_spec(fig, data), None
    except Unmappable as exc:
        spec, reason = None, str(exc)
    except Exception as exc:  # noqa: BLE001 - a bug here must not cost the static figure
        spec, reason = None, f"the chart exporter failed ({type(exc).__name__}: {exc})"
    body = spec_json(spec) if spec is not None else "null"
    path.write_text(f"physaiFigure({json.dumps(name)},{body},{json.dumps(reason)});\n",
                    encoding="utf-8")
    return reason
