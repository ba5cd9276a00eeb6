// The attempt page: countdown from the server's deadline, saving answers in
// the background, the code editor and the question navigator. Everything
// here is an enhancement: without it the page still saves (plain form posts),
// the navigator's links still jump, and the server still enforces the deadline.
(function () {
  "use strict";

  var WARNINGS = [300, 60]; // seconds left: 5 minutes and 1 minute
  var DEBOUNCE_MS = 400; // a pause this long saves
  var MAX_WAIT_MS = 1500; // typing without a pause still saves this often
  var KEEPALIVE_LIMIT = 60000; // browsers cap keepalive bodies at 64 KiB in flight
  var keepaliveBytes = 0; // in flight
  var offsetMs = 0; // server clock minus browser clock
  var timeIsUp = false;

  // ---- Saving -------------------------------------------------------------
  //
  // One queue per field: a save waits for the one in flight (or a test run,
  // which saves the code too), so each carries the revision the previous one
  // returned and the server never sees two saves based on the same revision
  // (a false "changed in another tab" conflict).

  var csrfToken = (function () {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers"))["x-csrftoken"] || "";
    } catch (error) {
      return "";
    }
  })();

  function fields() {
    return Array.prototype.slice.call(document.querySelectorAll("form.answer-form textarea[name=content]"));
  }

  function stateOf(area) {
    if (!area._save) {
      area._save = { saved: area.value, sending: null, inflight: null, next: null, timer: null, maxTimer: null };
    }
    return area._save;
  }

  function valueOf(area) {
    if (area._editor) area._editor.save();
    return area.value;
  }

  // Changed since the last save that succeeded or is on its way.
  function isDirty(area) {
    var s = stateOf(area);
    if (area.readOnly && !s.lockedByTime) return false;
    return valueOf(area) !== (s.sending !== null ? s.sending : s.saved);
  }

  function statusOf(area) {
    return area.form.querySelector(".save-status");
  }

  function setStatus(area, state, text) {
    var el = statusOf(area);
    if (!el) return;
    el.dataset.state = state;
    // Typing is not announced; saved and failed are.
    el.setAttribute("aria-live", state === "dirty" || state === "saving" ? "off" : "polite");
    el.classList.toggle("text-danger", state === "error");
    el.classList.toggle("text-body-secondary", state !== "error");
    Array.prototype.slice.call(el.childNodes).forEach(function (node) {
      if (!(node.nodeType === 1 && node.matches("input"))) el.removeChild(node);
    });
    el.appendChild(document.createTextNode(text));
  }

  function clearTimers(s) {
    clearTimeout(s.timer);
    clearTimeout(s.maxTimer);
    s.timer = s.maxTimer = null;
  }

  function changed(area) {
    var s = stateOf(area);
    if (area.readOnly) return;
    if (!isDirty(area)) {
      clearTimers(s);
      if (!s.inflight) setStatus(area, "saved", "All changes saved");
      return;
    }
    setStatus(area, "dirty", "Unsaved changes");
    clearTimeout(s.timer);
    s.timer = setTimeout(function () { save(area); }, DEBOUNCE_MS);
    if (!s.maxTimer) s.maxTimer = setTimeout(function () { save(area); }, MAX_WAIT_MS);
  }

  // Save the field if it changed; `force` saves it anyway (the Save button);
  // `unloading`: the page is going away, so nothing can wait in the queue.
  function save(area, options) {
    options = options || {};
    var s = stateOf(area);
    clearTimers(s);
    if (s.inflight) {
      if (options.unloading) return send(area, s, { unloading: true });
      if (!s.next) {
        s.next = s.inflight.then(function () {
          s.next = null;
          return save(area, options);
        });
      }
      return s.next;
    }
    if (!isDirty(area) && !options.force) return Promise.resolve();
    return send(area, s, options);
  }

  function send(area, s, options) {
    var form = area.form;
    var value = valueOf(area);
    var revisionInput = form.querySelector("input[name=revision]");
    var revision = parseInt(revisionInput.value, 10) || 0;
    // Leaving while a save is in flight: that save will have moved the
    // revision by one when this one arrives.
    if (options.unloading && s.inflight) revision += 1;
    var body = new URLSearchParams();
    body.append("csrfmiddlewaretoken", form.querySelector("input[name=csrfmiddlewaretoken]").value);
    body.append("part", form.querySelector("input[name=part]").value);
    body.append("revision", String(revision));
    body.append("content", value);
    body = body.toString();
    s.sending = value;
    setStatus(area, "saving", "Saving…");
    var request = post(form.action, body).then(
      function (response) {
        var retarget = response.header("HX-Retarget");
        if (retarget && document.querySelector(retarget)) {
          // Refused before any view ran (too large...): the page's own region says why.
          s.sending = null;
          htmx.swap(document.querySelector(retarget), response.text, { swapStyle: response.header("HX-Reswap") || "innerHTML" });
          setStatus(area, "error", "Not saved: see the message below.");
          return;
        }
        applyResponse(area, s, value, response.status, response.text);
      },
      function () {
        s.sending = null;
        setStatus(area, "error", "Not saved: the connection failed. Trying again…");
        s.timer = setTimeout(function () { save(area); }, 3000);
      }
    );
    var tracked = request.then(function () {
      if (s.inflight === tracked) s.inflight = null;
    });
    s.inflight = tracked;
    return tracked;
  }

  var HEADERS = { "Content-Type": "application/x-www-form-urlencoded;charset=UTF-8", "HX-Request": "true" };

  // POST a form body as htmx would (so the server answers with fragments and
  // no flash messages). A small body goes with keepalive, which lets it
  // finish after the page is gone; a large one (over the browser's keepalive
  // quota) with XMLHttpRequest, whose response arrives even when the server
  // refuses the body before reading it all.
  function post(url, body) {
    // The quota counts every keepalive body in flight.
    if (keepaliveBytes + body.length < KEEPALIVE_LIMIT) {
      keepaliveBytes += body.length;
      var release = function () { keepaliveBytes -= body.length; };
      var headers = Object.assign({ "X-CSRFToken": csrfToken }, HEADERS);
      return fetch(url, { method: "POST", body: body, credentials: "same-origin", keepalive: true, headers: headers })
        .then(function (response) {
          release();
          return response.text().then(function (text) {
            return { status: response.status, text: text, header: function (name) { return response.headers.get(name); } };
          });
        }, function (error) {
          release();
          throw error;
        });
    }
    return new Promise(function (resolve, reject) {
      var xhr = new XMLHttpRequest();
      xhr.open("POST", url);
      Object.keys(HEADERS).forEach(function (name) { xhr.setRequestHeader(name, HEADERS[name]); });
      xhr.setRequestHeader("X-CSRFToken", csrfToken);
      xhr.onload = function () {
        resolve({ status: xhr.status, text: xhr.responseText, header: function (name) { return xhr.getResponseHeader(name); } });
      };
      xhr.onerror = xhr.ontimeout = function () { reject(new Error("network")); };
      xhr.send(body);
    });
  }

  var ANSWERED_STATUSES = [200, 400, 403, 409, 413, 429];

  function applyResponse(area, s, value, status, html) {
    s.sending = null;
    var current = statusOf(area);
    var doc = new DOMParser().parseFromString(html, "text/html");
    var fresh = current && doc.getElementById(current.id);
    if (ANSWERED_STATUSES.indexOf(status) === -1 || !fresh) {
      setStatus(area, "error", "Not saved (the server answered " + status + "). Trying again…");
      s.timer = setTimeout(function () { save(area); }, 3000);
      return;
    }
    if (status === 200) s.saved = value;
    current.replaceWith(document.importNode(fresh, true));
    Array.prototype.forEach.call(doc.querySelectorAll("[hx-swap-oob]"), function (el) {
      var old = el.id && document.getElementById(el.id);
      if (!old || el === fresh) return;
      el.removeAttribute("hx-swap-oob");
      old.replaceWith(document.importNode(el, true));
    });
    // A save that answered its item says so instead of sending the entry.
    if (fresh.dataset.answeredItem) markAnswered(navEntry(fresh.dataset.answeredItem));
    navigatorChanged();
    if (status === 200 && isDirty(area)) changed(area); // typed while this save was on its way
  }

  function saveAll(options) {
    return Promise.all(fields().map(function (area) { return save(area, options); }));
  }

  function unsaved() {
    return fields().filter(isDirty);
  }

  // A test run saves the code too: it joins the field's queue.
  document.addEventListener("htmx:confirm", function (event) {
    var elt = event.detail.elt;
    // Only the candidate's actions (Run tests, Reveal), not the polls.
    if (!elt.matches || !elt.matches("button, form")) return;
    var scope = elt.closest("form.answer-form") || elt.closest("article.item");
    if (!scope) return;
    var waiting = Array.prototype.filter.call(scope.querySelectorAll("textarea[name=content]"), function (area) {
      return isDirty(area) || stateOf(area).inflight;
    });
    if (!waiting.length) return;
    event.preventDefault();
    Promise.all(waiting.map(function (area) { return save(area); })).then(function () {
      event.detail.issueRequest(false);
    });
  });

  // The answer field a request sends (and so saves): inside its form, or
  // taken in with hx-include (a run on the candidate's own input).
  function sentField(elt) {
    if (!elt || !elt.closest) return null;
    var form = elt.closest("form.answer-form");
    if (!form) {
      var including = elt.closest("[hx-include]");
      var included = including && document.querySelector(including.getAttribute("hx-include"));
      form = included && included.matches("form.answer-form") ? included : null;
    }
    return form && form.querySelector("textarea[name=content]");
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var area = sentField(event.detail.elt);
    if (!area) return;
    var form = area.form;
    var s = stateOf(area);
    var revision = form.querySelector("input[name=revision]").value;
    var value = valueOf(area);
    clearTimers(s);
    s.sending = value;
    s.inflight = new Promise(function (resolve) {
      s.runDone = function () {
        s.runDone = null;
        s.sending = null;
        var input = form.querySelector("input[name=revision]");
        if (input && input.value !== revision) s.saved = value; // the run stored the code
        s.inflight = null;
        resolve();
        if (isDirty(area)) changed(area);
      };
    });
  });

  ["htmx:afterRequest", "htmx:sendError", "htmx:timeout"].forEach(function (name) {
    document.addEventListener(name, function (event) {
      var area = sentField(event.detail.elt);
      if (area && stateOf(area).runDone) stateOf(area).runDone();
    });
  });

  // The Save button: the same queue, no reload.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("answer-form")) return;
    if (event.submitter && !event.submitter.classList.contains("save-button")) return;
    var area = form.querySelector("textarea[name=content]");
    if (!area || area.readOnly) return;
    event.preventDefault();
    save(area, { force: true });
  });

  document.addEventListener("input", function (event) {
    if (event.target.matches && event.target.matches("form.answer-form textarea[name=content]")) changed(event.target);
  });
  // Another script may ask for a save now.
  document.addEventListener("save-now", function (event) {
    if (event.target.matches && event.target.matches("form.answer-form textarea[name=content]")) save(event.target);
  });
  document.addEventListener("focusout", function (event) {
    if (event.target.matches && event.target.matches("form.answer-form textarea[name=content]")) save(event.target);
  });

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") saveAll();
  });
  window.addEventListener("pagehide", function () {
    unsaved().forEach(function (area) { save(area, { unloading: true }); });
  });
  window.addEventListener("beforeunload", function (event) {
    if (timeIsUp) return;
    var dirty = unsaved();
    if (!dirty.length) return;
    // Start saving now; if the candidate stays, the saves finish here.
    dirty.forEach(function (area) { save(area, { unloading: true }); });
    event.preventDefault();
    event.returnValue = "";
  });

  // Links out of the page (Submit…) wait for the saves instead of warning.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[href]");
    if (!link || link.closest(".navigator") || link.getAttribute("href").charAt(0) === "#") return;
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.shiftKey || link.target) return;
    if (!unsaved().length && !fields().some(function (area) { return stateOf(area).inflight; })) return;
    event.preventDefault();
    saveAll().then(function () { window.location.href = link.href; });
  });

  // ---- The clock ----------------------------------------------------------

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
    var left = Math.max(0, Math.ceil((deadline - now) / 1000));
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
    if (deadline <= now && !clock.dataset.expiredSent) {
      clock.dataset.expiredSent = "1";
      endOfTime(clock);
    }
  }

  // At zero: stop the typing, save every changed field, then ask the server,
  // which ends the attempt (once its grace has passed) and sends us to the results.
  function endOfTime(clock) {
    var first = !timeIsUp;
    timeIsUp = true;
    fields().forEach(function (area) {
      if (area.readOnly) return;
      stateOf(area).lockedByTime = true;
      save(area);
      area.readOnly = true;
      if (area._editor) area._editor.setOption("readOnly", true);
    });
    var box = document.getElementById("clock-warning");
    if (first) {
      box.textContent = "Time is up. Saving your last changes…";
      box.classList.remove("d-none", "alert-warning");
      box.classList.add("alert-danger");
    }
    var saving = fields().map(function (area) { return stateOf(area).next || stateOf(area).inflight || Promise.resolve(); });
    Promise.all(saving).then(function () {
      if (first) box.textContent = "Time is up. Your answers are saved; ending the attempt…";
      setTimeout(function () { htmx.trigger(clock, "clock-expired"); }, first ? 0 : 1500);
    });
  }

  function syncClock() {
    var clock = document.getElementById("clock");
    if (!clock) return;
    offsetMs = Date.parse(clock.dataset.serverNow) - Date.now();
    tick();
  }

  // ---- The code editor ----------------------------------------------------

  var TABBABLE = "a[href], button:not([disabled]), input:not([type=hidden]):not([disabled]), select, textarea, " +
    "[tabindex]:not([tabindex='-1']), [contenteditable=true]";

  // Move the focus to the next (1) or previous (-1) control outside the
  // editor, as Tab would (the editor's own key map would take a passed Tab).
  function leaveEditor(cm, direction) {
    var wrapper = cm.getWrapperElement();
    var candidates = Array.prototype.filter.call(document.querySelectorAll(TABBABLE), function (el) {
      return (el === cm.getInputField() || !wrapper.contains(el)) && el.getClientRects().length && el.tabIndex >= 0;
    });
    var here = candidates.indexOf(cm.getInputField());
    var next = candidates[here + direction];
    cm.state.leaveOnTab = false;
    if (next) next.focus();
    else cm.getInputField().blur();
  }

  function setUpEditors(root) {
    if (typeof CodeMirror === "undefined") return;
    root.querySelectorAll("textarea.code-editor").forEach(function (area) {
      if (area._editor) return;
      stateOf(area);
      var editor = CodeMirror.fromTextArea(area, {
        mode: "python",
        lineNumbers: true,
        indentUnit: 4,
        readOnly: area.readOnly,
        viewportMargin: Infinity,
        screenReaderLabel: area.dataset.label || "Code",
        // The editable text itself takes focus (screen readers read it, and
        // its scrolling region is reachable from the keyboard).
        inputStyle: "contenteditable",
        extraKeys: {
          // Esc, then Tab (or Shift+Tab) moves focus out: no keyboard trap.
          Esc: function (cm) { cm.state.leaveOnTab = true; },
          Tab: function (cm) {
            if (cm.state.leaveOnTab) return leaveEditor(cm, 1);
            if (cm.somethingSelected()) cm.indentSelection("add");
            else cm.replaceSelection("    ", "end");
          },
          "Shift-Tab": function (cm) {
            if (cm.state.leaveOnTab) return leaveEditor(cm, -1);
            cm.indentSelection("subtract");
          },
        },
      });
      area._editor = editor;
      var input = editor.getInputField();
      input.setAttribute("role", "textbox");
      input.setAttribute("aria-multiline", "true");
      if (area.getAttribute("aria-describedby")) input.setAttribute("aria-describedby", area.getAttribute("aria-describedby"));
      editor.on("keydown", function (cm, event) {
        if (["Escape", "Tab", "Shift"].indexOf(event.key) === -1) cm.state.leaveOnTab = false;
      });
      editor.on("focus", function (cm) { cm.state.leaveOnTab = false; });
      // Keep the textarea current so every save sends what the candidate sees.
      editor.on("change", function () {
        editor.save();
        changed(area);
      });
      editor.on("blur", function () { save(area); });
    });
  }

  // ---- The question navigator --------------------------------------------

  var currentPk = null;

  function navEntry(pk) {
    return document.getElementById("nav-item-" + pk);
  }

  function markCurrent(pk) {
    currentPk = pk;
    document.querySelectorAll(".navigator .nav-entry-link").forEach(function (link) {
      var here = link.parentElement.id === "nav-item-" + pk;
      link.classList.toggle("current", here);
      if (here) link.setAttribute("aria-current", "location");
      else link.removeAttribute("aria-current");
    });
    var entry = pk && navEntry(pk);
    var box = document.querySelector(".attempt-nav");
    if (!entry || !box || box.scrollHeight <= box.clientHeight) return;
    var itemBox = entry.getBoundingClientRect();
    var outer = box.getBoundingClientRect();
    if (itemBox.top < outer.top) box.scrollTop -= outer.top - itemBox.top + 8;
    else if (itemBox.bottom > outer.bottom) box.scrollTop += itemBox.bottom - outer.bottom + 8;
  }

  function watchCurrentItem() {
    if (!("IntersectionObserver" in window)) return;
    var visible = {};
    var observer = new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        if (entry.isIntersecting) visible[entry.target.id] = true;
        else delete visible[entry.target.id];
      });
      var first = Array.prototype.find.call(document.querySelectorAll("article.item"), function (item) {
        return visible[item.id] && navEntry(item.id.slice(5));
      });
      if (first) markCurrent(first.id.slice(5));
    }, { rootMargin: "-25% 0px -55% 0px" });
    document.querySelectorAll("article.item").forEach(function (item) { observer.observe(item); });
    return observer;
  }

  var itemObserver = null;

  // Entries replaced out of band (a save, a reveal) lose the current mark;
  // the count of answered items is the count of entries the server marked
  // answered (a save sends back its item's entry only).
  function navigatorChanged() {
    if (currentPk) markCurrent(currentPk);
    var count = document.getElementById("answered-count");
    if (count) count.textContent = String(document.querySelectorAll('.nav-entry[data-answered="1"]').length);
  }

  // True if the entry was not marked answered before.
  function markAnswered(entry) {
    if (!entry || entry.dataset.answered === "1") return false;
    entry.dataset.answered = "1";
    entry.querySelector(".nav-answered").textContent = "(answered)";
    return true;
  }

  // A drill's latest run, read from its panel: the run answers the drill.
  function runState(runs) {
    var submission = runs.querySelector(".submission");
    if (!submission) return null;
    var status = submission.dataset.status;
    if (status === "queued" || status === "running") return { pending: true };
    if (status !== "graded") return { error: true };
    var passed = submission.dataset.passed;
    var total = submission.dataset.total;
    if (passed === undefined) {
      var summary = runs.querySelector(".run-summary");
      var match = /(\d+) of (\d+) tests? passed/.exec(summary ? summary.textContent : "");
      if (!match) return { error: true };
      passed = match[1];
      total = match[2];
    }
    return { passed: parseInt(passed, 10), total: parseInt(total, 10) };
  }

  function updateRuns() {
    document.querySelectorAll(".test-runs[id^='runs-']").forEach(function (runs) {
      var entry = navEntry(runs.id.slice(5));
      var state = runState(runs);
      if (!entry || !state) return;
      if (markAnswered(entry)) navigatorChanged();
      var badge = entry.querySelector(".nav-tests");
      if (!badge) return;
      badge.classList.remove("d-none");
      if (state.pending) {
        entry.dataset.tests = "pending";
        badge.textContent = "tests running";
      } else if (state.error) {
        entry.dataset.tests = "error";
        badge.textContent = "tests: not graded";
      } else {
        entry.dataset.tests = state.passed === state.total ? "passed" : "failed";
        badge.textContent = "tests " + state.passed + "/" + state.total;
      }
    });
  }

  // On a phone the navigator is a drawer: close it, then go.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest(".navigator a[href^='#']");
    if (!link) return;
    var target = document.getElementById(link.getAttribute("href").slice(1));
    if (!target) return;
    event.preventDefault();
    var drawer = document.getElementById("navigator");
    var go = function () {
      target.scrollIntoView({ block: "start" });
      history.replaceState(null, "", link.getAttribute("href"));
      if (target.matches("article.item")) {
        target.focus({ preventScroll: true });
        markCurrent(target.id.slice(5));
      }
    };
    if (drawer && drawer.classList.contains("show") && window.bootstrap) {
      drawer.addEventListener("hidden.bs.offcanvas", go, { once: true });
      bootstrap.Offcanvas.getOrCreateInstance(drawer).hide();
    } else {
      go();
    }
  });

  function measureBar() {
    var bar = document.getElementById("attempt-bar");
    if (bar) document.documentElement.style.setProperty("--attempt-bar-height", bar.offsetHeight + "px");
  }

  // ---- Wiring -------------------------------------------------------------

  document.addEventListener("DOMContentLoaded", function () {
    fields().forEach(stateOf);
    setUpEditors(document);
    measureBar();
    syncClock();
    setInterval(tick, 1000);
    itemObserver = watchCurrentItem();
    updateRuns();
  });
  window.addEventListener("resize", measureBar);
  document.addEventListener("htmx:afterSettle", function (event) {
    setUpEditors(event.target);
    fields().forEach(stateOf);
    if (event.target.id === "clock") syncClock();
    if (itemObserver && event.target.matches && event.target.matches("article.item")) itemObserver.observe(event.target);
    updateRuns();
    navigatorChanged();
  });
})();
