// Voice calls of the simulated gateway (issue 22): a phone rings on the page with
// "Answer and press 1", "Busy" and "Refuse"; each posts the matching voice receipt.
// playground.js calls PhoneCalls.render(box, state) on every redraw.
(function () {
  "use strict";

  const ENDED = {
    answer: "Answered, pressed 1",
    busy: "Busy",
    refuse: "Refused",
  };
  let drawn = "";

  function owner(state, number) {
    const user = (state.users || []).find((u) => u.phone === number);
    return user ? ` (${user.name})` : "";
  }

  async function end(state, call, answer) {
    const response = await fetch("/ui/phone-call", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ user: state.me, call: call.id, answer: answer }),
    });
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      window.alert(body.error || `HTTP ${response.status}`);
    }
  }

  function button(label, onClick, primary) {
    const node = document.createElement("button");
    node.type = "button";
    node.className = primary ? "bk-btn primary" : "bk-btn";
    node.textContent = label;
    node.addEventListener("click", onClick);
    return node;
  }

  function callNode(state, call) {
    const node = document.createElement("section");
    node.className = `call ${call.state}`;
    node.setAttribute("aria-label", `Call to ${call.number}`);
    const head = document.createElement("p");
    head.className = "call-head";
    const ringing = call.state === "ringing";
    head.textContent = `${ringing ? "📞 Ringing" : "☎️ " + ENDED[call.state]}: ${call.number}${owner(state, call.number)}`;
    node.appendChild(head);
    const said = document.createElement("details");
    const summary = document.createElement("summary");
    summary.textContent = `What the call says (${call.language})`;
    said.appendChild(summary);
    const text = document.createElement("p");
    text.className = "call-text";
    text.textContent = call.text;
    said.appendChild(text);
    node.appendChild(said);
    if (ringing) {
      const row = document.createElement("div");
      row.className = "call-buttons";
      row.appendChild(button("Answer and press 1", () => end(state, call, "answer"), true));
      row.appendChild(button("Busy", () => end(state, call, "busy")));
      row.appendChild(button("Refuse", () => end(state, call, "refuse")));
      node.appendChild(row);
    }
    return node;
  }

  function render(box, state) {
    if (!box) return;
    const calls = (state && state.calls) || [];
    const key = JSON.stringify(calls.map((c) => [c.id, c.state]));
    if (key === drawn) return;
    drawn = key;
    box.replaceChildren();
    if (!calls.length) {
      const none = document.createElement("p");
      none.className = "muted";
      none.textContent = "No call yet: a page nobody acknowledges calls its member.";
      box.appendChild(none);
      return;
    }
    for (const call of calls.slice().reverse()) box.appendChild(callNode(state, call));
  }

  window.PhoneCalls = { render: render };
})();
