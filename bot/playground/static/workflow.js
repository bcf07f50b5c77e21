// "Run workflow": runs one of the app's Workflow Builder steps with sample inputs, as
// the person you are. The Slack stand-in sends the app a signed function_executed
// event; the run's outputs (or its error) show here, the result post in the channel.
"use strict";

(function () {
  const STEPS = {
    send_sms: { label: "Send an SMS", sample: "Backup of db-1 finished with errors" },
    page_oncall: { label: "Page on-call", sample: "Database unreachable" },
  };
  const ui = { built: false, askedRotations: false };

  function node(tag, attrs, ...children) {
    const made = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === "text") made.textContent = value; else made.setAttribute(key, value);
    }
    for (const child of children) if (child) made.append(child);
    return made;
  }

  function field(id, label, input) {
    input.id = id;
    return node("div", { class: "wf-field" }, node("label", { for: id, text: label }), input);
  }

  function build(root, state) {
    const step = node("select", {});
    for (const [value, s] of Object.entries(STEPS)) step.append(node("option", { value, text: s.label }));
    const to = node("input", { type: "text", value: "dave" });
    const rotation = node("select", {});
    const text = node("textarea", { rows: "2" });
    text.value = STEPS.send_sms.sample;
    const channel = node("select", {});
    for (const c of state.channels.filter((c) => !c.dm)) channel.append(node("option", { value: c.id, text: `#${c.name}` }));
    const run = node("button", { type: "submit", class: "bk-btn primary", text: "Run" });
    const toField = field("wf-to", "To", to);
    const rotationField = field("wf-rotation", "Rotation", rotation);
    const form = node(
      "form", { class: "wf-form", "aria-label": "Run workflow" },
      field("wf-step", "Step", step), toField, rotationField,
      field("wf-text", "Message", text), field("wf-channel", "Post in", channel), run,
    );
    const runs = node("ul", { class: "plain wf-runs", "aria-label": "Workflow runs" });
    const panel = node("details", { class: "wf-panel" }, node("summary", { text: "▶ Run workflow" }), form, runs);
    root.replaceChildren(node("h2", { id: "workflow-title", text: "Workflow Builder" }), panel);

    function show() {
      const page = step.value === "page_oncall";
      toField.hidden = page;
      rotationField.hidden = !page;
      text.value = STEPS[step.value].sample;
      if (page && !ui.askedRotations) {
        // Workflow Builder fills the menu by running the app's list_rotations step.
        ui.askedRotations = true;
        window.Playground.post("workflow-run", { step: "list_rotations", inputs: {} });
      }
    }
    step.addEventListener("change", show);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const me = window.Playground.page.me;
      const inputs = { requested_by: me, text: text.value, channel: channel.value };
      if (step.value === "page_oncall") inputs.rotation = rotation.value;
      else inputs.to = to.value;
      window.Playground.post("workflow-run", { step: step.value, inputs });
    });
    show();
    Object.assign(ui, { built: true, rotation, runs });
  }

  function value(v) {
    return typeof v === "object" ? JSON.stringify(v) : String(v);
  }

  function runNode(run) {
    const item = node("li", { class: `wf-run wf-${run.state}`, "data-step": run.step, "aria-label": `Run of ${run.step}` });
    item.append(node("div", {}, node("b", { text: run.step }), " ", node("span", { class: "wf-state", text: run.state })));
    if (run.state === "completed" && run.step !== "list_rotations") {
      const outputs = node("dl", { class: "wf-outputs" });
      for (const [key, v] of Object.entries(run.outputs)) outputs.append(node("dt", { text: key }), node("dd", { text: value(v) }));
      item.append(outputs);
    } else if (run.state === "completed") {
      item.append(node("div", { class: "muted", text: `${(run.outputs.options || []).length} rotations` }));
    }
    if (run.error) item.append(node("div", { class: "wf-error", role: "alert", text: run.error }));
    return item;
  }

  function draw(state) {
    const root = document.getElementById("workflow");
    if (!root || !state) return;
    if (!ui.built) build(root, state);
    const runs = state.workflow || [];
    ui.runs.replaceChildren(...runs.map(runNode));
    const options = runs.find((r) => r.step === "list_rotations" && r.state === "completed");
    if (options && ui.rotation.options.length === 0) {
      for (const option of options.outputs.options || []) {
        ui.rotation.append(node("option", { value: option.value, text: option.text.text }));
      }
    }
  }

  window.Workflow = { draw };
})();
