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

// A moment in the reader's time zone, named: "Nov 30, 01:22 EST". The server writes the same form
// in UTC ("Nov 30, 06:22 UTC", market_format.timestamp) for readers without the script.
const TIME_FORMAT = {
  month: "short",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  hourCycle: "h23",
  timeZoneName: "short",
};

export function localTime(iso) {
  const moment = new Date(iso);
  if (Number.isNaN(moment.getTime())) return "—";
  return moment.toLocaleString("en-US", TIME_FORMAT);
}

// Every <time datetime> under root, shown in the reader's time zone.
export function localizeTimes(root = document) {
  for (const element of root.querySelectorAll("time[datetime]")) element.textContent = localTime(element.dateTime);
}

// A new <time> for a moment, in the same form.
export function timeElement(iso) {
  const element = document.createElement("time");
  element.dateTime = iso;
  element.textContent = localTime(iso);
  return element;
}

// The charts' colours, from the stylesheet's custom properties, so they follow the light or dark theme.
export function chartTheme() {
  const style = getComputedStyle(document.documentElement);
  const read = (name, fallback) => style.getPropertyValue(name).trim() || fallback;
  return {
    background: read("--card", "#ffffff"),
    text: read("--fg", "#17202a"),
    grid: read("--grid", "#eef1f5"),
    accent: read("--accent", "#0b5cad"),
    up: read("--up", "#0a7a3d"),
    down: read("--down", "#b3261e"),
  };
}
