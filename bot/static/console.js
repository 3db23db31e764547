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
