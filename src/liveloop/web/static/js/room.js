// The live room: video, real-time tags, bag, flash sale, chat, and buying without leaving.
import { api, ApiError, money, newKey, showFieldErrors } from "./api.js";

const root = document.getElementById("room");
const sessionId = root.dataset.session;
const market = root.dataset.market;
const locale = root.dataset.locale;
const signedIn = root.dataset.signedIn === "true";
const $ = (id) => document.getElementById(id);

const state = { seq: 0, pinned: null, bag: [], flash: null, socket: null, retry: 0, video: null };
const viewerKey = localStorage.getItem("liveloop_viewer") || newKey();
localStorage.setItem("liveloop_viewer", viewerKey);

// -- video, and the moment on screen ----------------------------------------------------------

async function startVideo() {
  const video = $("video");
  let info = null;
  try {
    info = await api("GET", `/api/v1/live-sessions/${sessionId}/playback`);
  } catch (e) {
    info = null;
  }
  const url = info && (info.hls_url || info.url);
  if (!url || info.live === false) {
    $("video-note").hidden = false;
    $("video-note").textContent = info && info.replay_url ? "Replay" : "The picture appears when the host goes live.";
    return;
  }
  if (window.Hls && window.Hls.isSupported()) {
    const hls = new window.Hls({ lowLatencyMode: true, liveSyncDurationCount: 3 });
    hls.loadSource(url);
    hls.attachMedia(video);
    state.video = hls;
  } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
    video.src = url;
  }
  video.play().catch(() => {});
}

// The wall-clock moment the viewer is seeing, when the stream carries program date-time.
function screenTime() {
  const hls = state.video;
  if (hls && hls.playingDate) return hls.playingDate.getTime();
  return null;
}

// -- the real-time channel -------------------------------------------------------------------

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const resume = state.seq ? `&last_seq=${state.seq}` : "";
  const socket = new WebSocket(`${scheme}://${location.host}/api/v1/live-sessions/${sessionId}/room?viewer=${viewerKey}${resume}`);
  state.socket = socket;
  socket.onopen = () => {
    state.retry = 0;
    $("conn").hidden = true;
  };
  socket.onmessage = (event) => handle(JSON.parse(event.data));
  socket.onclose = () => {
    if (state.socket !== socket) return;
    $("conn").hidden = false;
    $("conn").textContent = "Reconnecting…";
    const delay = Math.min(10000, 500 * 2 ** state.retry++);
    setTimeout(connect, delay);
  };
}

function send(frame) {
  if (state.socket && state.socket.readyState === WebSocket.OPEN) {
    state.socket.send(JSON.stringify(frame));
    return true;
  }
  return false;
}

function handle(msg) {
  if (msg.seq) state.seq = Math.max(state.seq, msg.seq);
  switch (msg.type) {
    case "snapshot": return applySnapshot(msg.data);
    case "pin": return showPin(msg.data, msg);
    case "unpin": return hideTag(msg.data.pin_id);
    case "bag_changed": return refreshBag();
    case "chat": return addChat(msg.data);
    case "chat_removed": return removeChat(msg.data.id);
    case "viewers": return setViewers(msg.data.now);
    case "someone_bought": return bought();
    case "session_state": return setState(msg.data);
    case "flash_sale_scheduled":
    case "flash_sale_started":
    case "flash_sale_ended": return setFlash(msg.data);
    case "flash_sale_stock": return flashLeft(msg.data);
    case "flash_sale_sold_out": return flashSoldOut(msg.data);
    case "error": return showError(msg);
    default: return null;
  }
}

function applySnapshot(data) {
  setState(data.session);
  setViewers((data.viewers && data.viewers.now) || 0);
  state.bag = data.bag || [];
  renderBag();
  $("chat").textContent = "";
  (data.chat || []).forEach(addChat);
  if (data.pinned) showPin({ product: data.pinned.product, pin_id: data.pinned.pin_id, pinned_at: data.pinned.pinned_at }, { at: data.pinned.pinned_at }, true);
  else hideTag();
  state.flash = null;
  if (data.flash_sale) setFlash(data.flash_sale);
  else $("flash").hidden = true;
}

function setState(session) {
  const badge = $("state-badge");
  badge.dataset.state = session.state;
  badge.textContent = session.video === "reconnecting" ? "RECONNECTING" : session.state.toUpperCase();
}

function setViewers(n) {
  $("viewers").textContent = `· ${n} watching`;
}

function showError(msg) {
  const target = $("chat-error");
  if (target) target.textContent = msg.detail || msg.code;
}

// -- the tag ---------------------------------------------------------------------------------

function cardIn(product) {
  return product && product.markets && product.markets[market];
}

