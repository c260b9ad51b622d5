// Every money figure of the signed-in pages kept at the latest quotes: each holding's value,
// day change and unrealized P&L, and the account's equity, day change, positions value and
// unrealized P&L. Recomputed here from the quantities and cost bases the page was rendered
// with, by the rules of trading/valuation.py (valuation.js, integer cents), so the figures are
// the cents the API gives at the same quotes. docs/trading.md says why the browser computes
// them rather than the server pushing them.

import { money, percent, setUpDown, signedMoney } from "./format.js";
import { getSocket } from "./socket.js";
import { cents, centsText, valueAccount, valuePosition } from "./valuation.js";

const socket = getSocket();
const summary = document.querySelector("[data-valuation-summary]");
const holdings = new Map();
const quotes = new Map();
let cash = summary ? cents(summary.dataset.cash) : 0n;

for (const element of document.querySelectorAll("[data-holding]")) {
  const symbol = element.dataset.holding;
  if (holdings.has(symbol)) continue;
  holdings.set(symbol, {
    quantity: Number(element.dataset.quantity),
    costBasis: cents(element.dataset.costBasis),
    marketValue: cents(element.dataset.marketValue),
    previousValue: cents(element.dataset.previousValue),
    dayBasis: element.dataset.dayBasis ? cents(element.dataset.dayBasis) : null,
    priced: false,
  });
}

const ratio = (part, whole) => (whole === 0n ? NaN : (Number(part) / Number(whole)) * 100);

function show(element, text, change) {
  if (!element) return;
  element.textContent = text;
  if (change !== undefined) setUpDown(element, Number(change));
}

function renderHolding(symbol) {
  const holding = holdings.get(symbol);
  for (const root of document.querySelectorAll(`[data-position-symbol="${CSS.escape(symbol)}"]`)) {
    show(root.querySelector("[data-money=market_value]"), money(centsText(holding.marketValue)));
    const unrealized = holding.marketValue - holding.costBasis;
    show(root.querySelector("[data-money=unrealized_pnl]"), signedMoney(centsText(unrealized)), unrealized);
    if (holding.priced) {
      const day = holding.marketValue - holding.previousValue;
      const text = `${signedMoney(centsText(day))} (${percent(ratio(day, holding.previousValue))})`;
      show(root.querySelector("[data-money=day_change]"), text, day);
    }
    const quantity = root.querySelector("[data-position-field=quantity]");
    if (quantity) quantity.textContent = String(holding.quantity);
  }
}

function renderSummary() {
  if (!summary) return;
  const totals = valueAccount(cash, holdings.values());
  show(summary.querySelector("[data-money=equity]"), money(centsText(totals.equity)));
  const day = `${signedMoney(centsText(totals.dayChange))} (${percent(ratio(totals.dayChange, totals.lastEquity))})`;
  show(summary.querySelector("[data-money=day_change]"), day, totals.dayChange);
  show(summary.querySelector("[data-money=long_market_value]"), money(centsText(totals.marketValue)));
  show(summary.querySelector("[data-money=unrealized_pnl]"), signedMoney(centsText(totals.unrealized)), totals.unrealized);
  document.dispatchEvent(new CustomEvent("stockchat:equity", { detail: { equity: centsText(totals.equity) } }));
}

function revalue(symbol) {
  const holding = holdings.get(symbol);
  const quote = quotes.get(symbol);
  if (!holding || !quote) return;
  Object.assign(holding, valuePosition(holding, quote), { priced: true });
  renderHolding(symbol);
}

if (holdings.size || summary) {
  socket.followSymbols([...holdings.keys()]);
  socket.on("quote.updated", ({ quote }) => {
    // An older quote arriving late must not overwrite a newer one.
    const seen = quotes.get(quote.symbol);
    if (seen && seen.at >= quote.at) return;
    quotes.set(quote.symbol, quote);
    if (!holdings.has(quote.symbol)) return;
    revalue(quote.symbol);
    renderSummary();
  });
  socket.on("account.updated", ({ account }) => {
    cash = cents(account.cash);
    renderSummary();
  });

  // A fill changes quantities and cost bases: take them from the API, value them at the newest quotes.
  let refreshing = 0;
  async function refresh() {
    const request = ++refreshing;
    const get = (url) => fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    try {
      const [accountResponse, positionsResponse] = await Promise.all([get("/api/v1/account"), get("/api/v1/positions")]);
      if (!accountResponse.ok || !positionsResponse.ok || request !== refreshing) return;
      const account = await accountResponse.json();
      const positions = await positionsResponse.json();
      if (request !== refreshing) return;
      cash = cents(account.cash);
      const held = new Set();
      for (const position of positions) {
        held.add(position.symbol);
        const marketValue = cents(position.market_value);
        holdings.set(position.symbol, {
          quantity: Number(position.quantity),
          costBasis: cents(position.cost_basis),
          marketValue,
          previousValue: marketValue - cents(position.change_today ?? "0"),
          dayBasis: position.day_basis === null ? null : cents(position.day_basis),
          priced: position.change_today !== null,
        });
        revalue(position.symbol);
        renderHolding(position.symbol);
      }
      for (const symbol of [...holdings.keys()]) {
        if (held.has(symbol)) continue;
        holdings.delete(symbol);
        for (const row of document.querySelectorAll(`tr[data-position-symbol="${CSS.escape(symbol)}"]`)) row.remove();
      }
      socket.followSymbols([...held]);
      renderSummary();
    } catch {
      // The next fill or reconnect tries again.
    }
  }
  socket.on("fill.created", refresh);
  let connectedBefore = false;
  socket.onReady(() => {
    if (connectedBefore) refresh();
    connectedBefore = true;
  });
}
