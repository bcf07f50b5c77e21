// Block Kit layout blocks as DOM: section (text, fields, accessory), context, header,
// divider, actions (buttons, selects), image (its alt text: nothing is fetched).
"use strict";

(function (global) {
  const { mrkdwn, textObject, plainText, escapeHtml } = global.Mrkdwn;

  function el(tag, attrs, html) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else node.setAttribute(key, value === true ? "" : value);
    }
    if (html !== undefined) node.innerHTML = html;
    return node;
  }

  // A confirmation dialog (a button's `confirm` object), inline: no window.confirm.
  function askConfirm(confirm, ctx) {
    return new Promise((resolve) => {
      const box = el("div", { class: "confirm", role: "alertdialog", "aria-modal": "true", "aria-labelledby": "confirm-title" });
      box.append(el("h3", { id: "confirm-title" }, textObject(confirm.title || { type: "plain_text", text: "Are you sure?" }, ctx)));
      box.append(el("div", { class: "confirm-text" }, textObject(confirm.text, ctx)));
      const yes = el("button", { type: "button", class: "bk-btn primary", text: plainText(confirm.confirm) || "Yes" });
      const no = el("button", { type: "button", class: "bk-btn", text: plainText(confirm.deny) || "Cancel" });
      const done = (answer) => { box.remove(); resolve(answer); };
      yes.addEventListener("click", () => done(true));
      no.addEventListener("click", () => done(false));
      const row = el("div", { class: "confirm-buttons" });
      row.append(no, yes);
      box.append(row);
      document.body.append(box);
      yes.focus();
    });
  }

  function button(element, block, ctx) {
    const node = el("button", {
      type: "button",
      class: `bk-btn ${element.style || ""}`.trim(),
      "data-action-id": element.action_id,
    }, escapeHtml(plainText(element.text)));
    if (element.accessibility_label) node.setAttribute("aria-label", element.accessibility_label);
    node.addEventListener("click", async () => {
      if (element.confirm && !(await askConfirm(element.confirm, ctx))) return;
      if (element.url) window.open(element.url, "_blank", "noopener");
      ctx.onAction({
        type: "button",
        action_id: element.action_id,
        block_id: block.block_id,
        text: element.text,
        value: element.value,
        style: element.style,
      }, node);
    });
    return node;
  }

  function select(element, block, ctx) {
    const node = el("select", { class: "bk-select", "aria-label": plainText(element.placeholder) || "Choose" });
    node.append(el("option", { value: "", text: plainText(element.placeholder) || "Choose…" }));
    for (const option of element.options || []) {
      const item = el("option", { value: option.value, text: plainText(option.text) });
      if (element.initial_option && element.initial_option.value === option.value) item.selected = true;
      node.append(item);
    }
    node.addEventListener("change", () => {
      const chosen = (element.options || []).find((o) => o.value === node.value) || null;
      ctx.onAction({ type: element.type, action_id: element.action_id, block_id: block.block_id, selected_option: chosen }, node);
    });
    return node;
  }

  function element(element, block, ctx) {
    if (!element) return null;
    if (element.type === "button") return button(element, block, ctx);
    if (element.type === "static_select") return select(element, block, ctx);
    if (element.type === "image") return el("span", { class: "bk-image", role: "img", "aria-label": element.alt_text || "image" }, "🖼");
    if (element.type === "mrkdwn" || element.type === "plain_text") return el("span", {}, textObject(element, ctx));
    if (element.type === "overflow") {
      const wrap = el("span", { class: "bk-overflow" });
      for (const option of element.options || []) {
        wrap.append(button({ ...option, type: "button", action_id: element.action_id }, block, ctx));
      }
      return wrap;
    }
    return el("span", { class: "bk-unsupported", text: `[${element.type}]` });
  }

  function richText(block, ctx) {
    const parts = [];
    const walk = (items) => {
      for (const item of items || []) {
        if (item.type === "text") parts.push(escapeHtml(item.text));
        else if (item.type === "link") parts.push(`<a href="${escapeHtml(item.url)}" target="_blank" rel="noopener">${escapeHtml(item.text || item.url)}</a>`);
        else if (item.type === "user") parts.push(mrkdwn(`<@${item.user_id}>`, ctx));
        else if (item.type === "emoji") parts.push(item.unicode ? String.fromCodePoint(...item.unicode.split("-").map((h) => parseInt(h, 16))) : `:${item.name}:`);
        else if (item.elements) walk(item.elements);
      }
    };
    walk(block.elements);
    return el("div", { class: "bk-rich" }, parts.join("").replace(/\n/g, "<br>"));
  }

  // One layout block (inputs are drawn by modal.js).
  function block(block, ctx) {
    const attrs = { "data-block-id": block.block_id };
    switch (block.type) {
      case "section": {
        const node = el("div", { ...attrs, class: "bk-section" });
        const main = el("div", { class: "bk-section-main" });
        if (block.text) main.append(el("div", { class: "bk-text" }, textObject(block.text, ctx)));
        if (block.fields && block.fields.length) {
          const fields = el("div", { class: "bk-fields" });
          for (const field of block.fields) fields.append(el("div", { class: "bk-field" }, textObject(field, ctx)));
          main.append(fields);
        }
        node.append(main);
        const accessory = element(block.accessory, block, ctx);
        if (accessory) {
          const side = el("div", { class: "bk-accessory" });
          side.append(accessory);
          node.append(side);
        }
        return node;
      }
      case "context": {
        const node = el("div", { ...attrs, class: "bk-context" });
        for (const item of block.elements || []) {
          const child = element(item, block, ctx);
          if (child) node.append(child);
        }
        return node;
      }
      case "header":
        return el("h3", { ...attrs, class: "bk-header" }, textObject(block.text, ctx));
      case "divider":
        return el("hr", { ...attrs, class: "bk-divider" });
      case "actions": {
        const node = el("div", { ...attrs, class: "bk-actions" });
        for (const item of block.elements || []) {
          const child = element(item, block, ctx);
          if (child) node.append(child);
        }
        return node;
      }
      case "image":
        return el("figure", { ...attrs, class: "bk-image-block", role: "img", "aria-label": block.alt_text || "image" },
          `🖼 ${escapeHtml(block.alt_text || "")}`);
      case "rich_text":
        return richText(block, ctx);
      default:
        return el("div", { ...attrs, class: "bk-unsupported", text: `[unsupported block: ${block.type}]` });
    }
  }

  // A message's blocks, or its text when it has none (as Slack does).
  function message(msg, ctx) {
    const wrap = el("div", { class: "bk-blocks" });
    if (msg.blocks && msg.blocks.length) {
      for (const item of msg.blocks) wrap.append(block(item, ctx));
    } else {
      wrap.append(el("div", { class: "bk-text" }, mrkdwn(msg.text, ctx)));
    }
    return wrap;
  }

  global.Blocks = { block, message, element, el, askConfirm };
})(window);