async function productFor(data) {
  if (data.product) return data.product;
  const known = state.bag.find((p) => p.product_id === data.product_id);
  if (known) return known;
  const snapshot = await api("GET", `/api/v1/live-sessions/${sessionId}/snapshot`);
  return (snapshot.pinned && snapshot.pinned.product) || { product_id: data.product_id, markets: {} };
}

async function showPin(data, msg, immediate = false) {
  const product = await productFor(data);
  const here = cardIn(product);
  if (!here) { hideTag(); return; } // not buyable in this viewer's market: no tag
  const pinnedAt = Date.parse(data.pinned_at || msg.at);
  const reveal = () => {
    state.pinned = { id: data.pin_id, product };
    $("tag-title").textContent = product.title;
    $("tag-price").textContent = here.display || money(here.price, here.currency, locale);
    const img = $("tag-img");
    if (product.image) { img.src = product.image; img.hidden = false; } else img.hidden = true;
    $("tag").hidden = false;
    $("tag").classList.add("pop");
    setTimeout(() => $("tag").classList.remove("pop"), 600);
  };
  if (immediate) return reveal();
  // In step with the picture: wait until playback reaches the moment of the pin.
  const wait = () => {
    const seen = screenTime();
    if (seen === null || seen >= pinnedAt) return reveal();
    setTimeout(wait, 200);
  };
  wait();
}

function hideTag(pinId) {
  if (pinId && state.pinned && state.pinned.id !== pinId) return;
  state.pinned = null;
  $("tag").hidden = true;
}

$("tag").addEventListener("click", () => {
  if (!state.pinned) return;
  send({ type: "tap", product_id: state.pinned.product.product_id });
  openProduct(state.pinned.product);
});

// -- the bag ---------------------------------------------------------------------------------

async function refreshBag() {
  const snapshot = await api("GET", `/api/v1/live-sessions/${sessionId}/snapshot`);
  state.bag = snapshot.bag || [];
  renderBag();
}

function renderBag() {
  const list = $("bag");
  list.textContent = "";
  const items = state.bag.filter((p) => cardIn(p));
  $("bag-count").textContent = items.length ? `(${items.length})` : "";
  for (const product of items) {
    const here = cardIn(product);
    const li = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "bag-item";
    button.innerHTML = `<span class="bag-title"></span><strong class="bag-price"></strong>`;
    button.querySelector(".bag-title").textContent = product.title;
    button.querySelector(".bag-price").textContent = here.display;
    button.addEventListener("click", () => openProduct(product));
    li.appendChild(button);
    list.appendChild(li);
  }
}

for (const [tab, panel] of [["tab-chat", "panel-chat"], ["tab-bag", "panel-bag"]]) {
  $(tab).addEventListener("click", () => {
    for (const [t, p] of [["tab-chat", "panel-chat"], ["tab-bag", "panel-bag"]]) {
      $(t).setAttribute("aria-selected", String(t === tab));
      $(p).hidden = p !== panel;
    }
  });
}

// -- chat ------------------------------------------------------------------------------------

function addChat(message) {
  if (document.querySelector(`[data-chat="${message.id}"]`)) return;
  const li = document.createElement("li");
  li.dataset.chat = message.id;
  const name = document.createElement("strong");
  name.textContent = message.name;
  li.append(name, " ", message.body);
  const list = $("chat");
  list.appendChild(li);
  while (list.children.length > 100) list.removeChild(list.firstChild);
  list.scrollTop = list.scrollHeight;
}

function removeChat(id) {
  const el = document.querySelector(`[data-chat="${id}"]`);
  if (el) el.remove();
}

const chatForm = $("chat-form");
if (chatForm) {
  chatForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = $("chat-input");
    const body = input.value.trim();
    if (!body) return;
    $("chat-error").textContent = "";
    try {
      await api("POST", `/api/v1/live-sessions/${sessionId}/chat`, { body });
      input.value = "";
    } catch (e) {
      $("chat-error").textContent = e instanceof ApiError ? showFieldErrors(chatForm, e.problem) : "Not sent.";
    }
  });
}

function bought() {
  const toast = $("bought");
  toast.textContent = "Someone just bought this!";
  toast.classList.add("show");
  setTimeout(() => toast.classList.remove("show"), 2500);
}

// -- flash sale ------------------------------------------------------------------------------

function setFlash(sale) {
  state.flash = sale;
  const price = sale.deal_prices[currencyOf(sale)];
  if (price === undefined || sale.state === "ended" || sale.state === "cancelled") {
    $("flash").hidden = true;
    return;
  }
  $("flash").hidden = false;
  $("flash-price").textContent = money(price, currencyOf(sale), locale);
  const product = state.bag.find((p) => p.product_id === sale.product_id);
  $("flash-was").textContent = product && cardIn(product) ? cardIn(product).display : "";
  flashLeft(sale);
}

