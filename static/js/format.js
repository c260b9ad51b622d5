// Numbers as the server-rendered pages show them (trading/templatetags/market_format.py),
// so a value looks the same before and after a live update replaces it.

const grouped = (value, places) =>
  Math.abs(value).toLocaleString("en-US", { minimumFractionDigits: places, maximumFractionDigits: places });

const round2 = (value) => Math.round(value * 100) / 100;

export function money(text) {
  const value = Number(text);
  if (!Number.isFinite(value)) return "—";
  return `${round2(value) < 0 ? "-" : ""}$${grouped(value, 2)}`;
}

export function signedMoney(text) {
  const value = Number(text);
  if (!Number.isFinite(value)) return "—";
  const r = round2(value);
  return `${r > 0 ? "+" : r < 0 ? "-" : ""}$${grouped(value, 2)}`;
}

// A share price, as money: two decimals, like every amount on a page.
export const price = money;

export function percent(value) {
  if (!Number.isFinite(value)) return "—";
  const r = round2(value);
  return `${r > 0 ? "+" : r < 0 ? "-" : ""}${grouped(r, 2)}%`;
}

export function updown(value) {
  const n = Number(value);
  if (!Number.isFinite(n) || n === 0) return "flat";
  return n > 0 ? "up" : "down";
}

export function setUpDown(element, value) {
  element.classList.remove("up", "down", "flat");
  element.classList.add(updown(value));
}
