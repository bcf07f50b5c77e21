// The page: long-polls /ui/state and draws the channel, the modal and the phones;
// what the person does goes to /ui/… where the Slack stand-in signs it for the bot.
"use strict";

(function () {
  const { el, message: renderMessage } = window.Blocks;
  const { mrkdwn, escapeHtml } = window.Mrkdwn;
  const $ = (id) => document.getElementById(id);

  const page = {
    me: localStorage.getItem("playground-me") || "U0ALICE",
    channel: localStorage.getItem("playground-channel") || "C0OPS",
    version: -1,
    state: null,
    drawn: { messages: "", phones: {}, people: "", received: {} },
    // Replies seen per thread ("me|channel|ts" -> count): a reply landing in an
    // older thread, out of view, gets an unread mark and a "jump to it" notice.
    seen: {},
    typing: {},
  };

  function ctx() {
    const s = page.state;
    const users = {};
    for (const u of s.users) users[u.id] = u;
    users[s.bot.id] = { id: s.bot.id, name: s.bot.name };
    users.USLACKBOT = { id: "USLACKBOT", name: "Slackbot" };
    const channels = {};
    for (const c of s.channels) channels[c.id] = c;
    const usergroups = {};
    for (const g of s.usergroups) usergroups[g.id] = g;
    return {
      users, channels, usergroups, me: page.me,
      people: s.users, channelList: s.channels, currentChannel: page.channel,
    };
  }

  async function post(name, data) {
    const response = await fetch(`/ui/${name}`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ user: page.me, ...data }),
    });
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      flash(body.error || `HTTP ${response.status}`);
    }
    return response.ok;
  }

  function flash(text) {
    const box = $("flash");
    box.textContent = text;
    box.hidden = false;
    clearTimeout(flash.timer);
    flash.timer = setTimeout(() => { box.hidden = true; }, 5000);
  }

  // --- the channel ------------------------------------------------------------------------

  function clock(ts) {
    const d = new Date(Number(ts.split(".")[0]) * 1000);
    return d.toLocaleTimeString("en-US", { hour: "numeric", minute: "2-digit" });
  }

  function messageNode(msg, context, replies) {
    const author = context.users[msg.user] || { name: msg.user };
    const isBot = Boolean(msg.bot_id);
    const node = el("article", {
      class: `msg${msg.ephemeral ? " ephemeral" : ""}`,
      "data-ts": msg.ts,
      "aria-label": `${author.name}${msg.ephemeral ? " (only visible to you)" : ""} at ${clock(msg.ts)}`,
    });
    node.append(el("div", { class: `avatar${isBot ? " bot" : ""}`, "aria-hidden": "true", text: (author.real_name || author.name || "?").charAt(0).toUpperCase() }));
    const body = el("div", { class: "msg-body" });
    const meta = el("div", { class: "msg-meta" });
    meta.append(el("span", { class: "msg-author", text: author.real_name || author.name }));
    if (isBot) meta.append(el("span", { class: "app-badge", text: "APP" }));
    meta.append(el("time", { class: "msg-time", text: clock(msg.ts) }));
    if (msg.edited) meta.append(el("span", { class: "msg-edited", text: "(edited)" }));
    body.append(meta);
    if (msg.ephemeral) body.append(el("div", { class: "only-you", text: "Only visible to you" }));
    const blockCtx = { ...context, onAction: (action) => post("action", { channel: msg.channel, ts: msg.ts, action }) };
    body.append(renderMessage(msg, blockCtx));
    if (!msg.ephemeral) {
      const tools = el("div", { class: "msg-tools" });
      const shortcut = el("button", { type: "button", class: "msg-tool", text: "Send as SMS" });
      shortcut.addEventListener("click", () => post("shortcut", { channel: msg.channel, ts: msg.ts, callback_id: "sms_send_message" }));
      tools.append(shortcut);
      body.append(tools);
    }
    if (replies && replies.length) {
      const unread = unreadReplies(msg, replies.length);
      const thread = el("details", { class: `thread${unread ? " unread" : ""}`, open: true, "data-thread": msg.ts });
      const count = `${replies.length} ${replies.length === 1 ? "reply" : "replies"}`;
      const summary = el("summary", { text: unread ? `${count} · ${unread} new` : count });
      summary.addEventListener("click", () => markSeen(msg.ts));
      thread.append(summary);
      const list = el("div", { class: "thread-replies", role: "group", "aria-label": "Thread" });
      for (const reply of replies) list.append(messageNode(reply, context, null));
      thread.append(list);
      body.append(thread);
    }
    node.append(body);
    return node;
  }

  function seenKey(ts) { return `${page.me}|${page.channel}|${ts}`; }

  // How many replies of this thread the viewer has not seen. A message is first drawn
  // with the replies it has then (all of them on opening the page) counted as seen.
  function unreadReplies(msg, count) {
    return Math.max(0, count - (page.seen[seenKey(msg.ts)] || 0));
  }

  function markSeen(ts) {
    const key = seenKey(ts);
    const thread = page.state.messages.filter((m) => m.channel === page.channel && m.thread_ts === ts && m.ts !== ts);
    if (page.seen[key] === thread.length) return;
    page.seen[key] = thread.length;
    page.drawn.messages = "";
    drawMessages();
  }

  // The "new reply above" notice: shown while an unread thread is out of view.
  function drawJump(box) {
    const jump = $("new-replies");
    const threads = [...box.querySelectorAll("details.thread.unread")];
    const view = box.getBoundingClientRect();
    const hidden = threads.filter((t) => {
      const r = t.getBoundingClientRect();
      return r.bottom > view.bottom + 1 || r.top < view.top - 1;
    });
    for (const t of threads) if (!hidden.includes(t)) setTimeout(() => markSeen(t.dataset.thread), 1500);
    jump.hidden = hidden.length === 0;
    jump.onclick = () => {
      const target = hidden[hidden.length - 1];
      if (!target) return;
      target.scrollIntoView({ block: "center" });
      markSeen(target.dataset.thread);
    };
  }

  function drawMessages() {
    const s = page.state;
    const mine = s.messages.filter((m) => m.channel === page.channel);
    const key = JSON.stringify([page.channel, page.me, mine]);
    if (key === page.drawn.messages) return;
    page.drawn.messages = key;
    const box = $("messages");
    const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
    const context = ctx();
    const replies = {};
    for (const m of mine) {
      if (m.thread_ts && m.thread_ts !== m.ts) (replies[m.thread_ts] = replies[m.thread_ts] || []).push(m);
    }
    const parents = mine.filter((m) => !m.thread_ts || m.thread_ts === m.ts);
    for (const m of parents) {
      const key = seenKey(m.ts);
      if (!(key in page.seen)) page.seen[key] = (replies[m.ts] || []).length;
    }
    const nodes = parents.map((m) => messageNode(m, context, replies[m.ts]));
    if (!nodes.length) nodes.push(el("p", { class: "empty" }, "No messages yet. Type <code>/sms help</code> below, or pick an example."));
    box.replaceChildren(...nodes);
    if (atBottom || !drawMessages.once) box.scrollTop = box.scrollHeight;
    drawMessages.once = true;
    drawJump(box);
  }

  function drawSidebar() {
    const s = page.state;
    const key = JSON.stringify([s.channels, page.channel, page.me]);
    if (key === page.drawn.people) return;
    page.drawn.people = key;
    const list = $("channels");
    list.replaceChildren(...s.channels.map((c) => {
      const item = el("li");
      const link = el("button", { type: "button", class: `channel-link${c.id === page.channel ? " current" : ""}`, "aria-current": c.id === page.channel ? "page" : undefined, text: c.dm ? `✉ ${c.name}` : `# ${c.name}` });
      link.addEventListener("click", () => { page.channel = c.id; localStorage.setItem("playground-channel", c.id); redraw(); });
      item.append(link);
      return item;
    }));
    const current = s.channels.find((c) => c.id === page.channel);
    $("channel-title").textContent = current ? (current.dm ? current.name : `#${current.name}`) : page.channel;
    $("composer-text").placeholder = `Message ${current && !current.dm ? "#" + current.name : "sms-bot"} — try /sms help`;
    const who = $("me");
    if (!who.options.length) {
      for (const u of s.users) who.append(el("option", { value: u.id, text: `${u.real_name}${u.may_send ? "" : " (not allowed to send)"}` }));
    }
    who.value = page.me;
    const people = $("people");
    people.replaceChildren(...s.users.map((u) => el("li", {}, `<b>${escapeHtml(u.real_name)}</b> @${escapeHtml(u.name)}<br><span class="muted">${escapeHtml(u.phone)} · ${escapeHtml(u.title)}</span>`)),
      ...s.usergroups.map((g) => el("li", {}, `<b>@${escapeHtml(g.handle)}</b> <span class="muted">user group: ${escapeHtml(g.name)}</span>`)));
  }

  // --- phones and the gateway -------------------------------------------------------------

  function phoneNode(number) {
    const region = el("section", { class: "phone", "aria-label": `Phone ${number}`, "data-number": number });
    const owner = page.state.users.find((u) => u.phone === number);
    region.append(el("h3", { class: "phone-title" }, `📱 ${escapeHtml(number)}${owner ? ` <span class="muted">${escapeHtml(owner.real_name)}</span>` : ""}`));
    region.append(el("div", { class: "phone-screen", role: "log", "aria-label": `Conversation on ${number}` }));
    const form = el("form", { class: "phone-reply" });
    const inputId = `reply-${number.replace(/\W/g, "")}`;
    form.append(el("label", { for: inputId, class: "visually-hidden", text: "Reply" }));
    const input = el("input", { id: inputId, type: "text", placeholder: "Reply (ACK, STOP, anything)", autocomplete: "off" });
    form.append(input, el("button", { type: "submit", class: "bk-btn", text: "Send reply" }));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!input.value.trim()) return;
      if (await post("phone-reply", { number, text: input.value })) input.value = "";
    });
    region.append(form);
    const receipts = el("div", { class: "phone-receipts" });
    receipts.append(el("span", { class: "muted", text: "Receipt for the last SMS:" }));
    for (const [status, label] of [["DELIVERED", "Delivered"], ["NOT_DELIVERED", "Not delivered"]]) {
      const button = el("button", { type: "button", class: "bk-btn small", text: label });
      button.addEventListener("click", () => post("phone-receipt", { number, status }));
      receipts.append(button);
    }
    region.append(receipts);
    return region;
  }

  function drawPhones() {
    const box = $("phones");
    const phones = page.state.phones;
    if (!phones.length) {
      if (!box.querySelector(".empty")) box.replaceChildren(el("p", { class: "empty muted", text: "Each number that receives an SMS shows up here." }));
      return;
    }
    box.querySelector(".empty")?.remove();
    for (const phone of phones) {
      let region = box.querySelector(`section[data-number="${CSS.escape(phone.number)}"]`);
      if (!region) { region = phoneNode(phone.number); box.append(region); }
      const key = JSON.stringify(phone.messages);
      if (page.drawn.phones[phone.number] === key) continue;
      page.drawn.phones[phone.number] = key;
      // A phone that just got an SMS comes first, so it is seen (unless you are typing in it).
      const received = phone.messages.filter((m) => m.direction === "received").length;
      const before = page.drawn.received[phone.number];
      page.drawn.received[phone.number] = received;
      if (before !== undefined && received > before && !region.contains(document.activeElement) && box.firstElementChild !== region) {
        box.prepend(region);
        region.classList.add("fresh");
        setTimeout(() => region.classList.remove("fresh"), 4000);
      }
      const screen = region.querySelector(".phone-screen");
      screen.replaceChildren(...phone.messages.map((m) => {
        const bubble = el("div", { class: `bubble ${m.direction}` });
        bubble.append(el("div", { class: "bubble-from", text: m.direction === "received" ? `From ${m.sender}` : "You" }));
        bubble.append(el("div", { class: "bubble-text", text: m.text }));
        bubble.append(el("div", { class: "bubble-meta", text: `${clock(String(m.epoch))}${m.status ? " · " + m.status : ""}` }));
        return bubble;
      }));
      screen.scrollTop = screen.scrollHeight;
    }
  }

  function drawGateway() {
    const o = page.state.octopush;
    $("credit").textContent = `${o.credit} ${o.unit}`;
    $("price").textContent = `${o.price_per_sms} ${o.unit} per SMS`;
    const fail = $("fail-next");
    if (fail.options.length <= 1) {
      for (const [code, text] of Object.entries(o.codes)) fail.append(el("option", { value: code, text: `${code}: ${text}` }));
    }
    if (document.activeElement !== fail) fail.value = o.fail_next || "";
    const receipts = $("receipts");
    if (document.activeElement !== receipts) receipts.value = o.receipts || "";
  }

  function redraw() {
    if (!page.state) return;
    drawSidebar();
    drawMessages();
    drawPhones();
    drawGateway();
    if (window.PhoneCalls) window.PhoneCalls.render($("calls"), page.state);
    window.Modal.render($("modal-root"), page.state.views, modalCtx());
    for (const hook of page.redrawHooks) hook();
    if (window.Workflow) window.Workflow.draw(page.state);
    for (const waiter of page.waiters.splice(0)) waiter();
  }
  page.waiters = [];
  page.redrawHooks = [];

  // --- modals -------------------------------------------------------------------------

  function modalCtx() {
    return {
      ...ctx(),
      onViewAction: (viewId, action, values) => post("view-action", { view_id: viewId, action, values }),
      onSubmit: (viewId, values) => post("view-submit", { view_id: viewId, values }),
      onClose: (viewId) => post("view-close", { view_id: viewId }),
      typing: typing,
    };
  }

  // on_character_entered: one action in flight per input; the next waits for the
  // bot's views.update (or 1.5 s), so a fast typist never loses the last preview.
  function typing(viewId, key, fire) {
    const state = page.typing[key] || (page.typing[key] = { busy: false, again: false });
    if (state.busy) { state.again = true; return; }
    state.busy = true;
    const hash = (window.Modal.current() || {}).hash;
    const settle = () => new Promise((resolve) => {
      const timer = setTimeout(resolve, 1500);
      const check = () => {
        const now = window.Modal.current();
        if (!now || now.viewId !== viewId || now.hash !== hash) { clearTimeout(timer); resolve(); } else page.waiters.push(check);
      };
      page.waiters.push(check);
    });
    setTimeout(async () => {
      try { await fire(); await settle(); } finally {
        state.busy = false;
        if (state.again) { state.again = false; typing(viewId, key, fire); }
      }
    }, 120);
  }

  // --- polling and the composer ---------------------------------------------------------------

  async function poll() {
    for (;;) {
      try {
        const me = page.me;
        const since = page.state && page.state.me === me ? page.version : -1;
        const response = await fetch(`/ui/state?user=${encodeURIComponent(me)}&since=${since}`);
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        const state = await response.json();
        if (state.me !== page.me) continue; // who you are changed while this poll waited
        page.state = state;
        page.version = state.version;
        $("offline").hidden = true;
        redraw();
      } catch (error) {
        $("offline").hidden = false;
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  }

  async function refresh() {
    const me = page.me;
    const response = await fetch(`/ui/state?user=${encodeURIComponent(me)}`);
    const state = await response.json();
    if (state.me !== page.me) return;
    page.state = state;
    page.version = state.version;
    redraw();
  }

  function setup() {
    const composer = $("composer");
    const text = $("composer-text");
    composer.addEventListener("submit", async (event) => {
      event.preventDefault();
      const value = text.value;
      if (!value.trim()) return;
      text.value = "";
      if (!(await post("message", { channel: page.channel, text: value }))) text.value = value;
    });
    text.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); composer.requestSubmit(); }
    });
    $("global-shortcut").addEventListener("click", () => post("shortcut", { callback_id: "sms_open_form" }));
    $("messages").addEventListener("scroll", () => drawJump($("messages")), { passive: true });
    $("me").addEventListener("change", (event) => {
      page.me = event.target.value;
      localStorage.setItem("playground-me", page.me);
      page.drawn.messages = "";
      if (page.channel.startsWith("D")) page.channel = "C0OPS";
      refresh();
    });
    for (const example of document.querySelectorAll("[data-example]")) {
      example.addEventListener("click", () => { text.value = example.getAttribute("data-example"); text.focus(); });
    }
    $("fail-next").addEventListener("change", (event) => post("octopush", { fail_next: event.target.value || null }));
    $("receipts").addEventListener("change", (event) => post("octopush", { receipts: event.target.value || null }));
    poll();
  }

  // For the other modules (home.js, workflow.js): the state, the block context, /ui/ calls, redraws.
  window.Playground = { mrkdwn, page, ctx, post, onRedraw: (hook) => page.redrawHooks.push(hook) };
  document.addEventListener("DOMContentLoaded", setup);
})();
