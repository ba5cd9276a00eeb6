// The review page: keyboard marking and one revision for every form.
// Everything here is an enhancement: without it each form posts on its own
// and the page reloads with the new revision.
(function () {
  "use strict";

  var current = null; // the item card the keys act on

  function cards() { return Array.prototype.slice.call(document.querySelectorAll(".review-item")); }

  function focusCard(card) {
    if (!card) return;
    current = card;
    cards().forEach(function (c) { c.classList.toggle("review-current", c === card); });
    card.focus({ preventScroll: true });
    card.scrollIntoView({ block: "start", behavior: "smooth" });
  }

  function typing(target) {
    return target.isContentEditable || /^(TEXTAREA|SELECT)$/.test(target.tagName) ||
      (target.tagName === "INPUT" && !/^(checkbox|radio|submit|button)$/.test(target.type));
  }

  document.addEventListener("focusin", function (event) {
    var card = event.target.closest && event.target.closest(".review-item");
    if (card) {
      current = card;
      cards().forEach(function (c) { c.classList.toggle("review-current", c === card); });
    }
  });

  // Marking by question (one answer per page): j / k / n follow the links to
  // the next, previous and next unmarked answer once every save has landed,
  // and the number keys act on the one card from the start.
  var byQuestion = document.querySelector("[data-by-question]");
  var saving = 0, leaving = null, failed = false;
  if (byQuestion) current = document.querySelector(".review-item");

  function leave(link) {
    if (!link) return;
    leaving = link.href;
    if (!saving && !failed) window.location.assign(leaving);
  }

  document.addEventListener("htmx:beforeSend", function (event) {
    if (event.detail.elt.closest && event.detail.elt.closest(".mark-form")) { saving += 1; failed = false; }
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    if (!(event.detail.elt.closest && event.detail.elt.closest(".mark-form"))) return;
    saving = Math.max(0, saving - 1);
    if (!event.detail.successful) { failed = true; leaving = null; return; }
    var progress = document.getElementById("bq-progress");
    if (progress && progress.dataset.url && window.htmx) {
      window.htmx.ajax("GET", progress.dataset.url, { target: "#bq-progress", swap: "outerHTML" });
    }
    // A queued save starts right after this one ends: look again once it has.
    setTimeout(function () { if (leaving && !saving) window.location.assign(leaving); }, 0);
  });

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    if (byQuestion && /^[jkn]$/.test(event.key)) {
      var link = document.getElementById({ j: "bq-next", k: "bq-prev", n: "bq-next-unmarked" }[event.key]);
      if (link) { event.preventDefault(); failed = false; leave(link); }
      return;
    }
    var list = cards();
    if (!list.length) return;
    var index = list.indexOf(current);
    if (event.key === "j" || event.key === "k") {
      event.preventDefault();
      var next = event.key === "j" ? index + 1 : (index < 0 ? 0 : index - 1);
      focusCard(list[Math.max(0, Math.min(list.length - 1, next))]);
    } else if (/^[1-9]$/.test(event.key) && current) {
      var box = current.querySelector('input[type="checkbox"][data-key="' + event.key + '"]');
      if (box && !box.disabled) {
        event.preventDefault();
        box.checked = !box.checked;
        box.dispatchEvent(new Event("change", { bubbles: true }));
      }
    }
  });

  // An adjustment saves together with its reason: wait for the reason rather
  // than send a change the server must refuse.
  document.addEventListener("htmx:confirm", function (event) {
    var trigger = event.detail.triggeringEvent;
    var field = trigger && trigger.type === "change" ? trigger.target : null;
    if (!field || field.name !== "adjustment") return;
    var reason = field.form.querySelector('input[name="reason"]');
    if (Number(field.value) !== 0 && reason && !reason.value.trim()) {
      event.preventDefault();
      var status = field.form.querySelector(".mark-status");
      if (status) status.textContent = "Add the reason for this adjustment; it saves with it.";
    }
  });

  // Every save (a mark, a line comment) answers with the review's new
  // revision (#review-revision, swapped out of band); the next save of any
  // form must carry it.
  document.addEventListener("htmx:configRequest", function (event) {
    var revision = document.getElementById("review-revision");
    if (revision && event.detail.elt.closest && event.detail.elt.closest(".mark-form, .line-comment-form")) {
      event.detail.parameters.set ? event.detail.parameters.set("revision", revision.value)
        : (event.detail.parameters.revision = revision.value);
    }
  });
  document.addEventListener("htmx:afterSettle", function () {
    var revision = document.getElementById("review-revision");
    if (!revision) return;
    document.querySelectorAll('form input[name="revision"]').forEach(function (input) { input.value = revision.value; });
  });
})();