function currencyOf(sale) {
  const product = state.bag.find((p) => p.product_id === sale.product_id);
  const here = product && cardIn(product);
  return here ? here.currency : Object.keys(sale.deal_prices)[0];
}

function flashLeft(data) {
  if (!state.flash || state.flash.id !== data.id) return;
  state.flash.left = data.left;
  $("flash-left").textContent = data.left > 0 ? `${data.left} left` : "Sold out";
  $("flash-claim").disabled = data.left <= 0;
}

function flashSoldOut(data) {
  flashLeft({ id: data.id, left: 0 });
  $("flash").classList.add("sold-out");
}

setInterval(() => {
  const sale = state.flash;
  if (!sale || $("flash").hidden) return;
  const now = Date.now();
  const starts = Date.parse(sale.starts_at);
  const ends = Date.parse(sale.ends_at);
  const clock = (ms) => {
    const s = Math.max(0, Math.ceil(ms / 1000));
    return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
  };
  if (now < starts) {
    $("flash-clock").textContent = `starts in ${clock(starts - now)}`;
    $("flash-claim").disabled = true;
  } else if (now < ends) {
    $("flash-clock").textContent = `ends in ${clock(ends - now)}`;
    $("flash-claim").disabled = (sale.left ?? 1) <= 0;
  } else {
    $("flash-clock").textContent = "ended";
    $("flash-claim").disabled = true;
  }
}, 250);

$("flash-claim").addEventListener("click", async () => {
  if (!requireSignIn()) return;
  const sale = state.flash;
  try {
    const claim = await api("POST", `/api/v1/live-sessions/${sessionId}/flash-sales/${sale.id}/claims`,
      { quantity: 1, market }, { idempotencyKey: `claim-${sale.id}-${viewerKey}` });
    openCheckout({ variant_id: claim.variant_id, quantity: claim.quantity, claim_id: claim.id });
  } catch (e) {
    $("flash-clock").textContent = e instanceof ApiError ? e.message : "Try again";
  }
});

// -- product sheet, cart and checkout --------------------------------------------------------

function requireSignIn() {
  if (signedIn) return true;
  location.href = `/login?next=${encodeURIComponent(location.pathname)}`;
  return false;
}

let sheetProduct = null;
function openProduct(product) {
  sheetProduct = product;
  const here = cardIn(product);
  $("sheet-title").textContent = product.title;
  $("sheet-shop").textContent = product.shop || "";
  const img = $("sheet-img");
  if (product.image) { img.src = product.image; img.hidden = false; } else img.hidden = true;
  const select = $("sheet-variant");
  select.textContent = "";
  for (const v of here.variants) {
    const option = document.createElement("option");
    option.value = v.variant_id;
    option.textContent = `${v.label} · ${v.display}${v.available > 0 ? "" : " · sold out"}`;
    option.disabled = v.available <= 0;
    select.appendChild(option);
  }
  $("sheet-stock").textContent = `${here.available} in stock`;
  $("sheet-error").textContent = "";
  $("product-sheet").showModal();
}

$("sheet-add").addEventListener("click", async () => {
  if (!requireSignIn()) return;
  try {
    await api("POST", "/api/v1/carts/lines", {
      variant_id: $("sheet-variant").value, quantity: Number($("sheet-qty").value || 1),
      source_kind: "live", source_id: sessionId, market,
    });
    send({ type: "tap", product_id: sheetProduct.product_id });
    $("product-sheet").close();
    await refreshCart();
  } catch (e) {
    $("sheet-error").textContent = e instanceof ApiError ? e.message : "Could not add.";
  }
});

$("sheet-buy").addEventListener("click", () => {
  if (!requireSignIn()) return;
  $("product-sheet").close();
  openCheckout({ variant_id: $("sheet-variant").value, quantity: Number($("sheet-qty").value || 1) });
});

async function refreshCart() {
  if (!signedIn) return null;
  try {
    const cart = await api("GET", `/api/v1/carts/current?market=${market}`);
    const lines = cart.lines || [];
    $("cart-count").textContent = String(lines.reduce((n, l) => n + l.quantity, 0));
    const list = $("cart-lines");
    list.textContent = "";
    for (const line of lines) {
      const li = document.createElement("li");
      li.textContent = `${line.quantity} × ${line.title || line.sku || line.variant_id}`;
      list.appendChild(li);
    }
    return cart;
  } catch (e) {
    return null;
  }
}

$("cart-open").addEventListener("click", async () => {
  if (!requireSignIn()) return;
  await refreshCart();
  $("cart-sheet").showModal();
});

$("cart-checkout").addEventListener("click", () => {
  $("cart-sheet").close();
  openCheckout(null);
});

