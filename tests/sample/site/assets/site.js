// physai-blog: copy buttons on the citation block. No external requests.
document.querySelectorAll("button.copy").forEach(function (button) {
  button.addEventListener("click", function () {
    var target = document.getElementById(button.dataset.copy);
    var text = target ? target.innerText : "";
    var done = function () {
      var label = button.textContent;
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = label; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done);
    } else {
      var area = document.createElement("textarea");
      area.value = text; document.body.appendChild(area); area.select();
      try { document.execCommand("copy"); done(); } finally { document.body.removeChild(area); }
    }
  });
});
