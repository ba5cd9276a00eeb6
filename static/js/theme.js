/* Colour mode (Bootstrap 5.3 colour modes): the visitor's choice from the
   navbar toggle, remembered in localStorage, else the system's
   prefers-color-scheme. Loaded without defer in <head>, so the attribute is
   set before the first paint (the CSP refuses inline scripts). */
(function () {
  "use strict";
  var KEY = "theme";
  var media = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;

  function stored() {
    try {
      var value = window.localStorage.getItem(KEY);
      return value === "light" || value === "dark" ? value : null;
    } catch (e) {
      return null; // storage refused (private mode, blocked cookies): follow the system
    }
  }

  function preferred() {
    return stored() || (media && media.matches ? "dark" : "light");
  }

  function apply(theme) {
    document.documentElement.setAttribute("data-bs-theme", theme);
    var buttons = document.querySelectorAll("[data-theme-toggle]");
    for (var i = 0; i < buttons.length; i++) {
      // One name ("Dark theme"), its state in aria-pressed, as a toggle button should.
      buttons[i].setAttribute("aria-pressed", theme === "dark" ? "true" : "false");
    }
  }

  apply(preferred());

  if (media && media.addEventListener) {
    media.addEventListener("change", function () {
      if (!stored()) apply(preferred());
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    apply(preferred());
    document.addEventListener("click", function (event) {
      var button = event.target.closest ? event.target.closest("[data-theme-toggle]") : null;
      if (!button) return;
      var next = document.documentElement.getAttribute("data-bs-theme") === "dark" ? "light" : "dark";
      try {
        window.localStorage.setItem(KEY, next);
      } catch (e) {
        /* not remembered, still applied */
      }
      apply(next);
    });
  });
})();
