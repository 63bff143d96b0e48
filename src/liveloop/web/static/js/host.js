// The host console: pin with one tap, run flash sales, moderate chat, watch the live numbers.
import { api, ApiError, money, showFieldErrors } from "./api.js";

const root = document.getElementById("host");
const sessionId = root.dataset.session;
const locale = root.dataset.locale;
const market = root.dataset.market;
const base = `/api/v1/live-sessions/${sessionId}`;
const $ = (id) => document.getElementById(id);
let snapshot = null;
let seq = 0;

function fail(e, target = "host-error") {
  $(target).textContent = e instanceof ApiError ? e.message : String(e);
}

async function refresh() {
  snapshot = await api("GET", `${base}/snapshot`);
  renderBag();
  renderChat(snapshot.chat || []);
  await refreshNumbers();
}

function cardIn(p) { return p.markets && (p.markets[market] || Object.values(p.markets)[0]); }

function renderBag() {
  const list = $("host-bag");
  list.textContent = "";
  const pinned = snapshot.pinned && snapshot.pinned.product.product_id;
  const flashSelect = $("f-product");
  flashSelect.textContent = "";
  snapshot.bag.forEach((product, i) => {
    const here = cardIn(product);
    const li = document.createElement("li");
    if (product.product_id === pinned) li.classList.add("pinned");
    const label = document.createElement("span");
    label.textContent = `${product.title} · ${here ? here.display : "not listed"}`;
    const pin = document.createElement("button");
    pin.type = "button";
    pin.className = "small";
    pin.textContent = product.product_id === pinned ? "Unpin" : "Pin";
    pin.setAttribute("aria-label", `${pin.textContent} ${product.title}`);
    pin.addEventListener("click", () => togglePin(product, product.product_id === pinned));
    const up = document.createElement("button");
    up.type = "button";
    up.className = "small secondary";
    up.textContent = "↑";
    up.setAttribute("aria-label", `Move ${product.title} up`);
    up.disabled = i === 0;
    up.addEventListener("click", () => move(i, -1));
    li.append(label, up, pin);
    list.appendChild(li);
    if (here) {
      for (const v of here.variants) {
        const option = document.createElement("option");
        option.value = `${product.product_id}|${v.variant_id}`;
        option.textContent = `${product.title} · ${v.label} (${v.available} in stock)`;
        flashSelect.appendChild(option);
      }
    }
  });
  showDealPrices();
}

// The deal price in every market the product is sold in, from one discount.
function dealPrices() {
  const [productId, variantId] = $("f-product").value.split("|");
  const product = snapshot.bag.find((p) => p.product_id === productId);
  const off = Number($("f-discount").value || 0);
  const prices = {};
  for (const here of Object.values((product && product.markets) || {})) {
    const variant = here.variants.find((v) => v.variant_id === variantId);
    if (variant) prices[variant.currency] = Math.max(1, Math.round((variant.price * (100 - off)) / 100));
  }
  return { productId, variantId, prices };
}

function showDealPrices() {
  if (!snapshot || !$("f-product").value) return;
  const { prices } = dealPrices();
  $("f-prices").textContent = "Deal: " + Object.entries(prices).map(([c, a]) => money(a, c, locale)).join(" · ");
}

async function togglePin(product, isPinned) {
  try {
    if (isPinned) await api("DELETE", `${base}/pins/current`);
    else await api("POST", `${base}/pins`, { product_id: product.product_id });
    await refresh();
  } catch (e) { fail(e); }
}

async function move(index, delta) {
  const ids = snapshot.bag.map((p) => p.product_id);
  const [item] = ids.splice(index, 1);
  ids.splice(index + delta, 0, item);
  try {
    await api("PUT", `${base}/bag/order`, { product_ids: ids });
    await refresh();
  } catch (e) { fail(e); }
}

async function loadShopProducts() {
  const select = $("bag-product");
  select.textContent = "";
  for (const shop of root.dataset.shops.split(",").filter(Boolean)) {
    try {
      const page = await api("GET", `/api/v1/shops/${shop}/products?limit=100`);
      for (const p of page.items || []) {
        const option = document.createElement("option");
        option.value = p.id;
        option.textContent = p.title;
        select.appendChild(option);
      }
    } catch (e) { /* a partner shop's catalogue is not readable by the host */ }
  }
}

$("bag-add").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    await api("POST", `${base}/bag`, { product_ids: [$("bag-product").value] });
    await refresh();
  } catch (e) { fail(e); }
});

$("f-product").addEventListener("change", showDealPrices);
$("f-discount").addEventListener("input", showDealPrices);

$("flash-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const { productId, variantId, prices } = dealPrices();
  $("flash-error").textContent = "";
  try {
    const sale = await api("POST", `${base}/flash-sales`, {
      product_id: productId, variant_id: variantId, deal_prices: prices,
      quantity: Number($("f-qty").value), per_buyer_cap: Number($("f-cap").value),
      countdown_seconds: Number($("f-countdown").value), duration_minutes: Number($("f-duration").value),
    });
    $("flash-status").textContent = `Counting down: ${sale.quantity} at ${Object.entries(sale.deal_prices).map(([c, a]) => money(a, c, locale)).join(" · ")}.`;
  } catch (e) {
    $("flash-error").textContent = e instanceof ApiError ? showFieldErrors(form, e.problem) : String(e);
  }
});

