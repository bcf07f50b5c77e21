// The top view of the modal stack, drawn from its Block Kit: inputs labelled by their
// block labels, what was typed kept across views.update (same block_id and action_id,
// as Slack does), `response_action: errors` shown under their fields.
"use strict";

(function (global) {
  const { el, block: layoutBlock } = global.Blocks;
  const { plainText, textObject, escapeHtml } = global.Mrkdwn;

  let shown = null; // {viewId, hash, node, body}
  let counter = 0;

  function optionText(option, ctx) {
    return el("span", { class: "bk-option-text" }, textObject(option.text, ctx));
  }

  // --- one input element ----------------------------------------------------------------

  function control(element, id, ctx) {
    const type = element.type;
    if (type === "plain_text_input" || type === "email_text_input" || type === "url_text_input" || type === "number_input") {
      const tag = element.multiline ? "textarea" : "input";
      const input = el(tag, {
        id, class: "bk-input",
        placeholder: plainText(element.placeholder) || undefined,
        maxlength: element.max_length, minlength: element.min_length,
        type: tag === "input" ? { email_text_input: "email", url_text_input: "url", number_input: "text" }[type] || "text" : undefined,
      });
      if (tag === "textarea") input.rows = 4;
      input.value = element.initial_value || "";
      return input;
    }
    if (type === "static_select" || type === "multi_static_select") {
      const node = el("select", { id, class: "bk-select", multiple: type === "multi_static_select" });
      if (type === "static_select") node.append(el("option", { value: "", text: plainText(element.placeholder) || "Choose an option" }));
      const initial = new Set([element.initial_option, ...(element.initial_options || [])].filter(Boolean).map((o) => o.value));
      const groups = element.option_groups || [{ options: element.options || [] }];
      for (const group of groups) {
        const parent = group.label ? el("optgroup", { label: plainText(group.label) }) : node;
        for (const option of group.options || []) {
          parent.append(el("option", { value: option.value, text: plainText(option.text), selected: initial.has(option.value) }));
        }
        if (parent !== node) node.append(parent);
      }
      return node;
    }
    if (type === "users_select" || type === "multi_users_select") {
      const multi = type === "multi_users_select";
      const node = el("select", { id, class: "bk-select", multiple: multi, size: multi ? Math.min(4, ctx.people.length) : undefined });
      if (!multi) node.append(el("option", { value: "", text: plainText(element.placeholder) || "Choose a person" }));
      const initial = new Set([element.initial_user, ...(element.initial_users || [])].filter(Boolean));
      for (const person of ctx.people) {
        node.append(el("option", { value: person.id, text: `${person.real_name} (@${person.name})`, selected: initial.has(person.id) }));
      }
      return node;
    }
    if (type === "conversations_select" || type === "channels_select") {
      const node = el("select", { id, class: "bk-select" });
      const initial = element.initial_conversation || element.initial_channel ||
        (element.default_to_current_conversation ? ctx.currentChannel : "");
      node.append(el("option", { value: "", text: plainText(element.placeholder) || "Choose a channel" }));
      for (const channel of ctx.channelList) {
        if (type === "channels_select" && channel.dm) continue;
        node.append(el("option", { value: channel.id, text: channel.dm ? `${channel.name} (direct message)` : `#${channel.name}`, selected: channel.id === initial }));
      }
      return node;
    }
    if (type === "radio_buttons" || type === "checkboxes") {
      const box = el("div", { id, class: "bk-choices", role: type === "radio_buttons" ? "radiogroup" : "group" });
      const initial = new Set([element.initial_option, ...(element.initial_options || [])].filter(Boolean).map((o) => o.value));
      const name = `${id}-choice`;
      (element.options || []).forEach((option, i) => {
        const optionId = `${id}-${i}`;
        const row = el("div", { class: "bk-choice" });
        const input = el("input", { type: type === "radio_buttons" ? "radio" : "checkbox", id: optionId, name, value: option.value, checked: initial.has(option.value) });
        const label = el("label", { for: optionId });
        label.append(optionText(option, ctx));
        if (option.description) label.append(el("span", { class: "bk-option-desc" }, textObject(option.description, ctx)));
        row.append(input, label);
        box.append(row);
      });
      return box;
    }
    if (type === "datetimepicker" || type === "datepicker" || type === "timepicker") {
      const input = el("input", { id, class: "bk-input", type: { datetimepicker: "datetime-local", datepicker: "date", timepicker: "time" }[type] });
      if (element.initial_date_time) {
        const d = new Date(element.initial_date_time * 1000);
        input.value = new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
      }
      if (element.initial_date) input.value = element.initial_date;
      if (element.initial_time) input.value = element.initial_time;
      return input;
    }
    return el("div", { id, class: "bk-unsupported", text: `[unsupported element: ${type}]` });
  }

  // The state Slack would send for one element.
  function stateOf(element, node) {
    const type = element.type;
    const options = element.options || (element.option_groups || []).flatMap((g) => g.options || []);
    const pick = (value) => options.find((o) => o.value === value) || null;
    if (node.matches("input.bk-input, textarea.bk-input")) {
      if (type === "datetimepicker") return { type, selected_date_time: node.value ? Math.floor(new Date(node.value).getTime() / 1000) : null };
      if (type === "datepicker") return { type, selected_date: node.value || null };
      if (type === "timepicker") return { type, selected_time: node.value || null };
      return { type, value: node.value === "" ? null : node.value };
    }
    if (type === "static_select") return { type, selected_option: pick(node.value) };
    if (type === "multi_static_select") return { type, selected_options: [...node.selectedOptions].map((o) => pick(o.value)) };
    if (type === "users_select") return { type, selected_user: node.value || null };
    if (type === "multi_users_select") return { type, selected_users: [...node.selectedOptions].map((o) => o.value) };
    if (type === "conversations_select") return { type, selected_conversation: node.value || null };
    if (type === "channels_select") return { type, selected_channel: node.value || null };
    const checked = [...node.querySelectorAll("input:checked")].map((i) => pick(i.value));
    if (type === "radio_buttons") return { type, selected_option: checked[0] || null };
    if (type === "checkboxes") return { type, selected_options: checked };
    return { type };
  }

  // --- one input block ------------------------------------------------------------------

  function inputBlock(block, ctx) {
    const element = block.element || {};
    const id = `bk-${++counter}`;
    const grouped = element.type === "radio_buttons" || element.type === "checkboxes";
    const wrap = el(grouped ? "fieldset" : "div", { class: "bk-input-block", "data-block-id": block.block_id, "data-key": `${block.block_id}/${element.action_id}/${element.type}` });
    const label = el(grouped ? "legend" : "label", grouped ? { class: "bk-label" } : { class: "bk-label", for: id });
    label.textContent = plainText(block.label);
    if (block.optional) label.append(el("span", { class: "bk-optional", text: " (optional)" }));
    const node = control(element, id, ctx);
    wrap.append(label, node);
    if (block.hint) wrap.append(el("div", { class: "bk-hint" }, textObject(block.hint, ctx)));
    wrap.append(el("div", { class: "bk-error", id: `${id}-error`, role: "alert", hidden: true }));
    wrap._element = element;
    wrap._control = node;
    const dispatch = block.dispatch_action;
    if (dispatch) {
      const on = ((element.dispatch_action_config || {}).trigger_actions_on) || ["on_enter_pressed"];
      const fire = () => ctx.onViewAction(shown.viewId, { ...stateOf(element, node), action_id: element.action_id, block_id: block.block_id }, collect());
      if (node.matches("input, textarea") && on.includes("on_character_entered")) {
        node.addEventListener("input", () => ctx.typing(shown.viewId, `${block.block_id}/${element.action_id}`, fire));
      } else if (node.matches("input, textarea")) {
        node.addEventListener("keydown", (event) => { if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); fire(); } });
      } else {
        node.addEventListener("change", fire);
      }
    }
    return wrap;
  }

  function showError(wrap, message) {
    const box = wrap.querySelector(".bk-error");
    const target = wrap._control;
    box.hidden = !message;
    box.textContent = message || "";
    if (message) {
      target.setAttribute("aria-invalid", "true");
      target.setAttribute("aria-describedby", box.id);
    } else {
      target.removeAttribute("aria-invalid");
      target.removeAttribute("aria-describedby");
    }
  }

  function collect() {
    const values = {};
    if (!shown) return values;
    for (const wrap of shown.body.querySelectorAll(".bk-input-block")) {
      const element = wrap._element;
      const blockId = wrap.getAttribute("data-block-id");
      values[blockId] = { [element.action_id]: stateOf(element, wrap._control) };
    }
    return values;
  }

  function blockNode(block, ctx, viewId) {
    if (block.type === "input") return inputBlock(block, ctx);
    const actionCtx = { ...ctx, onAction: (action) => ctx.onViewAction(viewId, action, collect()) };
    return layoutBlock(block, actionCtx);
  }

  function keyOf(block) {
    if (block.type !== "input") return null;
    const element = block.element || {};
    return `${block.block_id}/${element.action_id}/${element.type}`;
  }

  // Redraw the blocks of the same view in place: inputs with the same ids are kept,
  // so what was typed (and the focus) survive a views.update.
  function patch(view, ctx) {
    const old = new Map();
    for (const node of shown.body.children) {
      const key = node.getAttribute("data-key");
      if (key) old.set(key, node);
    }
    const fresh = [];
    for (const item of view.blocks || []) {
      const key = keyOf(item);
      if (key && old.has(key)) {
        const kept = old.get(key);
        old.delete(key);
        const label = kept.querySelector(".bk-label");
        label.firstChild.textContent = plainText(item.label);
        fresh.push(kept);
      } else {
        fresh.push(blockNode(item, ctx, view.id));
      }
    }
    const body = shown.body;
    const keep = new Set(fresh);
    for (const node of [...body.children]) if (!keep.has(node)) node.remove();
    fresh.forEach((node, i) => {
      const at = body.children[i];
      if (at !== node) body.insertBefore(node, at || null);
    });
  }

  function render(root, stack, ctx) {
    const top = stack.length ? stack[stack.length - 1] : null;
    if (!top) {
      root.replaceChildren();
      shown = null;
      return;
    }
    const view = top.view;
    if (!shown || shown.viewId !== view.id || !root.contains(shown.node)) {
      const backdrop = el("div", { class: "modal-backdrop" });
      const dialog = el("div", { class: "modal", role: "dialog", "aria-modal": "true", "aria-labelledby": "modal-title" });
      const header = el("header", { class: "modal-header" });
      header.append(el("h2", { id: "modal-title", class: "modal-title" }));
      const x = el("button", { type: "button", class: "modal-x", "aria-label": "Close" }, "×");
      header.append(x);
      const form = el("form", { class: "modal-form", novalidate: true });
      const problem = el("div", { class: "modal-problem", role: "alert", hidden: true });
      const body = el("div", { class: "modal-body" });
      const footer = el("footer", { class: "modal-footer" });
      form.append(problem, body, footer);
      dialog.append(header, form);
      backdrop.append(dialog);
      root.replaceChildren(backdrop);
      shown = { viewId: view.id, hash: null, node: backdrop, body, footer, header, problem, form };
      for (const item of view.blocks || []) body.append(blockNode(item, ctx, view.id));
      x.addEventListener("click", () => ctx.onClose(shown.viewId));
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        const submit = shown.footer.querySelector("button[type=submit]");
        if (submit) submit.disabled = true;
        ctx.onSubmit(shown.viewId, collect()).finally(() => { if (submit) submit.disabled = false; });
      });
      const first = body.querySelector("input, textarea, select");
      if (first) first.focus();
    } else if (shown.hash !== view.hash) {
      patch(view, ctx);
    }
    shown.hash = view.hash;
    shown.header.querySelector("h2").textContent = plainText(view.title);
    const footer = shown.footer;
    const closeText = plainText(view.close) || (stack.length > 1 ? "Back" : "Cancel");
    const wantFooter = `${closeText}|${view.submit ? plainText(view.submit) : ""}`;
    if (footer.getAttribute("data-buttons") !== wantFooter) {
      footer.replaceChildren();
      const close = el("button", { type: "button", class: "bk-btn", text: closeText });
      close.addEventListener("click", () => ctx.onClose(shown.viewId));
      footer.append(close);
      if (view.submit) footer.append(el("button", { type: "submit", class: "bk-btn primary", text: plainText(view.submit) }));
      footer.setAttribute("data-buttons", wantFooter);
    }
    const errors = top.errors || {};
    for (const wrap of shown.body.querySelectorAll(".bk-input-block")) {
      showError(wrap, errors[wrap.getAttribute("data-block-id")]);
    }
    const general = errors[""];
    shown.problem.hidden = !general;
    shown.problem.innerHTML = general ? escapeHtml(general) : "";
  }

  global.Modal = { render, collect, current: () => shown && { viewId: shown.viewId, hash: shown.hash } };
})(window);
