// Forms that talk to the JSON API: send JSON with the CSRF token, and put a problem+json
// answer's errors[].field messages beside the inputs of the same name (the pages name their
// inputs with the API's field paths, e.g. "variants.0.hs_code").

export function csrfOf(form) {
  const input = form.querySelector('input[name="csrf_token"]') || document.querySelector('input[name="csrf_token"]');
  return input ? input.value : "";
}

function errorSlot(form, field) {
  return form.querySelector(`[data-error-for="${CSS.escape(field)}"]`);
}

export function clearErrors(form) {
  form.querySelectorAll("[data-error-for]").forEach((slot) => { slot.textContent = ""; slot.hidden = true; });
  form.querySelectorAll('[aria-invalid="true"]').forEach((input) => input.removeAttribute("aria-invalid"));
  const summary = form.querySelector("[data-form-summary]");
  if (summary) { summary.hidden = true; summary.textContent = ""; }
}

// Show a problem: each error beside its field, the rest (and the detail) in the summary.
export function showProblem(form, problem) {
  clearErrors(form);
  const unplaced = [];
  let first = null;
  for (const err of problem.errors || []) {
    const field = String(err.field || "");
    const slot = errorSlot(form, field) || errorSlot(form, field.split(".").pop());
    if (!slot) { unplaced.push(`${field}: ${err.message}`); continue; }
    slot.textContent = err.message;
    slot.hidden = false;
    const input = form.elements.namedItem(slot.dataset.errorFor);
    const target = input && (input instanceof RadioNodeList ? input[0] : input);
    if (target && target.setAttribute) {
      target.setAttribute("aria-invalid", "true");
      first = first || target;
    }
  }
  const summary = form.querySelector("[data-form-summary]") || form.querySelector("[data-form-status]");
  if (summary) {
    summary.hidden = false;
    summary.textContent = [problem.detail || "Something went wrong.", ...unplaced].join(" ");
  }
  if (first) first.focus();
}

export async function sendJson(url, body, { method = "POST", headers = {}, form = null } = {}) {
  const response = await fetch(url, {
    method,
    credentials: "same-origin",
    headers: {
      "Content-Type": "application/json",
      Accept: "application/json, application/problem+json",
      ...(form ? { "X-CSRF-Token": csrfOf(form) } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const type = response.headers.get("content-type") || "";
  const data = type.includes("json") ? await response.json() : null;
  return { ok: response.ok, status: response.status, data };
}

export function formatMoney(amount, currency, locale) {
  const fmt = new Intl.NumberFormat(locale, { style: "currency", currency });
  const digits = fmt.resolvedOptions().maximumFractionDigits;
  return fmt.format(amount / 10 ** digits);
}

// -- Add to cart (product page) --------------------------------------------------------------

const CART_KEY = "liveloop_cart_token:";
const signedIn = () => Boolean(document.querySelector('form[action="/logout"]'));

async function cartToken(form, market) {
  if (signedIn()) return null;
  const saved = localStorage.getItem(CART_KEY + market);
  if (saved) return saved;
  const created = await sendJson("/api/v1/carts", { market }, { form });
  if (!created.ok) throw created.data || { detail: "Could not start a cart." };
  localStorage.setItem(CART_KEY + market, created.data.cart_token);
  return created.data.cart_token;
}

async function addToCart(form) {
  const status = form.querySelector("[data-form-status]");
  const market = form.dataset.market;
  const data = new FormData(form);
  const body = {
    variant_id: data.get("variant_id"),
    quantity: Number.parseInt(String(data.get("quantity") || "0"), 10) || 0,
    market,
  };
  clearErrors(form);
  if (!body.variant_id) {
    showProblem(form, { detail: "Choose an item first.", errors: [{ field: "variant_id", message: "choose one" }] });
    return;
  }
  status.textContent = "Adding…";
  try {
    const token = await cartToken(form, market);
    let sent = await sendJson("/api/v1/carts/lines", body, { form, headers: token ? { "X-Cart-Token": token } : {} });
    if (!sent.ok && sent.status === 404 && token) {  // the guest cart expired: start another
      localStorage.removeItem(CART_KEY + market);
      const fresh = await cartToken(form, market);
      sent = await sendJson("/api/v1/carts/lines", body, { form, headers: { "X-Cart-Token": fresh } });
    }
    if (!sent.ok) { showProblem(form, sent.data || { detail: `Could not add it (${sent.status}).` }); return; }
    const cart = sent.data;
    const units = cart.lines.reduce((n, line) => n + line.quantity, 0);
    status.textContent = `Added. Your cart has ${units} ${units === 1 ? "item" : "items"}: ${formatMoney(cart.subtotal, cart.currency, form.dataset.locale)}.`;
  } catch (problem) {
    showProblem(form, problem && problem.detail ? problem : { detail: "The network failed; try again." });
  }
}

document.querySelectorAll("form[data-cart-form]").forEach((form) => {
  form.addEventListener("submit", (event) => { event.preventDefault(); addToCart(form); });
});

// -- htmx: show 422 answers (they carry the errors), and upload progress ----------------------

document.body.addEventListener("htmx:beforeSwap", (event) => {
  if (event.detail.xhr && event.detail.xhr.status === 422) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});

document.body.addEventListener("htmx:xhr:progress", (event) => {
  const form = event.target.closest ? event.target.closest("form") : null;
  const bar = form && form.querySelector("progress[data-upload-progress]");
  if (!bar || !event.detail.lengthComputable) return;
  bar.hidden = false;
  bar.max = event.detail.total;
  bar.value = event.detail.loaded;
  const label = form.querySelector("[data-upload-label]");
  if (label) label.textContent = `Uploading: ${Math.round((100 * event.detail.loaded) / event.detail.total)}%`;
});
