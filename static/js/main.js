// Live updates for every signed-in page: the connection indicator, prices in place,
// the user's orders, fills and cash. Everything written into the page is text.

import { localizeTimes, money, percent, price, setUpDown, signedMoney } from "./format.js";
import { getSocket } from "./socket.js";
import "./alerts.js";
import "./live-money.js";
import { followSparklines } from "./sparkline.js";

const socket = getSocket();
const STATUS_LABELS = { new: "New", filled: "Filled", canceled: "Canceled", expired: "Expired", rejected: "Rejected" };
// A socket that is back within this long was never worth a red badge (a page load, a server restart).
const OFFLINE_GRACE_MS = 2000;

// Times as the reader's clock reads them, in the form live ones are added in.
localizeTimes();

// The badge appears only when the socket has been down for more than a moment; <html data-socket>
// always says the socket's state (the browser tests wait on it).
const indicator = document.getElementById("connection-status");
let downSince = null;
socket.onStatus((status) => {
  if (!status) return;
  document.documentElement.dataset.socket = status;
  if (!indicator) return;
  if (status === "online" || status === "signed-out") {
    window.clearTimeout(downSince);
    downSince = null;
    indicator.hidden = status === "online";
    indicator.dataset.status = status;
    indicator.textContent = status === "online" ? "Live" : "Signed out";
    return;
  }
  if (downSince !== null || !indicator.hidden) return;
  downSince = window.setTimeout(() => {
    indicator.hidden = false;
    indicator.dataset.status = "offline";
    indicator.textContent = "Offline, reconnecting…";
  }, OFFLINE_GRACE_MS);
});

// --- prices -------------------------------------------------------------------------------

const newest = new Map();

function showQuote(quote) {
  // Quotes carry their time; an older one arriving late must not overwrite a newer one.
  const seen = newest.get(quote.symbol);
  if (seen && seen >= quote.at) return;
  newest.set(quote.symbol, quote.at);
  const previous = Number(quote.previous_close);
  const change = Number(quote.change);
  const pct = previous ? (change / previous) * 100 : NaN;
  for (const holder of document.querySelectorAll("[data-quote-symbol]")) {
    if (holder.dataset.quoteSymbol !== quote.symbol) continue;
    const priceEl = holder.querySelector("[data-field=price]");
    if (priceEl) priceEl.textContent = price(quote.price);
    const changeEl = holder.querySelector("[data-field=change]");
    if (changeEl) {
      changeEl.textContent = `${signedMoney(quote.change)} (${percent(pct)})`;
      setUpDown(changeEl, change);
    }
  }
}

const symbols = new Set([...document.querySelectorAll("[data-quote-symbol]")].map((el) => el.dataset.quoteSymbol));
if (symbols.size) socket.followSymbols([...symbols]);
socket.on("quote.updated", (frame) => showQuote(frame.quote));
followSparklines(socket);

// --- orders, fills, cash -------------------------------------------------------------------

// An order as the REST API and the order.updated frame both carry it (trading.events.order_data).
function showOrder(order) {
  const row = document.querySelector(`tr[data-order-id="${Number(order.id)}"]`);
  if (!row) return;
  const status = row.querySelector("[data-order-field=status]");
  if (status) {
    status.textContent = STATUS_LABELS[order.status] || order.status;
    status.className = `status status-${order.status}`;
  }
  const filled = row.querySelector("[data-order-field=filled_quantity]");
  if (filled) filled.textContent = String(order.filled_quantity);
  const average = row.querySelector("[data-order-field=filled_average_price]");
  if (average && order.filled_average_price) average.textContent = price(order.filled_average_price);
  if (order.status !== "new") row.querySelector("[data-cancel-form]")?.remove();
}

socket.on("order.updated", ({ order }) => showOrder(order));

socket.on("account.updated", ({ account }) => {
  for (const field of ["cash", "buying_power"]) {
    for (const el of document.querySelectorAll(`[data-account-field=${field}]`)) el.textContent = money(account[field]);
  }
});

function notice(text) {
  let region = document.getElementById("live-notices");
  if (!region) {
    region = document.createElement("ul");
    region.id = "live-notices";
    region.className = "messages";
    region.setAttribute("role", "status");
    document.querySelector("main")?.before(region);
  }
  const item = document.createElement("li");
  item.className = "message message-success";
  item.textContent = text;
  region.append(item);
}

socket.on("fill.created", ({ fill }) => {
  const verb = fill.side === "buy" ? "Bought" : "Sold";
  notice(`${verb} ${fill.quantity} ${fill.symbol} at ${price(fill.price)}.`);
});

// --- after a reconnect, orders may have changed while the socket was away ------------------

let connectedBefore = false;
socket.onReady(async () => {
  if (!connectedBefore) {
    connectedBefore = true;
    return;
  }
  const rows = document.querySelectorAll("tr[data-order-id]");
  if (!rows.length) return;
  try {
    const response = await fetch("/api/v1/orders?status=all&limit=200", { credentials: "same-origin" });
    if (!response.ok) return;
    const body = await response.json();
    for (const order of body.results) showOrder(order);
  } catch {
    // The next reconnect tries again.
  }
});
