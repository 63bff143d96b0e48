// Small helpers every page module shares: JSON calls with CSRF and idempotency, money formatting.

export function csrfToken() {
  const el = document.querySelector("[data-csrf]");
  return el ? el.dataset.csrf : "";
}

export class ApiError extends Error {
  constructor(problem) {
    super(problem.detail || problem.title || "Something went wrong");
    this.problem = problem;
  }
}

export async function api(method, path, body, { idempotencyKey } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET") headers["X-CSRF-Token"] = csrfToken();
  if (idempotencyKey) headers["Idempotency-Key"] = idempotencyKey;
  const response = await fetch(path, {
    method,
    headers,
    credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 204) return null;
  const data = await response.json().catch(() => ({ detail: response.statusText }));
  if (!response.ok) throw new ApiError({ status: response.status, ...data });
  return data;
}

const digitsCache = new Map();
function digits(currency) {
  if (!digitsCache.has(currency)) {
    const f = new Intl.NumberFormat("en", { style: "currency", currency });
    digitsCache.set(currency, f.resolvedOptions().maximumFractionDigits);
  }
  return digitsCache.get(currency);
}

export function money(minor, currency, locale) {
  const tag = (locale || "en-GB").replace("_", "-");
  const value = minor / 10 ** digits(currency);
  return new Intl.NumberFormat(tag, { style: "currency", currency }).format(value);
}

// Put each problem+json field error beside its field (elements with data-for="field.path").
export function showFieldErrors(container, problem) {
  container.querySelectorAll("[data-for]").forEach((el) => (el.textContent = ""));
  const rest = [];
  for (const err of problem.errors || []) {
    const target = container.querySelector(`[data-for="${err.field}"]`);
    if (target) target.textContent = err.message;
    else rest.push(`${err.field}: ${err.message}`);
  }
  return [problem.detail, ...rest].filter(Boolean).join(" ");
}

export function newKey() {
  return crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random();
}
