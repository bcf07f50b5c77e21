// Slack mrkdwn to safe HTML: mentions, channels, links, <!date^…> tokens, *bold*,
// _italic_, ~strike~, `code`, ```blocks``` and > quotes, as the Slack client shows them.
"use strict";

(function (global) {
  const ENTITIES = { "&amp;": "&", "&lt;": "<", "&gt;": ">" };
  const MONTHS = ["January", "February", "March", "April", "May", "June", "July",
    "August", "September", "October", "November", "December"];
  const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
  const EMOJI = {
    white_check_mark: "✅", warning: "⚠️", x: "❌", rotating_light: "🚨", pager: "📟",
    speech_balloon: "💬", no_entry_sign: "🚫", outbox_tray: "📤", tada: "🎉",
  };

  function escapeHtml(text) {
    return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
  }

  function decode(text) {
    return text.replace(/&(amp|lt|gt);/g, (m) => ENTITIES[m]);
  }

  function ordinal(n) {
    const s = ["th", "st", "nd", "rd"], v = n % 100;
    return n + (s[(v - 20) % 10] || s[v] || s[0]);
  }

  function dayOffset(date) {
    const start = (d) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
    return Math.round((start(date) - start(new Date())) / 86400000);
  }

  function pretty(date, plain) {
    const offset = dayOffset(date);
    if (offset === 0) return "today";
    if (offset === -1) return "yesterday";
    if (offset === 1) return "tomorrow";
    return plain;
  }

  function ago(date) {
    const seconds = Math.round((Date.now() - date.getTime()) / 1000);
    const abs = Math.abs(seconds);
    const units = [[86400, "day"], [3600, "hour"], [60, "minute"], [1, "second"]];
    for (const [size, name] of units) {
      if (abs >= size || size === 1) {
        const n = Math.max(1, Math.floor(abs / size));
        const label = `${n} ${name}${n === 1 ? "" : "s"}`;
        return seconds >= 0 ? `${label} ago` : `in ${label}`;
      }
    }
    return "now";
  }

  // Slack's date tokens, in the reader's own time zone.
  function formatDate(seconds, format) {
    const d = new Date(seconds * 1000);
    const num = `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
    const long = `${MONTHS[d.getMonth()]} ${ordinal(d.getDate())}, ${d.getFullYear()}`;
    const short = `${MONTHS[d.getMonth()].slice(0, 3)} ${d.getDate()}, ${d.getFullYear()}`;
    const weekday = `${DAYS[d.getDay()]}, ${long}`;
    const time = d.toLocaleTimeString("en-US", { hour: "numeric", minute: "2-digit" });
    const secs = d.toLocaleTimeString("en-US", { hour: "numeric", minute: "2-digit", second: "2-digit" });
    const values = {
      date_num: num, date: long, date_short: short, date_long: weekday,
      date_pretty: pretty(d, long), date_short_pretty: pretty(d, short),
      date_long_pretty: pretty(d, weekday), time: time, time_secs: secs, ago: ago(d),
    };
    const out = format.replace(/\{(\w+)\}/g, (m, key) => (key in values ? values[key] : m));
    return out.charAt(0).toUpperCase() + out.slice(1);
  }

  // One <…> token of Slack markup, as HTML.
  function token(inner, ctx) {
    const bar = inner.indexOf("|");
    const target = bar >= 0 ? inner.slice(0, bar) : inner;
    const label = bar >= 0 ? inner.slice(bar + 1) : "";
    if (target.startsWith("@")) {
      const id = target.slice(1);
      const user = ctx.users[id];
      const name = user ? user.name : label || id;
      const mine = id === ctx.me ? " mention-me" : "";
      return `<span class="mention${mine}" data-user="${escapeHtml(id)}">@${escapeHtml(decode(name))}</span>`;
    }
    if (target.startsWith("#")) {
      const id = target.slice(1);
      const channel = ctx.channels[id];
      const name = channel ? channel.name : label || id;
      return `<span class="mention channel">#${escapeHtml(decode(name))}</span>`;
    }
    if (target.startsWith("!")) {
      const parts = target.slice(1).split("^");
      if (parts[0] === "date" && parts.length >= 3) {
        const shown = escapeHtml(formatDate(Number(parts[1]), decode(parts[2])));
        const when = new Date(Number(parts[1]) * 1000).toISOString();
        const text = `<time datetime="${when}" title="${escapeHtml(decode(label))}">${shown}</time>`;
        return parts[3] ? `<a href="${escapeHtml(decode(parts[3]))}" target="_blank" rel="noopener">${text}</a>` : text;
      }
      if (parts[0] === "subteam") {
        const group = ctx.usergroups[parts[1]];
        const name = group ? "@" + group.handle : label || "@group";
        return `<span class="mention group">${escapeHtml(decode(name))}</span>`;
      }
      const special = { here: "@here", channel: "@channel", everyone: "@everyone" }[parts[0]];
      return `<span class="mention special">${escapeHtml(special || label || "@" + parts[0])}</span>`;
    }
    const url = decode(target);
    const text = label ? decode(label) : url.replace(/^mailto:/, "");
    if (/^(https?:|mailto:|tel:)/.test(url)) {
      return `<a href="${escapeHtml(url)}" target="_blank" rel="noopener">${escapeHtml(text)}</a>`;
    }
    return escapeHtml(text);
  }

  // What may stand right before an opening * _ ~ and right after a closing one, as in
  // Slack: spaces and punctuation, "…" and quotes included (`*bold*…` is bold).
  const OPEN = "(^|[\\s(>;\\[{“‘«¿¡—–-])"; // ";": the end of &quot; and &#39;
  const CLOSE = "(?=$|[\\s).,!?:;<&…\\]}”’»—–-])"; // "&": &quot; &#39; &amp;
  const STYLES = [["\\*", "b"], ["_", "i"], ["~", "s"]].map(([mark, tag]) => [
    new RegExp(`${OPEN}${mark}(?=\\S)([^${mark}\\n]*?\\S)${mark}${CLOSE}`, "g"), `$1<${tag}>$2</${tag}>`,
  ]);

  function inline(html) {
    let out = html;
    for (const [pattern, replacement] of STYLES) out = out.replace(pattern, replacement);
    return out
      .replace(/:([a-z0-9_+-]+):/g, (m, name) => EMOJI[name] || m);
  }

  // mrkdwn → HTML; `ctx` = {users, channels, usergroups, me}.
  function mrkdwn(text, ctx) {
    const saved = [];
    const keep = (html) => `\u0000${saved.push(html) - 1}\u0000`;
    let work = String(text || "");
    work = work.replace(/```([\s\S]*?)```/g, (m, code) => keep(`<pre>${escapeHtml(decode(code.replace(/^\n/, "")))}</pre>`));
    work = work.replace(/`([^`\n]+)`/g, (m, code) => keep(`<code>${escapeHtml(decode(code))}</code>`));
    work = work.replace(/<([^<>\n]+)>/g, (m, inner) => keep(token(inner, ctx)));
    const lines = work.split("\n").map((line) => escapeHtml(decode(line)));
    const out = [];
    let quote = [];
    const flush = () => {
      if (quote.length) out.push(`<blockquote>${quote.map(inline).join("<br>")}</blockquote>`);
      quote = [];
    };
    for (const line of lines) {
      const match = /^&gt;\s?(.*)$/.exec(line);
      if (match) { quote.push(match[1]); continue; }
      flush();
      out.push(inline(line));
    }
    flush();
    let html = out.join("<br>").replace(/<\/blockquote><br>/g, "</blockquote>");
    html = html.replace(/\u0000(\d+)\u0000/g, (m, i) => saved[Number(i)]);
    return html;
  }

  function plainText(obj) {
    if (!obj) return "";
    return typeof obj === "string" ? obj : String(obj.text || "");
  }

  // A text object (plain_text or mrkdwn) as HTML.
  function textObject(obj, ctx) {
    if (!obj) return "";
    if (obj.type === "mrkdwn") return mrkdwn(obj.text, ctx);
    return escapeHtml(decode(String(obj.text || ""))).replace(/\n/g, "<br>").replace(/:([a-z0-9_+-]+):/g, (m, name) => EMOJI[name] || m);
  }

  global.Mrkdwn = { mrkdwn, textObject, plainText, escapeHtml, formatDate };
})(window);
