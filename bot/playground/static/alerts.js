// *Fire an alert*: the playground plays Prometheus Alertmanager. The buttons ask the
// playground (/ui-alert/firing, /ui-alert/resolved) to POST a sample Alertmanager
// webhook to the app's /hooks/alertmanager/playground with the integration's token;
// the page then shows the page post, the SMS on the phones, and the RESOLVED text.
"use strict";

(function () {
  const fire = document.getElementById("fire-alert");
  const resolve = document.getElementById("resolve-alert");
  const answer = document.getElementById("alert-answer");
  if (!fire || !resolve || !answer) return;

  async function send(status) {
    fire.disabled = resolve.disabled = true;
    answer.textContent = status === "firing" ? "Sending the alert…" : "Sending the resolve…";
    try {
      const response = await fetch(`/ui-alert/${status}`, { method: "POST" });
      const body = await response.json().catch(() => ({}));
      if (!response.ok) {
        answer.textContent = body.error || `HTTP ${response.status}`;
      } else if (body.status >= 200 && body.status < 300) {
        answer.textContent = status === "firing"
          ? `The app took the alert (HTTP ${body.status}): watch #ops and the phones. Reply ACK to the SMS, then resolve it.`
          : `The app took the resolve (HTTP ${body.status}): the page closes and the phones get RESOLVED.`;
      } else {
        answer.textContent = `The app answered HTTP ${body.status}: ${body.answer || ""}`;
      }
      answer.dataset.status = String(body.status || response.status);
    } catch (error) {
      answer.textContent = "The playground is not answering; is it still running?";
    } finally {
      fire.disabled = resolve.disabled = false;
    }
  }

  fire.addEventListener("click", () => send("firing"));
  resolve.addEventListener("click", () => send("resolved"));
})();
