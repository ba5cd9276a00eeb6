// Line comments on a drill's code (templates/grading/_code_listing.html).
// Without this script, the form under the code posts a line number and a
// comment; with it, each line's number is a button that opens that form
// under its line, Escape or Cancel puts it back, and after an htmx save the
// focus lands on the comment saved (or, after a delete, on its line).
(function () {
  "use strict";

  function formOf(container) { return container.querySelector(".line-comment-add"); }

  function openAt(button) {
    var container = button.closest(".line-comments");
    var form = formOf(container);
    if (!form) return;
    button.closest(".code-row").appendChild(form);
    form.querySelector('input[name="line"]').value = button.dataset.line;
    form.querySelector("label[for^='line-comment-body-']").textContent = "Comment on line " + button.dataset.line;
    form.querySelector(".line-comment-cancel").hidden = false;
    form.querySelector(".line-comment-hint").hidden = true;
    container.querySelectorAll(".line-comment-open").forEach(function (b) {
      b.setAttribute("aria-expanded", b === button ? "true" : "false");
    });
    form.querySelector("textarea").focus();
  }

  function close(form) {
    var container = form.closest(".line-comments");
    var line = form.querySelector('input[name="line"]').value;
    container.appendChild(form);
    form.querySelector("label[for^='line-comment-body-']").textContent = "Comment on a line of the code";
    form.querySelector(".line-comment-cancel").hidden = true;
    form.querySelector(".line-comment-hint").hidden = false;
    var button = document.getElementById(container.id.replace(/^code-/, "line-") + "-" + line + "-open");
    container.querySelectorAll(".line-comment-open").forEach(function (b) { b.setAttribute("aria-expanded", "false"); });
    if (button) button.focus();
  }

  document.addEventListener("click", function (event) {
    var open = event.target.closest && event.target.closest(".line-comment-open");
    if (open) { openAt(open); return; }
    var cancel = event.target.closest && event.target.closest(".line-comment-cancel");
    if (cancel) close(cancel.closest(".line-comment-add"));
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var form = event.target.closest && event.target.closest(".line-comment-add");
    if (form && form.closest(".code-row")) { event.preventDefault(); close(form); }
  });

  // A comment counts in the review's revision like a mark: review.js sends the latest.

  document.addEventListener("htmx:afterSettle", function () {
    var container = document.querySelector(".line-comments[data-focus]");
    if (!container) return;
    var target = document.getElementById(container.dataset.focus);
    container.removeAttribute("data-focus");
    if (target) target.focus();
  });
})();
