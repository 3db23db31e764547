// The phone simulator page: texts, a call driven by the line's TwiML, and the outbox.
// The server does the signing and reads the TwiML; this file only shows what happened.
(function () {
  "use strict";

  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const $ = (id) => document.getElementById(id);
  const OUTBOX_POLL_MS = 2000;

  async function post(url, data) {
    const response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(data),
      credentials: "same-origin",
    });
    let body = {};
    try {
      body = await response.json();
    } catch (e) {
      body = { error: "The simulator answered " + response.status + "." };
    }
    if (!response.ok) {
      throw new Error(body.error || "The simulator answered " + response.status + ".");
    }
    return body;
  }

  function number() {
    return $("sim-number").value.trim();
  }

  function segmentsText(item) {
    const n = item.segments;
    return n + (n === 1 ? " segment" : " segments") + ", " + item.encoding;
  }

  // --- texts -------------------------------------------------------------------------------

  const thread = $("thread");
  const seenSids = new Set();

  function bubble(who, body, detail, extraClass) {
    const li = document.createElement("li");
    li.className = "bubble " + who + (extraClass ? " " + extraClass : "");
    const label = document.createElement("span");
    label.className = "visually-hidden";
    label.textContent = who === "you" ? "You: " : "The line: ";
    const text = document.createElement("p");
    text.className = "body";
    text.textContent = body;
    li.append(label, text);
    if (detail) {
      const meta = document.createElement("span");
      meta.className = "meta";
      meta.textContent = detail;
      li.append(meta);
    }
    thread.append(li);
    thread.scrollTop = thread.scrollHeight;
    return li;
  }

  async function sendText(event) {
    event.preventDefault();
    const box = $("text-body");
    const body = box.value;
    $("text-error").textContent = "";
    if (!body.trim()) {
      $("text-error").textContent = "Type a message first.";
      return;
    }
    $("text-send").disabled = true;
    try {
      const result = await post("/simulator/text", { from: number(), body: body });
      bubble("you", result.sent.body, segmentsText(result.sent));
      if (!result.replies.length) {
        bubble("line", "(no reply)", "", "empty");
      }
      for (const reply of result.replies) {
        bubble("line", reply.body, segmentsText(reply), "reply");
      }
      box.value = "";
    } catch (err) {
      $("text-error").textContent = err.message;
    } finally {
      $("text-send").disabled = false;
      box.focus();
    }
  }

  $("text-form").addEventListener("submit", sendText);
  $("text-body").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      $("text-form").requestSubmit();
    }
  });

  // --- calls -------------------------------------------------------------------------------

  let call = null; // {sid, waiting}
  let keys = "";

  function line(kind, text) {
    const li = document.createElement("li");
    li.className = "event " + kind;
    li.textContent = text;
    $("transcript").append(li);
    $("transcript").scrollTop = $("transcript").scrollHeight;
  }

  function speak(event) {
    if (!$("call-sound").checked || !("speechSynthesis" in window)) return;
    const utterance = new SpeechSynthesisUtterance(event.text);
    utterance.lang = event.language || "en-GB";
    const voice = window.speechSynthesis.getVoices().find((v) => v.lang === utterance.lang);
    if (voice) utterance.voice = voice;
    window.speechSynthesis.speak(utterance);
  }

  function setStatus(text) {
    $("call-status").textContent = text;
  }

  function showWaiting(waiting) {
    for (const id of ["gather", "dial", "record"]) $(id).hidden = true;
    keys = "";
    $("keys-typed").textContent = "";
    $("keys-send").hidden = true;
    if (!waiting) return;
    if (waiting.kind === "gather") {
      $("gather").hidden = false;
      for (const key of document.querySelectorAll(".key")) key.disabled = !waiting.dtmf;
      $("speech-form").hidden = !waiting.speech;
      const how = [waiting.dtmf ? "press a key" : "", waiting.speech ? "say something" : ""]
        .filter(Boolean)
        .join(" or ");
      setStatus("On a call. The line is waiting: " + how + ".");
    } else if (waiting.kind === "dial") {
      $("dial").hidden = false;
      const names = waiting.targets
        .map((t) => (t.name ? t.name + " (" + t.number + ")" : t.number))
        .join(", ");
      $("dial-targets").textContent = "Ringing " + (names || "nobody") + ". What happens?";
      setStatus("On a call. Being put through.");
    } else if (waiting.kind === "record") {
      $("record").hidden = false;
      setStatus("On a call. Recording your message.");
    }
  }

  function show(result) {
    for (const event of result.events) {
      if (event.kind === "say") {
        line("say", event.text);
        speak(event);
      } else {
        line(event.kind, event.text);
      }
    }
    if (result.ended) {
      line("ended", result.ended);
      endCall(result.ended);
      return;
    }
    call = { sid: result.call, waiting: result.waiting };
    showWaiting(result.waiting);
    focusWaiting(result.waiting);
  }

  function focusWaiting(waiting) {
    if (!waiting) return;
    if (waiting.kind === "gather") {
      const first = waiting.dtmf ? document.querySelector(".key") : $("speech-text");
      if (first && document.activeElement && document.activeElement.closest("#gather") === null) {
        first.focus();
      }
    } else {
      const button = $(waiting.kind).querySelector("button");
      if (button) button.focus();
    }
  }

  function endCall(reason) {
    call = null;
    showWaiting(null);
    $("call-start").disabled = false;
    $("call-hangup").disabled = true;
    setStatus("Call ended. " + reason);
    if ("speechSynthesis" in window) window.speechSynthesis.cancel();
  }

  async function act(data) {
    if (!call) return;
    $("call-error").textContent = "";
    // One answer at a time, as on a real phone: a second press while the line is still
    // working out the first would answer a question it has not asked yet.
    const waiting = call.waiting;
    showWaiting(null);
    try {
      show(await post("/simulator/call/" + call.sid, data));
    } catch (err) {
      $("call-error").textContent = err.message;
      showWaiting(waiting);
    }
  }

  $("call-start").addEventListener("click", async () => {
    $("call-error").textContent = "";
    $("transcript").replaceChildren();
    $("call-start").disabled = true;
    setStatus("Ringing...");
    try {
      const result = await post("/simulator/call", { from: number() });
      $("call-hangup").disabled = false;
      show(result);
    } catch (err) {
      $("call-error").textContent = err.message;
      endCall("");
      setStatus("Not on a call.");
    }
  });

  $("call-hangup").addEventListener("click", async () => {
    await act({ hangup: true });
    // Even if the server has already forgotten the call, it is over for the caller.
    if (call) endCall("You hung up.");
  });

  function pressKey(key) {
    const waiting = call && call.waiting;
    if (!waiting || waiting.kind !== "gather" || !waiting.dtmf) return;
    const finish = waiting.finish_on_key;
    if (finish && key === finish) {
      act(keys ? { digits: keys } : { silence: true });
      return;
    }
    keys += key;
    $("keys-typed").textContent = "Keys pressed: " + keys.split("").join(" ");
    if (waiting.num_digits && keys.length >= waiting.num_digits) {
      act({ digits: keys });
    } else {
      $("keys-send").hidden = false;
    }
  }

  for (const button of document.querySelectorAll(".key")) {
    button.addEventListener("click", () => pressKey(button.dataset.key));
  }
  $("keypad").addEventListener("keydown", (event) => {
    if (/^[0-9*#]$/.test(event.key)) {
      event.preventDefault();
      pressKey(event.key);
    }
  });
  $("keys-send").addEventListener("click", () => act({ digits: keys }));
  $("gather-silence").addEventListener("click", () => act({ silence: true }));
  $("speech-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const words = $("speech-text").value.trim();
    if (!words) {
      $("call-error").textContent = "Type what you would say.";
      return;
    }
    $("speech-text").value = "";
    act({ speech: words });
  });
  for (const button of document.querySelectorAll("[data-dial]")) {
    button.addEventListener("click", () => act({ dial_status: button.dataset.dial }));
  }
  for (const button of document.querySelectorAll("[data-record]")) {
    button.addEventListener("click", () => {
      const choice = button.dataset.record;
      if (choice === "finish") act({ message: true });
      else if (choice === "hangup") act({ message: true, hangup: true });
      else act({ silence: true });
    });
  }

  // --- outbox ------------------------------------------------------------------------------

  let polling = false;

  async function pollOutbox() {
    if (polling || document.hidden) return;
    polling = true;
    try {
      const response = await fetch("/simulator/outbox", { credentials: "same-origin" });
      if (!response.ok) return;
      const data = await response.json();
      renderOutbox(data.messages);
    } catch (e) {
      // The server may be restarting; the next poll tries again.
    } finally {
      polling = false;
    }
  }

  function renderOutbox(messages) {
    const list = $("outbox");
    const arrived = [];
    list.replaceChildren();
    for (const m of messages) {
      const li = document.createElement("li");
      li.className = "sent";
      li.dataset.sid = m.sid;
      const head = document.createElement("p");
      head.className = "meta";
      const when = m.at ? new Date(m.at).toLocaleString("en-GB") : "";
      head.textContent = "To " + m.to + (when ? ", " + when : "") +
        (m.segments ? ", " + m.segments + (m.segments === 1 ? " segment" : " segments") : "");
      const body = document.createElement("p");
      body.className = "body";
      body.textContent = m.hidden ? "(text hidden: not a test number)" : m.body;
      li.append(head, body);
      list.append(li);
      if (!m.hidden && m.to === number() && !seenSids.has(m.sid)) arrived.push(m);
    }
    // The outbox is newest first; the phone shows texts in the order they came.
    for (const m of arrived.reverse()) {
      seenSids.add(m.sid);
      bubble("line", m.body, "Sent by the line", "outbound");
    }
    $("outbox-summary").textContent = messages.length
      ? messages.length + (messages.length === 1 ? " text sent." : " texts sent.")
      : "Nothing sent yet.";
  }

  // --- reminder calls the line places to this phone ---------------------------------------

  async function pollRinging() {
    if (document.hidden) return;
    try {
      const response = await fetch("/simulator/ringing", { credentials: "same-origin" });
      if (!response.ok) return;
      renderRinging((await response.json()).calls);
    } catch (e) {
      // The next poll tries again.
    }
  }

  function renderRinging(calls) {
    const list = $("ringing");
    list.replaceChildren();
    $("ringing-summary").textContent = calls.length
      ? calls.length + (calls.length === 1 ? " call ringing." : " calls ringing.")
      : "No calls ringing.";
    for (const c of calls) {
      const li = document.createElement("li");
      li.dataset.sid = c.sid;
      const head = document.createElement("p");
      head.textContent = "The line is calling " + c.to + ".";
      li.append(head);
      for (const [how, label] of [["person", "Answer"], ["machine", "Let the answering machine take it"],
                                  ["no-answer", "Do not answer"], ["busy", "Busy"]]) {
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = label;
        button.addEventListener("click", () => pickUp(c.sid, how));
        li.append(button);
      }
      list.append(li);
    }
  }

  async function pickUp(sid, how) {
    $("call-error").textContent = "";
    $("transcript").replaceChildren();
    try {
      const result = await post("/simulator/ringing/" + sid, { as: how });
      $("call-start").disabled = true;
      $("call-hangup").disabled = false;
      setStatus(how === "person" ? "On a reminder call from the line." : "Reminder call.");
      show(result);
    } catch (err) {
      $("call-error").textContent = err.message;
    }
    pollRinging();
  }

  // --- clock -------------------------------------------------------------------------------

  function showClock(state) {
    $("clock-now").textContent = "Simulated time: " + state.label + " (" + state.ahead + ")." +
      (state.queued ? " " + state.queued + (state.queued === 1 ? " reminder" : " reminders") +
        " came due and went to the worker." : "");
  }

  async function moveClock(to) {
    $("clock-error").textContent = "";
    try {
      showClock(await post("/simulator/clock", { to: to }));
      $("clock-to").value = "";
    } catch (e) {
      $("clock-error").textContent = e.message;
    }
  }

  $("clock-form").addEventListener("submit", (event) => {
    event.preventDefault();
    moveClock($("clock-to").value);
  });
  for (const button of document.querySelectorAll(".clock-jump")) {
    button.addEventListener("click", () => moveClock(button.dataset.to));
  }
  fetch("/simulator/clock", { credentials: "same-origin" })
    .then((r) => r.json()).then(showClock).catch(() => {});

  // Texts already sent to this phone show on it too, as a real phone would keep them.
  pollOutbox().finally(() => setInterval(pollOutbox, OUTBOX_POLL_MS));
  pollRinging().finally(() => setInterval(pollRinging, OUTBOX_POLL_MS));
})();