let checkout = null;
let pending = null;
function openCheckout(item) {
  pending = item;
  checkout = null;
  $("a-country").value = root.dataset.country || market;
  $("quote").hidden = true;
  $("paid").hidden = true;
  $("address-form").hidden = false;
  $("checkout-sheet").showModal();
}

$("address-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const address = Object.fromEntries(new FormData(form).entries());
  address.country = market;
  $("address-error").textContent = "";
  try {
    if (pending) {
      checkout = await api("POST", "/api/v1/checkouts/express", {
        address, variant_id: pending.variant_id, quantity: pending.quantity, market,
        source_kind: "live", source_id: sessionId, flash_claim_id: pending.claim_id,
      }, { idempotencyKey: newKey() });
    } else {
      checkout = await api("POST", "/api/v1/checkouts", { address }, { idempotencyKey: newKey() });
    }
    renderQuote();
  } catch (e) {
    $("address-error").textContent = e instanceof ApiError ? showFieldErrors(form, e.problem) : "Try again.";
  }
});

function renderQuote() {
  const c = checkout;
  const parcels = $("parcels");
  parcels.textContent = "";
  for (const parcel of c.parcels) {
    const div = document.createElement("div");
    div.className = "parcel";
    const lines = parcel.lines.map((l) => `${l.quantity} × ${l.title}`).join(", ");
    div.innerHTML = `<p class="parcel-lines"></p><p class="muted parcel-ship"></p>`;
    div.querySelector(".parcel-lines").textContent = lines;
    div.querySelector(".parcel-ship").textContent =
      `${parcel.shipping_service_name}: arrives by ${new Date(parcel.promised_delivery).toLocaleDateString(locale.replace("_", "-"), { weekday: "short", day: "numeric", month: "short" })}`;
    parcels.appendChild(div);
  }
  const t = c.totals;
  const rows = [["Items", t.subtotal], ["Discounts", -(t.shop_discount + t.platform_discount)], ["Delivery", t.shipping], ["Duties & taxes", t.duties_and_taxes], ["Total", t.total]];
  const dl = $("totals");
  dl.textContent = "";
  for (const [label, amount] of rows) {
    if (label === "Discounts" && amount === 0) continue;
    const dt = document.createElement("dt");
    dt.textContent = label;
    const dd = document.createElement("dd");
    dd.textContent = money(amount, t.currency, locale);
    dl.append(dt, dd);
  }
  $("pay-button").textContent = `Pay ${money(t.total, t.currency, locale)}`;
  $("address-form").hidden = true;
  $("quote").hidden = false;
}

setInterval(() => {
  if (!checkout || $("quote").hidden) return;
  const left = Math.max(0, Math.round((Date.parse(checkout.expires_at) - Date.now()) / 1000));
  $("deadline").textContent = left > 0
    ? `Held for you for ${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}`
    : "This checkout expired: start again to see the current price and stock.";
}, 500);

$("pay-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const [mm, yy] = $("card-exp").value.split("/").map((s) => s.trim());
  $("pay-error").textContent = "";
  $("pay-button").disabled = true;
  try {
    const result = await api("POST", `/api/v1/checkouts/${checkout.id}/confirm`, {
      card: { number: $("card-number").value.replace(/\s+/g, ""), exp_month: Number(mm), exp_year: 2000 + Number(yy), cvc: $("card-cvc").value },
      expected_total: checkout.totals.total,
      return_url: location.href,
    }, { idempotencyKey: `confirm-${checkout.id}` });
    await afterConfirm(result);
  } catch (e) {
    $("pay-error").textContent = e instanceof ApiError ? e.message : "Payment did not go through.";
  } finally {
    $("pay-button").disabled = false;
  }
});

async function afterConfirm(result) {
  checkout = result;
  if (result.order_ids && result.order_ids.length) return showPaid(result);
  if (result.challenge_url) {
    // 3-D Secure: the bank's page opens over the room; the video keeps playing underneath.
    const frame = document.createElement("iframe");
    frame.src = result.challenge_url;
    frame.title = "Card authentication";
    frame.className = "challenge";
    $("pay-form").after(frame);
  }
  for (let i = 0; i < 60; i++) {
    await new Promise((r) => setTimeout(r, 1000));
    const latest = await api("GET", `/api/v1/checkouts/${checkout.id}`);
    if (latest.order_ids && latest.order_ids.length) return showPaid(latest);
    if (latest.decline_code) { $("pay-error").textContent = `Declined (${latest.decline_code}).`; return null; }
  }
  return null;
}

function showPaid(result) {
  document.querySelectorAll(".challenge").forEach((f) => f.remove());
  $("quote").hidden = true;
  $("paid").hidden = false;
  if (result.order_ids.length === 1) $("orders-link").href = `/orders/${result.order_ids[0]}`;
  refreshCart();
}

// -- start -----------------------------------------------------------------------------------
connect();
startVideo();
refreshCart();
