// The app's Home tab: a "Home" entry in the sidebar shows the Home view the bot
// published (views.publish) for whoever you are, redrawn live when it publishes again.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const home = { shown: false, drawn: "", openedFor: null };

  function show(on) {
    home.shown = on;
    home.drawn = "";
    // style.display, not hidden: the stylesheet gives these a display of their own.
    for (const node of document.querySelectorAll("#messages, #composer, .examples, #global-shortcut")) {
      node.style.display = on ? "none" : "";
    }
    $("home-view").hidden = !on;
    $("home-view").style.display = on ? "" : "none";
    const link = $("home-link");
    link.classList.toggle("current", on);
    if (on) link.setAttribute("aria-current", "page"); else link.removeAttribute("aria-current");
    for (const other of document.querySelectorAll("#channels .channel-link")) {
      if (on) { other.classList.remove("current"); other.removeAttribute("aria-current"); }
    }
    if (on) $("channel-title").textContent = "Home";
    draw();
  }

  function open() {
    const P = window.Playground;
    home.openedFor = P.page.me;
    show(true);
    P.post("home-open", {}); // Slack sends app_home_opened on every visit
  }

  function draw() {
    const P = window.Playground;
    if (!home.shown || !P.page.state) return;
    if (home.openedFor !== P.page.me) { open(); return; } // you became someone else
    const view = P.page.state.home;
    const key = JSON.stringify([P.page.me, view]);
    if (key === home.drawn) return;
    home.drawn = key;
    const box = $("home-view");
    if (!view) {
      box.replaceChildren(window.Blocks.el("p", { class: "empty", text: "Loading the Home…" }));
      return;
    }
    const context = { ...P.ctx(), onAction: (action) => P.post("home-action", { action }) };
    box.replaceChildren(window.Blocks.message({ blocks: view.blocks, text: "" }, context));
  }

  function setup() {
    const P = window.Playground;
    const entry = $("home-entry");
    const link = window.Blocks.el("button", { type: "button", id: "home-link", class: "channel-link", text: "🏠 Home" });
    link.addEventListener("click", open);
    entry.append(link);
    // A channel picked in the sidebar leaves the Home.
    $("channels").addEventListener("click", (event) => {
      if (home.shown && event.target.closest(".channel-link")) show(false);
    });
    P.onRedraw(() => {
      draw();
      if (!home.shown) return;
      $("channel-title").textContent = "Home";
      for (const other of document.querySelectorAll("#channels .channel-link")) {
        other.classList.remove("current");
        other.removeAttribute("aria-current");
      }
    });
  }

  document.addEventListener("DOMContentLoaded", setup);
})();
