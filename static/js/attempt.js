// The attempt page: countdown from the server's deadline, warnings, and the
// code editor. Everything here is an enhancement: without it the page still
// saves (plain form posts) and the server still enforces the deadline.
(function () {
  "use strict";

  var WARNINGS = [300, 60]; // seconds left: 5 minutes and 1 minute
  var offsetMs = 0; // server clock minus browser clock
  var timer = null;

  function formatLeft(seconds) {
    var h = Math.floor(seconds / 3600);
    var m = Math.floor((seconds % 3600) / 60);
    var s = seconds % 60;
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    return (h ? h + ":" + pad(m) : m) + ":" + pad(s);
  }

  function tick() {
    var clock = document.getElementById("clock");
    if (!clock) return;
    var deadline = Date.parse(clock.dataset.deadline);
    var started = Date.parse(clock.dataset.started);
    var now = Date.now() + offsetMs;
    var left = Math.max(0, Math.round((deadline - now) / 1000));
    clock.querySelector(".clock-remaining").textContent = formatLeft(left);
    var used = Math.min(100, Math.max(0, (100 * (now - started)) / (deadline - started)));
    var bar = clock.querySelector(".progress-bar");
    bar.style.width = used.toFixed(1) + "%";
    bar.classList.toggle("bg-warning", left <= WARNINGS[0] && left > WARNINGS[1]);
    bar.classList.toggle("bg-danger", left <= WARNINGS[1]);
    WARNINGS.forEach(function (limit) {
      var key = "warned" + limit;
      if (left <= limit && left > 0 && !clock.dataset[key] && !sessionStorage.getItem(key + location.pathname)) {
        sessionStorage.setItem(key + location.pathname, "1");
        var box = document.getElementById("clock-warning");
        box.textContent = limit >= 60 && limit % 60 === 0
          ? (limit / 60) + " minute" + (limit === 60 ? "" : "s") + " left. Your answers are saved as you type."
          : limit + " seconds left.";
        box.classList.remove("d-none");
      }
    });
    if (left === 0 && !clock.dataset.expiredSent) {
      clock.dataset.expiredSent = "1";
      // Ask the server, which ends the attempt and sends us to the results.
      flushSaves();
      setTimeout(function () { htmx.trigger(clock, "clock-expired"); }, 1500);
    }
  }

  function syncClock() {
    var clock = document.getElementById("clock");
    if (!clock) return;
    offsetMs = Date.parse(clock.dataset.serverNow) - Date.now();
    tick();
  }

  function flushSaves() {
    document.querySelectorAll("textarea[name=content]").forEach(function (area) {
      if (area._editor) area._editor.save();
    });
  }

  function setUpEditors(root) {
    if (typeof CodeMirror === "undefined") return;
    root.querySelectorAll("textarea.code-editor").forEach(function (area) {
      if (area._editor) return;
      var editor = CodeMirror.fromTextArea(area, {
        mode: "python",
        lineNumbers: true,
        indentUnit: 4,
        readOnly: area.readOnly,
        viewportMargin: Infinity,
        extraKeys: {
          Tab: function (cm) {
            if (cm.somethingSelected()) cm.indentSelection("add");
            else cm.replaceSelection("    ", "end");
          },
          "Shift-Tab": function (cm) { cm.indentSelection("subtract"); },
        },
      });
      area._editor = editor;
      // Keep the textarea current so htmx sends what the candidate sees.
      editor.on("change", function () {
        editor.save();
        area.dispatchEvent(new Event("input", { bubbles: true }));
      });
      editor.on("blur", function () {
        editor.save();
        area.dispatchEvent(new Event("blur"));
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    setUpEditors(document);
    syncClock();
    timer = setInterval(tick, 1000);
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    setUpEditors(event.target);
    if (event.target.id === "clock") syncClock();
  });
  window.addEventListener("beforeunload", flushSaves);
})();
