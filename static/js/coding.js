// The coding pane of a drill on the attempt page: Ctrl/Cmd+Enter runs the
// tests, reset to the starter code, load an earlier run's code, traceback
// lines that move the editor's cursor, and the state of a run in progress
// (buttons disabled, the previous result dimmed). attempt.js creates the
// editors; this file reaches one through its wrapper's `.CodeMirror`
// property, so neither file depends on the other's internals. Everything
// here is an enhancement: without it the forms still post.
(function () {
  "use strict";

  var PENDING = '.submission[data-status="queued"], .submission[data-status="running"]';

  function itemOf(node) {
    return node && node.closest ? node.closest("article.item-drill") : null;
  }

  function editorOf(item) {
    var wrapper = item && item.querySelector(".answer-form .CodeMirror");
    return wrapper && wrapper.CodeMirror ? wrapper.CodeMirror : null;
  }

  function codeArea(item) {
    return item.querySelector('textarea.code-editor[name="content"]');
  }

  function setCode(item, text) {
    var editor = editorOf(item);
    if (editor) {
      editor.setValue(text);
      editor.focus();
      return;
    }
    var area = codeArea(item);
    area.value = text;
    area.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function currentCode(item) {
    var editor = editorOf(item);
    return editor ? editor.getValue() : codeArea(item).value;
  }

  // A run is pending while a submission (not a dimmed previous one) polls.
  function pendingIn(item) {
    return Array.prototype.some.call(item.querySelectorAll(PENDING), function (node) {
      return !node.closest(".previous-result");
    });
  }

  function refresh(item) {
    if (!item) return;
    var area = codeArea(item);
    var editable = area && !area.readOnly;
    var busy = pendingIn(item) || item.classList.contains("run-requested");
    item.querySelectorAll(".run-button, .own-run-button").forEach(function (button) {
      button.disabled = busy;
    });
    item.querySelectorAll(".reset-code").forEach(function (button) {
      button.hidden = !editable;
    });
    // Loading code and jumping to a line need this page's editor.
    item.querySelectorAll(".load-code").forEach(function (button) {
      button.hidden = !editable;
    });
    if (editable) {
      item.querySelectorAll("span.trace-line").forEach(function (span) {
        var button = document.createElement("button");
        button.type = "button";
        button.className = "btn btn-link p-0 align-baseline trace-line";
        button.dataset.line = span.dataset.line;
        button.textContent = span.textContent;
        button.setAttribute("aria-label", span.textContent + ": move the editor's cursor there");
        span.replaceWith(button);
      });
    }
    // A finished run no longer needs the previous result beside it.
    item.querySelectorAll(".test-runs, .own-result").forEach(function (box) {
      var live = Array.prototype.some.call(box.querySelectorAll(PENDING), function (node) {
        return !node.closest(".previous-result");
      });
      if (!live) box.querySelectorAll(".previous-result").forEach(function (old) { old.remove(); });
    });
    // The statement scrolls on its own on wide screens: reachable by keyboard.
    var statement = item.querySelector(":scope > .card-body > .prose:first-child");
    if (statement && !statement.hasAttribute("tabindex")) {
      statement.setAttribute("tabindex", "0");
      statement.setAttribute("role", "region");
      statement.setAttribute("aria-label", "Statement");
      statement.classList.add("drill-statement");
    }
  }

  function refreshAll(root) {
    var items = root.matches && root.matches("article.item-drill") ? [root] : root.querySelectorAll("article.item-drill");
    Array.prototype.forEach.call(items, refresh);
    var inside = itemOf(root);
    if (inside && items.length === 0) refresh(inside);
  }

  function goToLine(item, line) {
    var editor = editorOf(item);
    if (!editor) return;
    var index = Math.max(0, Math.min(editor.lineCount() - 1, line - 1));
    editor.setCursor({ line: index, ch: editor.getLine(index).search(/\S|$/) });
    editor.focus();
    editor.getWrapperElement().scrollIntoView({ block: "nearest" });
    editor.scrollIntoView(null, 80);
    var handle = editor.addLineClass(index, "background", "trace-target");
    setTimeout(function () { editor.removeLineClass(handle, "background", "trace-target"); }, 1500);
  }

  function loadCode(item, url) {
    fetch(url, { credentials: "same-origin", headers: { Accept: "text/plain" } })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.text();
      })
      .then(function (code) {
        if (code === currentCode(item)) return;
        if (window.confirm("Replace the code in the editor with this run's code? It is saved as your answer.")) {
          setCode(item, code);
        }
      })
      .catch(function () {
        window.alert("That run's code could not be loaded; reload the page and try again.");
      });
  }

  document.addEventListener("click", function (event) {
    var target = event.target.closest ? event.target.closest("button") : null;
    if (!target) return;
    var item = itemOf(target);
    if (!item) return;
    if (target.classList.contains("reset-code")) {
      if (currentCode(item) === target.dataset.starter) return;
      if (window.confirm("Replace your code with the starter code? Your current code is lost unless a run kept it.")) {
        setCode(item, target.dataset.starter);
      }
    } else if (target.classList.contains("load-code")) {
      loadCode(item, target.dataset.codeUrl);
    } else if (target.classList.contains("trace-line")) {
      goToLine(item, parseInt(target.dataset.line, 10));
    }
  });

  // Capture, so the editor never sees the key as a new line.
  document.addEventListener(
    "keydown",
    function (event) {
      if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) return;
      var item = itemOf(event.target);
      if (!item) return;
      var button = null;
      if (event.target.closest(".own-input-form")) button = item.querySelector(".own-run-button");
      else if (event.target.closest(".answer-form")) button = item.querySelector(".run-button");
      if (!button) return;
      event.preventDefault();
      event.stopPropagation();
      if (!button.disabled) button.click();
    },
    true
  );

  function runRequest(event) {
    var elt = event.detail && event.detail.elt;
    if (!elt || !elt.closest) return null;
    if (elt.classList.contains("run-button") || elt.classList.contains("own-input-form")) return elt;
    return null;
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = runRequest(event);
    if (!elt) return;
    var item = itemOf(elt);
    var editor = editorOf(item);
    if (editor) editor.save();
    item.classList.add("run-requested");
    var box = item.querySelector(elt.classList.contains("run-button") ? ".test-runs" : ".own-result");
    if (box) box.classList.add("is-running");
    refresh(item);
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var elt = runRequest(event);
    if (!elt) return;
    var item = itemOf(elt);
    item.classList.remove("run-requested");
    item.querySelectorAll(".is-running").forEach(function (box) { box.classList.remove("is-running"); });
    refresh(item);
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    refreshAll(event.target);
  });

  function measureBar() {
    var bar = document.getElementById("attempt-bar") || document.querySelector(".attempt-bar");
    if (bar) document.documentElement.style.setProperty("--attempt-bar-height", bar.offsetHeight + "px");
  }

  document.addEventListener("DOMContentLoaded", function () {
    measureBar();
    // After attempt.js, whose DOMContentLoaded listener was added first.
    setTimeout(function () { refreshAll(document); }, 0);
  });
  window.addEventListener("resize", measureBar);
})();
