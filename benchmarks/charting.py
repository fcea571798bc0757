"""Which charting library draws the interactive figures: bundle size and 10^5-point render time.

    npm pack uplot@1.6.32 @observablehq/plot@0.6.17 d3@7.9.2 vega@6.4.0 vega-lite@6.5.0 \
        vega-embed@7.3.0                                   # into a folder, once
    .venv/bin/python benchmarks/charting.py FOLDER         # writes charting.json / charting.md

Each candidate draws one line of 100,000 points in Debian's chromium (headless, Playwright),
five times in fresh pages; the time is from starting the draw to the frame after it.  The
baseline, run alongside, is the same polyline stroked by hand on a Canvas 2D context: the
ratios say what each library costs over drawing the pixels at all.  Sizes are the minified
files gzipped at level 9 (what a reader downloads from a compressing host).
"""

from __future__ import annotations

import gzip
import json
import statistics
import sys
import tarfile
import tempfile
from pathlib import Path

HERE = Path(__file__).parent
PACKAGE_STATIC = HERE.parent / "physai_blog" / "theme" / "static"
N = 100_000
REPEAT = 5
CANDIDATES = {   # name: (npm tarball prefix, files inside the tarball's package/)
    "uPlot 1.6.32 (with chart.js)": [("uplot-1.6.32", "dist/uPlot.iife.min.js")],
    "Observable Plot 0.6.17 + d3 7.9.2": [("d3-7.9.2", "dist/d3.min.js"),
                                          ("observablehq-plot-0.6.17", "dist/plot.umd.min.js")],
    "Vega-Lite 6.5.0 + Vega 6.4.0 + vega-embed 7.3.0": [
        ("vega-6.4.0", "build/vega.min.js"), ("vega-lite-6.5.0", "build/vega-lite.min.js"),
        ("vega-embed-7.3.0", "build/vega-embed.min.js")],
}
DATA = f"const N = {N}; const xs = new Float64Array(N), ys = new Float64Array(N);" \
       "for (let i = 0; i < N; i++) { xs[i] = i + 1; ys[i] = Math.sin(i / 500) + i / N; }"
DRAW = {
    "baseline": """const c = document.createElement('canvas'); c.width = 640; c.height = 400;
        document.body.appendChild(c); const ctx = c.getContext('2d'); ctx.beginPath();
        for (let i = 0; i < N; i++) ctx.lineTo(i / N * 640, 200 - ys[i] * 90); ctx.stroke();""",
    "uPlot 1.6.32 (with chart.js)": """const el = document.createElement('div');
        document.body.appendChild(el);
        physaiChart(el, {size: [640, 400], title: '', grid: {x: true, y: true}, legend: null,
          runs: [], x: {label: 'step', scale: 'log', min: 1, max: N, invert: false},
          y: {label: 'y', scale: 'linear', min: -1.2, max: 2.2, invert: false},
          series: [{id: 0, kind: 'line', color: '#1f77b4', alpha: 1, width: 1.5, dash: [],
                    label: 'sin', x: Array.from(xs), y: Array.from(ys), n: N}]});""",
    "Observable Plot 0.6.17 + d3 7.9.2": """const data = Array.from(xs, (x, i) => ({x, y: ys[i]}));
        document.body.appendChild(Plot.plot({width: 640, height: 400, x: {type: 'log'},
          marks: [Plot.line(data, {x: 'x', y: 'y'})]}));""",
    "Vega-Lite 6.5.0 + Vega 6.4.0 + vega-embed 7.3.0": """const el = document.createElement('div');
        document.body.appendChild(el);
        const values = Array.from(xs, (x, i) => ({x, y: ys[i]}));
        await vegaEmbed(el, {width: 640, height: 400, data: {values}, mark: 'line',
          encoding: {x: {field: 'x', type: 'quantitative', scale: {type: 'log'}},
                     y: {field: 'y', type: 'quantitative'}}}, {renderer: 'canvas',
          actions: false});""",
}


def sources(folder: Path) -> dict[str, list[str]]:
    out = {}
    for name, files in CANDIDATES.items():
        texts = []
        for prefix, inner in files:
            (tarball,) = folder.glob(f"{prefix}.tgz")
            with tarfile.open(tarball) as tf:
                texts.append(tf.extractfile(f"package/{inner}").read().decode())
        if name.startswith("uPlot"):
            texts.append((PACKAGE_STATIC / "chart.js").read_text())
        out[name] = texts
    return out


def render_ms(browser, scripts: list[str], draw: str, work: Path) -> float:
    page_file = work / "bench.html"
    tags = "".join(f"<script>{s}</script>" for s in scripts)
    page_file.write_text(f"<!doctype html><meta charset=utf-8><body>{tags}</body>")
    page = browser.new_page()
    page.goto(page_file.as_uri())
    ms = page.evaluate(f"""async () => {{ {DATA}
        const t0 = performance.now();
        {draw}
        await new Promise(r => requestAnimationFrame(() => setTimeout(r, 0)));
        return performance.now() - t0; }}""")
    page.close()
    return ms


def measure(folder: Path) -> dict:
    from playwright.sync_api import sync_playwright

    libs = sources(folder)
    results = {}
    with sync_playwright() as p, tempfile.TemporaryDirectory() as tmp:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                    args=["--no-sandbox", "--disable-gpu"])
        for _ in range(REPEAT):   # interleaved, so a slow moment hits every candidate alike
            for name in ["baseline", *libs]:
                ms = render_ms(browser, libs.get(name, []), DRAW[name], Path(tmp))
                results.setdefault(name, {"ms": []})["ms"].append(round(ms, 1))
        browser.close()
    for name, texts in libs.items():
        raw = "".join(texts[:-1] if name.startswith("uPlot") else texts).encode()
        results[name]["bytes"] = len(raw)
        results[name]["gzip"] = len(gzip.compress(raw, 9))
    base = statistics.median(results["baseline"]["ms"])
    for row in results.values():
        row["median_ms"] = statistics.median(row["ms"])
        row["ratio"] = round(row["median_ms"] / base, 1)
    return results


def table(results: dict) -> str:
    lines = [f"| candidate | minified | gzip -9 | draw 10^5 points (median of {REPEAT}) | "
             "ratio to the hand-drawn canvas |", "|---|---|---|---|---|"]
    for name, row in results.items():
        size = f"{row['bytes'] / 1024:.0f} KiB | {row['gzip'] / 1024:.0f} KiB" \
            if "gzip" in row else "– | –"
        lines.append(f"| {name} | {size} | {row['median_ms']:.0f} ms | {row['ratio']}x |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    found = measure(Path(sys.argv[1]))
    (HERE / "charting.json").write_text(json.dumps(found, indent=1, sort_keys=True) + "\n")
    (HERE / "charting.md").write_text(
        "# Charting library for the interactive figures\n\n"
        "`benchmarks/charting.py` (see its docstring); chromium headless, one 100,000-point "
        "line, log x axis.\n\n" + table(found))
    print(table(found))
