// The link-ban tester: sends the text to POST /api/v1/moderation/check and lists the findings.
import { clearErrors, sendJson, showProblem } from "/static/js/forms.js";

function cell(row, text, tag = "td") {
  const el = document.createElement(tag);
  el.textContent = text;
  row.append(el);
}

document.querySelectorAll("form[data-link-ban-tester]").forEach((form) => {
  const out = form.querySelector("[data-link-ban-result]");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    out.textContent = "Checking…";
    const sent = await sendJson("/api/v1/moderation/check", { text: form.elements.text.value }, { form });
    out.textContent = "";
    if (!sent.ok) {
      showProblem(form, sent.data || { detail: `The check failed (${sent.status}).` });
      return;
    }
    const verdict = document.createElement("p");
    verdict.className = sent.data.allowed ? "verdict ok" : "verdict bad";
    verdict.textContent = sent.data.allowed ? "Allowed: no banned link found." : `Refused: ${sent.data.findings.length} banned ${sent.data.findings.length === 1 ? "link" : "links"}.`;
    out.append(verdict);
    if (sent.data.findings.length) {
      const table = document.createElement("table");
      table.className = "table";
      const head = table.createTHead().insertRow();
      ["As written", "Domain", "Rule"].forEach((h) => { const th = document.createElement("th"); th.scope = "col"; th.textContent = h; head.append(th); });
      const body = table.createTBody();
      for (const f of sent.data.findings) {
        const row = body.insertRow();
        cell(row, f.match);
        cell(row, f.domain);
        cell(row, f.rule);
      }
      out.append(table);
    }
  });
});
