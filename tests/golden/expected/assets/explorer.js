// physai-blog: the post's explorer.  Any logged series against step (or another column), for
// any cells and seeds (every seed, or mean with a min-max band), and any logged value against a
// swept parameter, drawn by chart.js from data/explorer.js: this post's published data.
(function () {
  "use strict";
  var PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
                 "#7f7f7f", "#bcbd22", "#17becf"];
  var box = null;

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function cellKey(cell) { return JSON.stringify(cell); }
  function cellText(cell) {
    var keys = Object.keys(cell);
    return keys.length ? keys.map(function (k) { return k + " = " + cell[k]; }).join(", ") : "all runs";
  }
  function select(id, label, options, value) {
    var wrap = el("label", {"for": id}, label + " ");
    var s = el("select", {id: id});
    options.forEach(function (o) {
      var opt = el("option", {value: o}, o);
      if (o === value) opt.selected = true;
      s.appendChild(opt);
    });
    wrap.appendChild(s);
    return wrap;
  }
  function checks(name, legend, items) {
    var set = el("fieldset", {"class": "explore-" + name});
    set.appendChild(el("legend", {}, legend));
    items.forEach(function (item, i) {
      var id = "explore-" + name + "-" + i;
      var input = el("input", {type: "checkbox", id: id, value: item.value});
      input.checked = true;
      var label = el("label", {"for": id}, " " + item.text);
      label.insertBefore(input, label.firstChild);
      set.appendChild(label);
    });
    return set;
  }
  function radios(name, legend, items, value) {
    var set = el("fieldset", {"class": "explore-" + name});
    set.appendChild(el("legend", {}, legend));
    items.forEach(function (item) {
      var id = "explore-" + name + "-" + item[0];
      var input = el("input", {type: "radio", name: "explore-" + name, id: id, value: item[0]});
      input.checked = item[0] === value;
      var label = el("label", {"for": id}, " " + item[1]);
      label.insertBefore(input, label.firstChild);
      set.appendChild(label);
    });
    return set;
  }
  function checked(root, name) {
    return Array.prototype.map.call(root.querySelectorAll(".explore-" + name + " input:checked"),
      function (i) { return i.value; });
  }
  function limits(values, log) {
    var v = values.filter(function (x) { return x !== null && isFinite(x) && (!log || x > 0); });
    if (!v.length) return [log ? 0.1 : 0, 1];
    var lo = Math.min.apply(null, v), hi = Math.max.apply(null, v);
    if (log) { var r = Math.pow(hi / lo, 0.05) || 1.1; return lo === hi ? [lo / 2, hi * 2] : [lo / r, hi * r]; }
    var pad = (hi - lo) * 0.05 || Math.abs(lo) * 0.1 || 1;
    return [lo - pad, hi + pad];
  }

  function Explorer(root, data) {
    this.root = root;
    this.data = data;
    this.cells = [];
    var seen = {};
    data.runs.forEach(function (run) {
      var k = cellKey(run.cell);
      if (!seen[k]) { seen[k] = true; this.cells.push(run.cell); }
    }, this);
    this.seeds = data.runs.map(function (r) { return r.seed; })
      .filter(function (s, i, all) { return all.indexOf(s) === i; }).sort(function (a, b) { return a - b; });
    var cols = {}, vals = {};
    data.runs.forEach(function (r) {
      Object.keys(r.scalars).forEach(function (c) { cols[c] = true; });
      Object.keys(r.values).forEach(function (v) { vals[v] = true; });
    });
    this.columns = Object.keys(cols).sort();
    this.values = Object.keys(vals).sort();
    this.build();
  }

  Explorer.prototype.build = function () {
    var self = this, root = this.root, ys = this.columns.filter(function (c) { return c !== "step"; });
    root.innerHTML = "";
    var list = el("p", {"class": "explore-list"});
    list.textContent = "Logged: " + (ys.length ? ys.length + " series (" + ys.join(", ") + ")" : "no series") +
      (this.values.length ? "; " + this.values.length + " values (" + this.values.join(", ") + ")" : "") +
      "; " + this.data.runs.length + " runs.";
    root.appendChild(list);
    var form = el("form", {"class": "explore-controls"});
    form.addEventListener("submit", function (e) { e.preventDefault(); });
    var modes = [];
    if (ys.length) modes.push(["series", "a series over a run"]);
    if (this.values.length) modes.push(["value", "a value against a parameter"]);
    if (!modes.length) return;
    form.appendChild(radios("mode", "Plot", modes, modes[0][0]));
    var series = el("div", {"class": "explore-series"});
    series.appendChild(select("explore-y", "y", ys, ys[0]));
    series.appendChild(select("explore-x", "against", this.columns.indexOf("step") >= 0 ?
      ["step"].concat(ys) : ys, "step"));
    series.appendChild(radios("agg", "Seeds", [["each", "every seed"], ["band", "mean ± min–max band"]], "each"));
    form.appendChild(series);
    var value = el("div", {"class": "explore-value"});
    value.appendChild(select("explore-v", "value", this.values, this.values[0]));
    value.appendChild(select("explore-p", "against", Object.keys(this.data.sweep).concat(["seed"]),
      Object.keys(this.data.sweep)[0] || "seed"));
    form.appendChild(value);
    if (this.cells.length > 1) {
      form.appendChild(checks("cells", "Cells", this.cells.map(function (c, i) {
        return {value: String(i), text: cellText(c)}; })));
    }
    form.appendChild(checks("seeds", "Seeds", this.seeds.map(function (s) {
      return {value: String(s), text: "seed " + s}; })));
    form.appendChild(radios("xscale", "x axis", [["linear", "linear"], ["log", "log"]], "linear"));
    form.appendChild(radios("yscale", "y axis", [["linear", "linear"], ["log", "log"]], "linear"));
    form.addEventListener("change", function () { self.draw(); });
    root.appendChild(form);
    this.form = form;
    this.plot = el("div", {"class": "explore-plot"});
    root.appendChild(this.plot);
    this.draw();
  };

  Explorer.prototype.state = function () {
    var f = this.form;
    var cells = this.cells.length > 1 ? checked(f, "cells").map(Number) : [0];
    return {mode: checked(f, "mode")[0], y: f.querySelector("#explore-y").value,
            x: f.querySelector("#explore-x").value, agg: checked(f, "agg")[0],
            v: f.querySelector("#explore-v") && f.querySelector("#explore-v").value,
            p: f.querySelector("#explore-p") && f.querySelector("#explore-p").value,
            cells: cells, seeds: checked(f, "seeds").map(Number),
            xscale: checked(f, "xscale")[0], yscale: checked(f, "yscale")[0]};
  };

  Explorer.prototype.runsOf = function (st) {
    var wanted = {};
    st.cells.forEach(function (i) { wanted[cellKey(this.cells[i])] = i; }, this);
    return this.data.runs.map(function (r, i) { return {run: r, index: i, cell: wanted[cellKey(r.cell)]}; })
      .filter(function (e) { return e.cell !== undefined && st.seeds.indexOf(e.run.seed) >= 0; });
  };

  Explorer.prototype.seriesSpec = function (st) {
    var out = [], legend = {}, xs = [], ys = [], runs = this.runsOf(st);
    var groups = {};
    runs.forEach(function (e) {
      var col = e.run.scalars[st.y], xcol = e.run.scalars[st.x];
      if (!col || !xcol) return;
      var x = [], y = [];
      for (var i = 0; i < col.length; i++) {
        if (col[i] !== null && xcol[i] !== null) { x.push(xcol[i]); y.push(col[i]); }
      }
      (groups[e.cell] = groups[e.cell] || []).push({e: e, x: x, y: y});
    });
    Object.keys(groups).forEach(function (cell) {
      var color = PALETTE[cell % PALETTE.length], label = cellText(this.cells[cell]);
      var ids = legend[label] = [];
      if (st.agg === "band") {
        var agg = meanBand(groups[cell]);
        ids.push(out.length);
        out.push({kind: "band", color: color, alpha: 0.2, x: agg.x, y: agg.lo, y2: agg.hi, label: null,
                  cell: this.cells[cell], seeds: groups[cell].map(function (g) { return g.e.run.seed; }), stat: "min"});
        ids.push(out.length);
        out.push({kind: "line", color: color, alpha: 1, width: 1.5, dash: [], x: agg.x, y: agg.mean, label: label,
                  cell: this.cells[cell], seeds: groups[cell].map(function (g) { return g.e.run.seed; }), stat: "mean", column: st.y});
        xs = xs.concat(agg.x); ys = ys.concat(agg.lo, agg.hi);
      } else {
        groups[cell].forEach(function (g) {
          ids.push(out.length);
          out.push({kind: "line", color: color, alpha: 0.85, width: 1.2, dash: [], x: g.x, y: g.y,
                    label: null, run: g.e.index, column: st.y});
          xs = xs.concat(g.x); ys = ys.concat(g.y);
        });
      }
    }, this);
    return {series: out, legend: legend, xs: xs, ys: ys, xlabel: st.x, ylabel: st.y};
  };

  function meanBand(group) {
    var at = {};
    group.forEach(function (g) {
      g.x.forEach(function (x, i) { (at[x] = at[x] || []).push(g.y[i]); });
    });
    var x = Object.keys(at).map(Number).sort(function (a, b) { return a - b; });
    var mean = [], lo = [], hi = [];
    x.forEach(function (v) {
      var ys = at[v];
      mean.push(ys.reduce(function (a, b) { return a + b; }, 0) / ys.length);
      lo.push(Math.min.apply(null, ys));
      hi.push(Math.max.apply(null, ys));
    });
    return {x: x, mean: mean, lo: lo, hi: hi};
  }

  Explorer.prototype.valueSpec = function (st) {
    var runs = this.runsOf(st), groups = {}, out = [], legend = {}, xs = [], ys = [];
    runs.forEach(function (e) {
      var y = e.run.values[st.v], x = st.p === "seed" ? e.run.seed : e.run.cell[st.p];
      if (y === undefined || typeof x !== "number") return;
      (groups[e.cell] = groups[e.cell] || {x: [], y: [], points: []});
      var g = groups[e.cell];
      g.x.push(x); g.y.push(y); g.points.push(e.index);
    });
    var points = {kind: "line", marker: "o", size: 6, color: PALETTE[0], face: PALETTE[0], alpha: 0.9,
                  width: 1, x: [], y: [], points: [], label: "one run", column: st.v};
    Object.keys(groups).forEach(function (c) {
      var g = groups[c];
      points.x = points.x.concat(g.x); points.y = points.y.concat(g.y); points.points = points.points.concat(g.points);
    });
    out.push(points);
    legend["one run"] = [0];
    var means = {};
    points.x.forEach(function (x, i) { (means[x] = means[x] || []).push(points.y[i]); });
    var mx = Object.keys(means).map(Number).sort(function (a, b) { return a - b; });
    if (mx.length > 1) {
      out.push({kind: "line", color: PALETTE[3], alpha: 1, width: 1.2, dash: [], x: mx, label: "mean over seeds",
                y: mx.map(function (x) { return means[x].reduce(function (a, b) { return a + b; }, 0) / means[x].length; })});
      legend["mean over seeds"] = [1];
    }
    xs = points.x; ys = points.y;
    return {series: out, legend: legend, xs: xs, ys: ys, xlabel: st.p, ylabel: st.v};
  };

  Explorer.prototype.draw = function () {
    var st = this.state();
    this.form.querySelector(".explore-series").hidden = st.mode !== "series";
    this.form.querySelector(".explore-value").hidden = st.mode !== "value";
    var built = st.mode === "series" ? this.seriesSpec(st) : this.valueSpec(st);
    var xl = limits(built.xs, st.xscale === "log"), yl = limits(built.ys, st.yscale === "log");
    built.series.forEach(function (s, i) { s.id = i; });
    var spec = {size: [640, 400], title: "", grid: {x: true, y: true}, runs: this.data.runs,
      x: {label: built.xlabel, scale: st.xscale, min: xl[0], max: xl[1], invert: false},
      y: {label: built.ylabel, scale: st.yscale, min: yl[0], max: yl[1], invert: false},
      series: built.series,
      legend: {title: "", entries: Object.keys(built.legend).map(function (k) {
        return {label: k, series: built.legend[k]}; })}};
    if (this.chart && this.chart.u) this.chart.u.destroy();
    this.plot.innerHTML = "";
    var holder = el("div");
    this.plot.appendChild(holder);
    this.chart = window.physaiChart(holder, spec, {label: "Explorer: " + built.ylabel + " against " + built.xlabel});
    this.plot.dataset.points = String(built.ys.length);
  };

  window.physaiExplore = function (data) {
    if (box && typeof uPlot !== "undefined" && window.physaiChart) new Explorer(box, data);
  };
  function start() {
    box = document.querySelector("[data-explore]");
    if (!box) return;
    var load = function () {
      var script = document.createElement("script");
      script.src = box.dataset.explore;
      document.head.appendChild(script);
    };
    if (!("IntersectionObserver" in window)) return load();
    var seen = new IntersectionObserver(function (entries) {
      if (entries.some(function (e) { return e.isIntersecting; })) { seen.disconnect(); load(); }
    }, {rootMargin: "400px"});
    seen.observe(box);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
