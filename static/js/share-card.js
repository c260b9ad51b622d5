// A shared fill or position as a card (the same markup as templates/chat/_share_card.html):
// symbol, side, shares and price when shared, and the live price now. Prices come from the
// quote.updated frames the page already follows (main.js fills every [data-quote-symbol]); a card
// added later follows its stock too and shows the last price this page has seen at once. A stock
// the reader may not see (absent from the message's `symbols`) gets a card without a live price.
// Everything is written as text.

import { price } from "./format.js";
import { getSocket } from "./socket.js";

const socket = getSocket();
const lastPrice = new Map();
socket.on("quote.updated", ({ quote }) => {
  if (quote) lastPrice.set(quote.symbol, quote.price);
});

function figure(label, value, field) {
  const row = document.createElement("div");
  const term = document.createElement("dt");
  term.textContent = label;
  const detail = document.createElement("dd");
  detail.textContent = value;
  if (field) detail.dataset.field = field;
  row.append(term, detail);
  return row;
}

export function shareCard(message, stockUrl) {
  const payload = message.payload;
  const kind = payload && (payload.kind === "fill" || payload.kind === "position") ? payload.kind : null;
  const share = kind ? payload[kind] : null;
  if (!share || typeof share.symbol !== "string") return null;
  const live = (message.symbols || []).includes(share.symbol);
  const card = document.createElement("div");
  card.className = `share-card share-${kind}`;
  card.dataset.shareCard = "";
  const head = document.createElement("div");
  head.className = "share-card-head";
  const label = document.createElement("span");
  label.className = "share-card-kind";
  label.textContent = kind === "position" ? "Position" : "Trade";
  const symbol = document.createElement(live ? "a" : "span");
  symbol.className = "share-card-symbol";
  symbol.textContent = share.symbol;
  if (live) symbol.href = stockUrl(share.symbol);
  const side = document.createElement("span");
  side.className = `share-card-side side-${String(share.side)}`;
  side.textContent = String(share.side).toUpperCase();
  head.append(label, symbol, side);
  const figures = document.createElement("dl");
  figures.className = "share-card-figures";
  figures.append(
    figure("Shares", String(share.quantity)),
    figure(kind === "position" ? "Avg. cost" : "Price", price(share.price)),
    figure("Now", live && lastPrice.has(share.symbol) ? price(lastPrice.get(share.symbol)) : "—", "price"),
  );
  card.append(head, figures);
  if (live) {
    card.dataset.quoteSymbol = share.symbol;
    socket.followSymbols([share.symbol]);
  }
  return card;
}
