// physai-blog: a figure's static SVG becomes an interactive chart drawn from the chart spec
// written beside it (figures/spec.py) with uPlot (vendored, MIT).  Hover or arrow keys read the
// nearest point exactly, with its run (cell and seed); drag zooms, shift-drag pans, double
// click or "Reset" restores the drawn view; legend entries toggle their series.  The SVG stays
// for print and for readers without JavaScript.  No request leaves the page's origin: each
// spec is a script beside the figure, so file:// pages work too.
(function () {
  "use strict";
  var PT = 100 / 72;   // matplotlib points to chart pixels (the spec's size is at 100 dpi)
  var MARKERS = {o: 1, s: 1, "^": 1, v: 1, D: 1, d: 1, x: 1, "+": 1, "*": 1, ".": 1};

  function fmt(v) {
    if (v === null || v === undefined || isNaN(v)) return "–";
    return String(v);
  }
  function tick(v) {
    if (v === 0) return "0";
    var a = Math.abs(v);
    if (a >= 1e5 || a < 1e-3) return v.toExponential().replace("e+", "e");
    return String(+v.toPrecision(6));
  }
  var SUP = {"-": "⁻", "0": "⁰", "1": "¹", "2": "²", "3": "³", "4": "⁴", "5": "⁵", "6": "⁶",
             "7": "⁷", "8": "⁸", "9": "⁹"};
  function decade(v) {
    var k = Math.round(Math.log10(v));
    if (Math.abs(Math.log10(v) - k) > 1e-9) return tick(v);
    return "10" + String(k).split("").map(function (c) { return SUP[c]; }).join("");
  }
  function distr(axis) {
    return axis.scale === "log" ? 3 : axis.scale === "symlog" ? 4 : 1;
  }
  function logSplits(min, max) {
    var out = [], lo = Math.floor(Math.log10(min)), hi = Math.ceil(Math.log10(max));
    var mults = hi - lo <= 2 ? [1, 2, 5] : [1];
    for (var k = lo; k <= hi; k++) {
      mults.forEach(function (m) {
        var v = m * Math.pow(10, k);
        if (v >= min * (1 - 1e-9) && v <= max * (1 + 1e-9)) out.push(+v.toPrecision(12));
      });
    }
    return out;
  }
  function theme() {
    var style = getComputedStyle(document.body);
    return {fg: style.color, muted: style.getPropertyValue("--muted").trim() || "#888",
            dark: matchMedia("(prefers-color-scheme: dark)").matches};
  }
  // Black and near-black ink would vanish on a dark page: it becomes the page's text colour.
  function ink(color, th) {
    if (!th.dark || !color || color[0] !== "#") return color;
    var r = parseInt(color.slice(1, 3), 16), g = parseInt(color.slice(3, 5), 16),
        b = parseInt(color.slice(5, 7), 16);
    return r + g + b < 120 ? th.fg : color;
  }

  function runText(spec, s, i) {
    var run = null, parts = [];
    if (s.run !== undefined) run = spec.runs[s.run];
    else if (s.points && s.points[i] !== null && s.points[i] !== undefined) run = spec.runs[s.points[i]];
    var cell = run ? run.cell : s.cell;
    if (cell) {
      var keys = Object.keys(cell);
      if (keys.length) parts.push(keys.map(function (k) { return k + " = " + cell[k]; }).join(", "));
    }
    if (run) parts.push("seed " + run.seed);
    else if (s.seeds) parts.push(s.stat + " over seeds " + s.seeds.join(", "));
    if (s.column) parts.push(s.column);
    return parts.join(" · ");
  }

  function Chart(el, spec, options) {
    el.physaiChart = this;   // for the page's own scripts (the explorer) and tests
    this.el = el;
    this.spec = spec;
    this.options = options || {};
    this.hidden = {};
    this.focus = null;     // {series, index}: the point read out
    this.build();
  }

  Chart.prototype.legendOf = function (id) {
    var entries = (this.spec.legend && this.spec.legend.entries) || [];
    for (var i = 0; i < entries.length; i++) {
      if (entries[i].series.indexOf(id) >= 0) return entries[i].label;
    }
    return null;
  };

  Chart.prototype.build = function () {
    var self = this, spec = this.spec;
    this.el.innerHTML = "";
    this.el.classList.add("chart");
    if (spec.title) {
      var title = document.createElement("div");
      title.className = "chart-title";
      title.textContent = spec.title;
      this.el.appendChild(title);
    }
    this.plot = document.createElement("div");
    this.plot.className = "chart-plot";
    this.plot.tabIndex = 0;
    this.plot.setAttribute("role", "application");
    this.plot.setAttribute("aria-label", (this.options.label || "Interactive chart") +
      ". Arrow keys: move along a series (up/down: next series); shift+arrows: pan; " +
      "+ and -: zoom; 0: reset.");
    this.el.appendChild(this.plot);
    this.tip = document.createElement("div");
    this.tip.className = "chart-tip";
    this.tip.setAttribute("aria-live", "polite");
    this.tip.hidden = true;
    this.dot = document.createElement("div");
    this.dot.className = "chart-dot";
    this.dot.hidden = true;
    this.controls = document.createElement("div");
    this.controls.className = "chart-controls";
    this.el.appendChild(this.controls);
    this.buildLegend();
    var reset = document.createElement("button");
    reset.type = "button";
    reset.className = "chart-reset";
    reset.textContent = "Reset";
    reset.addEventListener("click", function () { self.reset(); });
    var buttons = document.createElement("span");
    buttons.appendChild(reset);
    var figure = this.el.closest("figure.figure");
    if (figure) {
      var big = document.createElement("button");
      big.type = "button";
      big.className = "chart-enlarge";
      big.textContent = "Enlarge";
      big.addEventListener("click", function () {
        figure.dispatchEvent(new CustomEvent("physai-enlarge"));
      });
      buttons.appendChild(document.createTextNode(" "));
      buttons.appendChild(big);
    }
    this.controls.appendChild(buttons);
    this.mount();
  };

  Chart.prototype.buildLegend = function () {
    var self = this, legend = this.spec.legend;
    if (!legend || !legend.entries.length) return;
    var box = document.createElement("div");
    box.className = "chart-legend";
    box.setAttribute("role", "group");
    box.setAttribute("aria-label", legend.title || "Legend: show or hide series");
    if (legend.title) {
      var t = document.createElement("span");
      t.className = "chart-legend-title";
      t.textContent = legend.title;
      box.appendChild(t);
    }
    legend.entries.forEach(function (entry) {
      var b = document.createElement("button");
      b.type = "button";
      b.setAttribute("aria-pressed", "true");
      b.dataset.series = entry.series.join(",");
      var first = self.spec.series[entry.series[0]] || {};
      var swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.background = ink(first.color, theme());
      b.appendChild(swatch);
      b.appendChild(document.createTextNode(entry.label));
      b.addEventListener("click", function () {
        var show = b.getAttribute("aria-pressed") !== "true";
        b.setAttribute("aria-pressed", String(show));
        entry.series.forEach(function (id) { self.hidden[id] = !show; });
        self.hideTip();
        self.u.redraw(false);
      });
      box.appendChild(b);
    });
    this.controls.appendChild(box);
  };

  Chart.prototype.size = function () {
    var big = this.el.closest(".enlarged"), s = this.spec.size || [640, 400];
    var w = Math.max(280, Math.min(this.el.clientWidth || 640, big ? 1600 : 900));
    var h = Math.round(w * s[1] / s[0]);
    if (big && h > window.innerHeight * 0.75) {
      h = Math.round(window.innerHeight * 0.75);
      w = Math.round(h * s[0] / s[1]);
    }
    return {width: w, height: h};
  };

  Chart.prototype.axisOpts = function (which, th) {
    var a = this.spec[which], o = {
      scale: which, label: a.label || null, stroke: th.fg, labelSize: 22, size: which === "y" ? 60 : 40,
      grid: {show: !!this.spec.grid[which], stroke: th.dark ? "rgba(255,255,255,0.12)" : "rgba(0,0,0,0.1)", width: 1},
      ticks: {stroke: th.fg, width: 1, size: 4},
      font: "11px system-ui, sans-serif", labelFont: "12px system-ui, sans-serif"
    };
    if (a.ticks) {
      o.splits = function () { return a.ticks; };
      if (a.ticklabels) o.values = function () { return a.ticklabels; };
    } else if (a.scale === "log") {
      o.splits = function (u, i, min, max) { return logSplits(min, max); };
      o.values = function (u, splits) { return splits.map(decade); };
    } else {
      o.values = function (u, splits) { return splits.map(tick); };
    }
    if (which === "x") o.side = 2;
    return o;
  };

  Chart.prototype.mount = function () {
    var self = this, spec = this.spec, th = theme(), size = this.size();
    function scale(which) {
      var a = spec[which];
      return {time: false, auto: false, distr: distr(a), log: 10, asinh: a.linthresh || 1,
              dir: a.invert ? -1 : 1, ori: which === "x" ? 0 : 1,
              range: function (u, min, max) { return [min, max]; }};
    }
    var opts = {
      width: size.width, height: size.height,
      scales: {x: scale("x"), y: scale("y")},
      axes: [this.axisOpts("x", th), this.axisOpts("y", th)],
      series: [{}, {scale: "y", stroke: "transparent", points: {show: false}}],
      legend: {show: false},
      cursor: {drag: {x: true, y: true, uni: 20, setScale: true}, points: {show: false},
               x: false, y: false, bind: {dblclick: function () { return null; }}},
      hooks: {
        draw: [function (u) { self.draw(u, th); }],
        setCursor: [function (u) { self.hover(u); }],
        ready: [function (u) { self.reset(); }]
      }
    };
    var data = [[spec.x.min, spec.x.max], [null, null]];
    this.u = new uPlot(opts, data, this.plot);
    this.u.over.appendChild(this.dot);
    this.u.over.appendChild(this.tip);
    this.bindKeys();
    this.bindPan();
    this.u.over.addEventListener("dblclick", function () { self.reset(); });
    this.u.over.addEventListener("mouseleave", function () { self.hideTip(); });
  };

  Chart.prototype.reset = function () {
    this.u.batch(function () {
      this.u.setScale("x", {min: this.spec.x.min, max: this.spec.x.max});
      this.u.setScale("y", {min: this.spec.y.min, max: this.spec.y.max});
    }.bind(this));
    this.hideTip();
  };

  Chart.prototype.resize = function () {
    if (this.u) this.u.setSize(this.size());
  };

  // -- drawing -------------------------------------------------------------------------------
  Chart.prototype.px = function (v, which) { return this.u.valToPos(v, which, true); };

  // One projection per axis and frame: valToPos per point is most of the time of a long line.
  Chart.prototype.projector = function (which) {
    var u = this.u, sc = u.scales[which], b = u.bbox, a = this.spec[which];
    if (a.scale === "symlog") return function (v) { return u.valToPos(v, which, true); };
    var log = a.scale === "log", f = log ? Math.log10 : function (v) { return v; };
    var lo = f(sc.min), span = f(sc.max) - lo, flip = (which === "y") !== !!a.invert;
    var start = which === "x" ? b.left : b.top, size = which === "x" ? b.width : b.height;
    return function (v) {
      var t = (f(v) - lo) / span;
      return start + (flip ? 1 - t : t) * size;
    };
  };

  Chart.prototype.ok = function (v, which) {
    return v !== null && isFinite(v) && (this.spec[which].scale !== "log" || v > 0);
  };

  Chart.prototype.draw = function (u, th) {
    var ctx = u.ctx, box = u.bbox, r = uPlot.pxRatio * (u.width / (this.spec.size[0] || 640));
    ctx.save();
    ctx.beginPath();
    ctx.rect(box.left, box.top, box.width, box.height);
    ctx.clip();
    for (var i = 0; i < this.spec.series.length; i++) {
      var s = this.spec.series[i];
      if (this.hidden[s.id]) continue;
      ctx.globalAlpha = s.alpha === undefined ? 1 : s.alpha;
      var color = ink(s.color, th);
      ctx.strokeStyle = ctx.fillStyle = color;
      var fn = this["draw_" + s.kind];
      if (fn) fn.call(this, ctx, s, r, th);
    }
    ctx.restore();
  };

  Chart.prototype.draw_line = function (ctx, s, r) {
    var pen = false;
    if (s.dash) {
      ctx.lineWidth = s.width * PT * r;
      ctx.setLineDash(s.dash.map(function (d) { return d * s.width * PT * r; }));
      ctx.beginPath();
      var px = this.projector("x"), py = this.projector("y");
      for (var i = 0; i < s.x.length; i++) {
        if (!this.ok(s.x[i], "x") || !this.ok(s.y[i], "y")) { pen = false; continue; }
        var X = px(s.x[i]), Y = py(s.y[i]);
        if (pen) ctx.lineTo(X, Y); else ctx.moveTo(X, Y);
        pen = true;
      }
      ctx.stroke();
      ctx.setLineDash([]);
    }
    if (s.yerr) this.draw_errors(ctx, s, r);
    if (s.marker) this.draw_markers(ctx, s, r);
  };
  Chart.prototype.draw_scatter = function (ctx, s, r) { this.draw_markers(ctx, s, r); };

  Chart.prototype.draw_markers = function (ctx, s, r) {
    var size = (s.size || 6) * PT * r / 2, marker = MARKERS[s.marker] ? s.marker : "o";
    ctx.fillStyle = s.face || ctx.strokeStyle;
    ctx.lineWidth = Math.max(1, r);
    for (var i = 0; i < s.x.length; i++) {
      if (!this.ok(s.x[i], "x") || !this.ok(s.y[i], "y")) continue;
      var X = this.px(s.x[i], "x"), Y = this.px(s.y[i], "y");
      ctx.beginPath();
      if (marker === "s") ctx.rect(X - size, Y - size, 2 * size, 2 * size);
      else if (marker === "^" || marker === "v") {
        var d = marker === "^" ? -1 : 1;
        ctx.moveTo(X, Y + d * size); ctx.lineTo(X - size, Y - d * size); ctx.lineTo(X + size, Y - d * size);
        ctx.closePath();
      } else if (marker === "D" || marker === "d") {
        ctx.moveTo(X, Y - size); ctx.lineTo(X + size, Y); ctx.lineTo(X, Y + size); ctx.lineTo(X - size, Y);
        ctx.closePath();
      } else ctx.arc(X, Y, marker === "." ? size / 2 : size, 0, 2 * Math.PI);
      ctx.fill();
    }
  };

  Chart.prototype.draw_errors = function (ctx, s, r) {
    ctx.lineWidth = Math.max(1, s.width * PT * r);
    ctx.beginPath();
    for (var i = 0; i < s.yerr.length; i++) {
      if (!this.ok(s.x[i], "x")) continue;
      var X = this.px(s.x[i], "x");
      ctx.moveTo(X, this.px(s.yerr[i][0], "y"));
      ctx.lineTo(X, this.px(s.yerr[i][1], "y"));
    }
    ctx.stroke();
  };

  Chart.prototype.draw_band = function (ctx, s) {
    var lo = [], hi = [];
    for (var i = 0; i < s.x.length; i++) {
      if (!this.ok(s.x[i], "x") || !this.ok(s.y[i], "y") || !this.ok(s.y2[i], "y")) continue;
      var X = this.px(s.x[i], "x");
      lo.push([X, this.px(s.y[i], "y")]);
      hi.push([X, this.px(s.y2[i], "y")]);
    }
    if (!lo.length) return;
    ctx.beginPath();
    ctx.moveTo(lo[0][0], lo[0][1]);
    lo.forEach(function (p) { ctx.lineTo(p[0], p[1]); });
    hi.reverse().forEach(function (p) { ctx.lineTo(p[0], p[1]); });
    ctx.closePath();
    ctx.fill();
  };

  Chart.prototype.draw_bars = function (ctx, s) {
    for (var i = 0; i < s.x.length; i++) {
      var x0 = this.px(s.x[i] - s.barwidth / 2, "x"), x1 = this.px(s.x[i] + s.barwidth / 2, "x");
      var base = this.ok(s.base[i], "y") ? s.base[i] : this.spec.y.min;
      var y0 = this.px(base, "y"), y1 = this.px(s.y[i], "y");
      if (s.colors) ctx.fillStyle = s.colors[i];
      ctx.fillRect(Math.min(x0, x1), Math.min(y0, y1), Math.abs(x1 - x0), Math.abs(y1 - y0));
    }
  };

  Chart.prototype.rule = function (ctx, s, r, x0, y0, x1, y1) {
    ctx.lineWidth = s.width * PT * r;
    if (s.dash) ctx.setLineDash(s.dash.map(function (d) { return d * s.width * PT * r; }));
    ctx.beginPath();
    ctx.moveTo(x0, y0);
    ctx.lineTo(x1, y1);
    ctx.stroke();
    ctx.setLineDash([]);
  };
  Chart.prototype.draw_hline = function (ctx, s, r) {
    var b = this.u.bbox, Y = this.px(s.y, "y");
    this.rule(ctx, s, r, b.left, Y, b.left + b.width, Y);
  };
  Chart.prototype.draw_vline = function (ctx, s, r) {
    var b = this.u.bbox, X = this.px(s.x, "x");
    this.rule(ctx, s, r, X, b.top, X, b.top + b.height);
  };

  Chart.prototype.draw_heatmap = function (ctx, s) {
    var e = s.extent, rows = s.values.length, cols = rows ? s.values[0].length : 0;
    var y0 = s.origin === "upper" ? e[3] : e[2], y1 = s.origin === "upper" ? e[2] : e[3];
    var dx = (e[1] - e[0]) / cols, dy = (y1 - y0) / rows;
    for (var i = 0; i < rows; i++) {
      for (var j = 0; j < cols; j++) {
        var X0 = this.px(e[0] + j * dx, "x"), X1 = this.px(e[0] + (j + 1) * dx, "x");
        var Y0 = this.px(y0 + i * dy, "y"), Y1 = this.px(y0 + (i + 1) * dy, "y");
        ctx.fillStyle = s.colors[i][j];
        ctx.fillRect(Math.min(X0, X1), Math.min(Y0, Y1), Math.abs(X1 - X0) + 0.5, Math.abs(Y1 - Y0) + 0.5);
      }
    }
  };

  Chart.prototype.draw_text = function (ctx, s, r) {
    var b = this.u.bbox, X, Y;
    X = s.coords === "data" || s.coords === "xaxis" ? this.px(s.x, "x") : b.left + s.x * b.width;
    Y = s.coords === "data" || s.coords === "yaxis" ? this.px(s.y, "y") : b.top + (1 - s.y) * b.height;
    ctx.font = Math.round(s.size * PT * r) + "px system-ui, sans-serif";
    ctx.textAlign = {left: "left", right: "right", center: "center"}[s.ha] || "left";
    ctx.textBaseline = {top: "top", bottom: "bottom", center: "middle", baseline: "alphabetic"}[s.va] || "alphabetic";
    ctx.fillText(s.text, X, Y);
  };

  // -- reading points --------------------------------------------------------------------------
  Chart.prototype.readable = function (s) {
    return !this.hidden[s.id] && s.x && (s.kind === "line" || s.kind === "scatter" ||
      s.kind === "band" || s.kind === "bars");
  };

  Chart.prototype.nearest = function (left, top) {
    var best = null, u = this.u;
    for (var k = 0; k < this.spec.series.length; k++) {
      var s = this.spec.series[k];
      if (!this.readable(s)) continue;
      for (var i = 0; i < s.x.length; i++) {
        if (!this.ok(s.x[i], "x") || !this.ok(s.y[i], "y")) continue;
        var dx = u.valToPos(s.x[i], "x") - left, dy = u.valToPos(s.y[i], "y") - top;
        var d = dx * dx + dy * dy;
        if (best === null || d < best.d) best = {d: d, series: k, index: i};
      }
    }
    return best;
  };

  Chart.prototype.hover = function (u) {
    if (u.cursor.left === undefined || u.cursor.left < 0) return;
    var hit = this.nearest(u.cursor.left, u.cursor.top);
    if (hit && hit.d < 900) this.show(hit.series, hit.index);
    else this.hideTip();
  };

  Chart.prototype.show = function (k, i) {
    var s = this.spec.series[k], u = this.u;
    this.focus = {series: k, index: i};
    var left = u.valToPos(s.x[i], "x"), top = u.valToPos(s.y[i], "y");
    var name = s.label || this.legendOf(s.id) || (s.kind === "band" ? "band" : "series " + (k + 1));
    var lines = [name, (this.spec.x.label || "x") + " = " + fmt(s.x[i]),
                 (this.spec.y.label || "y") + " = " + fmt(s.y[i])];
    if (s.kind === "band") lines[2] = (this.spec.y.label || "y") + " = " + fmt(s.y[i]) + " … " + fmt(s.y2[i]);
    var who = runText(this.spec, s, i);
    if (who) lines.push(who);
    this.tip.innerHTML = "";
    lines.forEach(function (text, n) {
      var line = document.createElement(n === 0 ? "strong" : "div");
      line.textContent = text;
      this.tip.appendChild(line);
    }, this);
    this.tip.dataset.x = String(s.x[i]);
    this.tip.dataset.y = String(s.y[i]);
    this.tip.hidden = false;
    this.dot.hidden = false;
    this.dot.style.left = left + "px";
    this.dot.style.top = top + "px";
    var w = u.over.clientWidth;
    this.tip.style.left = (left > w / 2 ? left - this.tip.offsetWidth - 12 : left + 12) + "px";
    this.tip.style.top = Math.max(0, top - 10) + "px";
  };

  Chart.prototype.hideTip = function () {
    this.tip.hidden = true;
    this.dot.hidden = true;
  };

  Chart.prototype.step = function (dSeries, dIndex) {
    var order = [];
    for (var k = 0; k < this.spec.series.length; k++) if (this.readable(this.spec.series[k])) order.push(k);
    if (!order.length) return;
    var f = this.focus && order.indexOf(this.focus.series) >= 0 ? this.focus : {series: order[0], index: 0};
    var pos = (order.indexOf(f.series) + dSeries + order.length) % order.length;
    var s = this.spec.series[order[pos]];
    var i = Math.max(0, Math.min(s.x.length - 1, (dSeries ? Math.min(f.index, s.x.length - 1) : f.index) + dIndex));
    this.show(order[pos], i);
  };

  Chart.prototype.zoom = function (factor, dx, dy) {
    var u = this.u;
    ["x", "y"].forEach(function (which) {
      var sc = u.scales[which], a = this.spec[which], log = a.scale === "log";
      var lo = log ? Math.log10(sc.min) : sc.min, hi = log ? Math.log10(sc.max) : sc.max;
      var mid = (lo + hi) / 2, half = (hi - lo) / 2 * factor;
      var shift = (which === "x" ? dx : dy) * (hi - lo) * 0.1 * (a.invert ? -1 : 1);
      lo = mid - half + shift; hi = mid + half + shift;
      u.setScale(which, log ? {min: Math.pow(10, lo), max: Math.pow(10, hi)} : {min: lo, max: hi});
    }, this);
  };

  Chart.prototype.bindKeys = function () {
    var self = this;
    this.plot.addEventListener("keydown", function (e) {
      var k = e.key, handled = true;
      if (e.shiftKey && k === "ArrowLeft") self.zoom(1, -1, 0);
      else if (e.shiftKey && k === "ArrowRight") self.zoom(1, 1, 0);
      else if (e.shiftKey && k === "ArrowUp") self.zoom(1, 0, 1);
      else if (e.shiftKey && k === "ArrowDown") self.zoom(1, 0, -1);
      else if (k === "ArrowLeft") self.step(0, -1);
      else if (k === "ArrowRight") self.step(0, 1);
      else if (k === "ArrowUp") self.step(1, 0);
      else if (k === "ArrowDown") self.step(-1, 0);
      else if (k === "+" || k === "=") self.zoom(0.8, 0, 0);
      else if (k === "-") self.zoom(1.25, 0, 0);
      else if (k === "0" || k === "Escape") self.reset();
      else handled = false;
      if (handled) e.preventDefault();
    });
  };

  // Shift-drag pans (a plain drag draws the zoom box).
  Chart.prototype.bindPan = function () {
    var self = this, u = this.u;
    u.over.addEventListener("mousedown", function (e) {
      if (!e.shiftKey) return;
      e.stopPropagation();
      e.preventDefault();
      var x0 = e.clientX, y0 = e.clientY, start = {x: [u.scales.x.min, u.scales.x.max], y: [u.scales.y.min, u.scales.y.max]};
      function move(ev) {
        ["x", "y"].forEach(function (which) {
          var a = self.spec[which], log = a.scale === "log", d = which === "x" ? ev.clientX - x0 : ev.clientY - y0;
          var extent = which === "x" ? u.bbox.width : u.bbox.height;
          var lo = log ? Math.log10(start[which][0]) : start[which][0], hi = log ? Math.log10(start[which][1]) : start[which][1];
          var shift = -d / (extent / uPlot.pxRatio) * (hi - lo) * (which === "y" ? -1 : 1) * (a.invert ? -1 : 1);
          lo += shift; hi += shift;
          u.setScale(which, log ? {min: Math.pow(10, lo), max: Math.pow(10, hi)} : {min: lo, max: hi});
        });
      }
      function up() {
        window.removeEventListener("mousemove", move);
        window.removeEventListener("mouseup", up);
      }
      window.addEventListener("mousemove", move);
      window.addEventListener("mouseup", up);
    }, true);
  };

  // -- figures of the page ---------------------------------------------------------------------
  var charts = [], waiting = {};
  window.physaiChart = function (el, spec, options) {
    var chart = new Chart(el, spec, options);
    charts.push(chart);
    return chart;
  };
  window.physaiFigure = function (name, spec) {
    var src = document.currentScript ? document.currentScript.src : "";
    var figure = waiting[src];
    delete waiting[src];
    if (!figure || !spec || typeof uPlot === "undefined") return;
    var holder = document.createElement("div");
    var img = figure.querySelector("img");
    figure.insertBefore(holder, img);
    figure.classList.add("has-chart");
    window.physaiChart(holder, spec, {label: img ? img.alt : name});
  };
  function load(figure) {   // keyed by the script's URL: an embedded figure has its post's
    var script = document.createElement("script");
    script.src = figure.dataset.chart;
    if (waiting[script.src] !== undefined) return;
    waiting[script.src] = figure;
    document.head.appendChild(script);
  }
  function start() {
    var figures = document.querySelectorAll("figure[data-chart]");
    if (!("IntersectionObserver" in window)) { figures.forEach(load); return; }
    var seen = new IntersectionObserver(function (entries) {
      entries.forEach(function (e) {
        if (e.isIntersecting) { seen.unobserve(e.target); load(e.target); }
      });
    }, {rootMargin: "400px"});
    figures.forEach(function (f) { seen.observe(f); });
  }
  var resizing = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizing);
    resizing = setTimeout(function () { charts.forEach(function (c) { c.resize(); }); }, 150);
  });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