function renderChat(messages) {
  const list = $("host-chat");
  list.textContent = "";
  messages.forEach(addChat);
}

function addChat(m) {
  const list = $("host-chat");
  if (list.querySelector(`[data-chat="${m.id}"]`)) return;
  const li = document.createElement("li");
  li.dataset.chat = m.id;
  const text = document.createElement("span");
  text.textContent = `${m.name}: ${m.body} `;
  const remove = document.createElement("button");
  remove.type = "button"; remove.className = "small secondary"; remove.textContent = "Remove";
  remove.setAttribute("aria-label", `Remove message from ${m.name}`);
  remove.addEventListener("click", () => api("DELETE", `${base}/chat/${m.id}`).catch(fail));
  const mute = document.createElement("button");
  mute.type = "button"; mute.className = "small secondary"; mute.textContent = "Mute 10 min";
  mute.setAttribute("aria-label", `Mute ${m.name} for 10 minutes`);
  mute.addEventListener("click", () => api("POST", `${base}/sanctions`, { user_id: m.user_id, kind: "mute", minutes: 10 }).catch(fail));
  const block = document.createElement("button");
  block.type = "button"; block.className = "small secondary"; block.textContent = "Block";
  block.setAttribute("aria-label", `Block ${m.name}`);
  block.addEventListener("click", () => api("POST", `${base}/sanctions`, { user_id: m.user_id, kind: "block" }).catch(fail));
  li.append(text, remove, mute, block);
  list.appendChild(li);
}

$("slow-set").addEventListener("click", () => api("PUT", `${base}/slow-mode`, { seconds: Number($("slow").value) }).catch(fail));

async function refreshNumbers() {
  try {
    const n = await api("GET", `${base}/numbers`);
    $("n-now").textContent = n.viewers.now;
    $("n-peak").textContent = n.viewers.peak;
    $("n-unique").textContent = n.viewers.unique;
    $("n-taps").textContent = n.taps;
    $("n-carts").textContent = n.add_to_carts;
    $("n-orders").textContent = n.orders;
    $("n-units").textContent = n.units;
    $("n-gmv").textContent = n.gmv.map((g) => g.display).join(" + ") || "–";
    $("n-conv").textContent = `${(Number(n.conversion_rate) * 100).toFixed(1)}%`;
  } catch (e) { /* shown on the next change */ }
}

let numbersTimer = null;
function numbersSoon() {
  if (numbersTimer) return;
  numbersTimer = setTimeout(() => { numbersTimer = null; refreshNumbers(); }, 500);
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}${base}/room${seq ? `?last_seq=${seq}` : ""}`);
  socket.onmessage = (event) => {
    const msg = JSON.parse(event.data);
    if (msg.seq) seq = Math.max(seq, msg.seq);
    if (msg.type === "chat") addChat(msg.data);
    else if (msg.type === "chat_removed") { const el = document.querySelector(`[data-chat="${msg.data.id}"]`); if (el) el.remove(); }
    else if (msg.type === "numbers_changed" || msg.type === "viewers") numbersSoon();
    else if (msg.type === "session_state") $("host-state").textContent = msg.data.state;
    else if (msg.type === "flash_sale_stock") $("flash-status").textContent = `${msg.data.left} left`;
    else if (msg.type === "flash_sale_sold_out") $("flash-status").textContent = "Sold out!";
  };
  socket.onclose = () => setTimeout(connect, 1000);
}

async function loadIngest() {
  try {
    const key = await api("GET", `${base}/stream-key`);
    $("ingest-url").textContent = key.server_url;
    $("stream-key").textContent = `…${key.key_hint} (shown once; "New stream key" shows a new one)`;
  } catch (e) { $("ingest-url").textContent = "Create a stream key to go live from OBS."; }
  await refreshDelay();
}

// How far behind the camera viewers are: measured from the stream's own segment clock.
async function refreshDelay() {
  try {
    const playback = await api("GET", `${base}/playback`);
    const latency = playback.latency;
    $("glass").textContent = latency
      ? `about ${(latency.expected_viewer_delay_ms / 1000).toFixed(1)} s behind the camera (ingest ${latency.ingest_lag_ms} ms)`
      : playback.live ? "measuring…" : "no video yet";
  } catch (e) { $("glass").textContent = "no video yet"; }
}
setInterval(refreshDelay, 5000);

$("rotate-key").addEventListener("click", async () => {
  try {
    const key = await api("POST", `${base}/stream-key`);
    $("ingest-url").textContent = key.server_url;
    $("stream-key").textContent = key.stream_key;
  } catch (e) { fail(e); }
});

$("go-live").addEventListener("click", async () => {
  try { await api("POST", `${base}/start`); location.reload(); } catch (e) { fail(e); }
});
$("end-live").addEventListener("click", async () => {
  try { await api("POST", `${base}/end`); location.reload(); } catch (e) { fail(e); }
});

refresh();
loadShopProducts();
loadIngest();
connect();
setInterval(refreshNumbers, 10000);
