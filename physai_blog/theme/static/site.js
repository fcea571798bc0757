// physai-blog: copy buttons on the citation block, the reference of a citation on hover or
// focus, a figure enlarged on click (Escape or the button closes it). No external requests.
(function () {
  function fallbackCopy(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    try { return document.execCommand("copy"); } catch (e) { return false; }
    finally { document.body.removeChild(area); }
  }
  document.querySelectorAll("button.copy").forEach(function (button) {
    var label = button.textContent;
    function show(text) {
      button.textContent = text;
      setTimeout(function () { button.textContent = label; }, 1500);
    }
    button.addEventListener("click", function () {
      var target = document.getElementById(button.dataset.copy);
      var text = target ? target.innerText : "";
      var fallback = function () { show(fallbackCopy(text) ? "Copied" : "Select and copy"); };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(function () { show("Copied"); }, fallback);
      } else {
        fallback();
      }
    });
  });

  // A citation shows its reference where it is read, as in Distill.
  var pop = null;
  function hidePop() {
    if (pop) { pop.remove(); pop = null; }
  }
  document.querySelectorAll('span.cite a[href^="#ref-"]').forEach(function (link) {
    function show() {
      var ref = document.getElementById(decodeURIComponent(link.hash.slice(1)));
      if (!ref) return;
      hidePop();
      pop = document.createElement("div");
      pop.className = "cite-pop";
      pop.id = "cite-pop";
      pop.setAttribute("role", "tooltip");
      pop.innerHTML = ref.innerHTML;
      document.body.appendChild(pop);
      link.setAttribute("aria-describedby", "cite-pop");
      var r = link.getBoundingClientRect();
      var left = Math.min(window.scrollX + r.left, window.scrollX + document.documentElement.clientWidth - pop.offsetWidth - 8);
      pop.style.left = Math.max(window.scrollX + 4, left) + "px";
      pop.style.top = (window.scrollY + r.bottom + 6) + "px";
    }
    link.addEventListener("mouseenter", show);
    link.addEventListener("focus", show);
    link.addEventListener("mouseleave", hidePop);
    link.addEventListener("blur", hidePop);
  });

  // A figure enlarges on click (an interactive one from its chart's "Enlarge" button).
  function enlarge(figure, on) {
    figure.classList.toggle("enlarged", on);
    var close = figure.querySelector(".fig-close");
    if (on && close) close.focus();
    var chart = figure.querySelector(".chart");
    if (chart && chart.physaiChart) chart.physaiChart.resize();
  }
  document.querySelectorAll("figure.figure").forEach(function (figure) {
    var close = document.createElement("button");
    close.type = "button";
    close.className = "fig-close";
    close.textContent = "Close";
    close.addEventListener("click", function () { enlarge(figure, false); });
    figure.insertBefore(close, figure.firstChild);
    var img = figure.querySelector("img");
    if (img) img.addEventListener("click", function () {
      enlarge(figure, !figure.classList.contains("enlarged"));
    });
    figure.addEventListener("physai-enlarge", function () { enlarge(figure, true); });
  });
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape") return;
    hidePop();
    document.querySelectorAll("figure.enlarged").forEach(function (f) { enlarge(f, false); });
  });
})();
