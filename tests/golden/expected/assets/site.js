// physai-blog: copy buttons on the citation block. No external requests.
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
})();
