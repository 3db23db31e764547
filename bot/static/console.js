/* Nurse console: new alerts without a reload, and numbers revealed in place.
   Everything also works without JavaScript: forms post and pages reload. */
(function () {
  "use strict";

  var POLL_MS = 15000;
  var KINDS = ["alerts", "callbacks"];

  function fromHtml(html) {
    var template = document.createElement("template");
    template.innerHTML = html.trim();
    return template.content.firstElementChild;
  }

  /* Someone is working in this item: never pull it from under them. */
  function busy(el) {
    if (el.contains(document.activeElement)) return true;
    return Array.prototype.some.call(el.querySelectorAll("textarea"), function (t) {
      return t.value.trim() !== "";
    });
  }

  /* Reveal a number: post in the background, show it where the masked one was. */
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-reveal]")) return;
    event.preventDefault();
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { Accept: "application/json" },
      credentials: "same-origin"
    }).then(function (res) {
      if (!res.ok) throw new Error("reveal failed: " + res.status);
      return res.json();
    }).then(function (data) {
      var target = document.getElementById(form.getAttribute("data-reveal"));
      if (!target) return;
      target.textContent = data.display;
      target.setAttribute("tabindex", "-1");
      form.remove();
      target.focus();  // the button is gone: keep keyboard users where they were
    }).catch(function () {
      HTMLFormElement.prototype.submit.call(form);  // fall back to the ordinary post
    });
  });

  var hint = document.getElementById("updates-hint");
  if (!hint || !hint.getAttribute("data-updates-url")) return;
  var url = hint.getAttribute("data-updates-url");
  var live = document.getElementById("updates-live");
  var baseTitle = document.title;

  function merge(data) {
    var added = { alerts: 0, callbacks: 0 };
    KINDS.forEach(function (kind) {
      var section = data.sections && data.sections[kind];
      var list = document.getElementById(kind + "-list");
      if (!section || !list) return;
      var existing = {};
      Array.prototype.forEach.call(list.children, function (el) {
        existing[el.getAttribute("data-id")] = el;
      });
      var previous = null;
      section.ids.forEach(function (id) {
        var fresh = fromHtml(section.items[id]);
        var el = existing[id];
        if (!el) {
          fresh.classList.add("is-new");
          added[kind] += 1;
          if (previous) previous.after(fresh); else list.prepend(fresh);
          el = fresh;
        } else if (el.getAttribute("data-state") !== fresh.getAttribute("data-state") && !busy(el)) {
          el.replaceWith(fresh);  // taken on by another nurse meanwhile
          el = fresh;
        }
        delete existing[id];
        previous = el;
      });
      Object.keys(existing).forEach(function (id) {
        var el = existing[id];
        if (!busy(el)) el.remove();
      });
      var empty = document.getElementById(kind + "-empty");
      if (empty) empty.hidden = section.ids.length > 0;
      var count = document.querySelector('[data-count="' + kind + '"]');
      if (count) count.textContent = "(" + section.ids.length + " open)";
    });
    var summary = document.getElementById("today-summary");
    if (summary && data.summary) summary.textContent = data.summary;
    var open = (data.counts && data.counts.alerts) || 0;
    document.title = (open ? "(" + open + ") " : "") + baseTitle;
    var words = [];
    if (added.alerts) words.push(added.alerts + " new alert" + (added.alerts > 1 ? "s" : ""));
    if (added.callbacks) {
      words.push(added.callbacks + " new call-back request" + (added.callbacks > 1 ? "s" : ""));
    }
    if (words.length && live) live.textContent = words.join(" and ") + ".";
  }

  function signedOut() {
    var banner = document.getElementById("signed-out-banner");
    if (banner) banner.hidden = false;
  }

  function poll() {
    fetch(url, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
      cache: "no-store"
    }).then(function (res) {
      if (res.status === 401) { signedOut(); return null; }
      if (!res.ok) throw new Error("updates failed: " + res.status);
      return res.json();
    }).then(function (data) {
      if (data === null) return;  // signed out: stop asking
      merge(data);
      window.setTimeout(poll, POLL_MS);
    }).catch(function () {
      window.setTimeout(poll, POLL_MS * 2);  // a network blip: try again a little later
    });
  }

  window.setTimeout(poll, POLL_MS);
})();

/* Campaigns: the progress bar of a big import, and the live cost of a message being written.
   Without JavaScript the progress page reloads itself and the cost is shown after sending. */
(function () {
  "use strict";

  var task = document.getElementById("task");
  if (task && task.getAttribute("data-progress-url")) {
    var url = task.getAttribute("data-progress-url");
    var bar = document.getElementById("task-progress");
    var stage = document.getElementById("task-stage");
    var words = document.getElementById("task-text");
    var live = document.getElementById("task-live");
    var spoken = -1;  // the last quarter read out: often enough to follow, not a torrent

    var show = function (data) {
      if (bar) {
        bar.max = Math.max(data.total, 1);
        bar.value = Math.min(data.done, bar.max);
        bar.textContent = data.percent + "%";
      }
      if (stage && data.stage) stage.textContent = data.stage;
      if (words) words.textContent = data.text;
      var quarter = Math.floor(data.percent / 25);
      if (live && quarter !== spoken) {
        spoken = quarter;
        live.textContent = data.text;
      }
    };

    var poll = function () {
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin",
                   cache: "no-store" })
        .then(function (res) {
          if (res.status === 401) { window.location.reload(); return null; }
          if (!res.ok) throw new Error("progress failed: " + res.status);
          return res.json();
        })
        .then(function (data) {
          if (data === null) return;
          show(data);
          if (data.state !== "running" || data.stalled) {
            window.location.replace(data.page);  // the page says how it ended, or moves on
            return;
          }
          window.setTimeout(poll, 700);
        })
        .catch(function () { window.setTimeout(poll, 3000); });
    };
    window.setTimeout(poll, 300);
  }

  var form = document.getElementById("message-form");
  if (form && form.getAttribute("data-segments-url")) {
    var box = form.querySelector("textarea");
    var out = box && document.getElementById(box.id + "-cost");
    var token = form.querySelector('input[name$="csrf_token"]');
    var timer = null;
    var ask = function () {
      var body = new FormData();
      body.append("text", box.value);
      if (token) body.append("csrf_token", token.value);
      fetch(form.getAttribute("data-segments-url"), {
        method: "POST", body: body, credentials: "same-origin",
        headers: { Accept: "application/json" }
      }).then(function (res) {
        if (!res.ok) throw new Error("segments failed: " + res.status);
        return res.json();
      }).then(function (data) {
        out.textContent = data.summary;
        out.classList.toggle("cost-warning", data.encoding !== "GSM-7" || !data.private);
      }).catch(function () { /* the count is a help, not a must: leave the last one */ });
    };
    if (box && out) {
      box.addEventListener("input", function () {
        window.clearTimeout(timer);
        timer = window.setTimeout(ask, 300);
      });
    }
  }
})();
