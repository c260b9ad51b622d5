// The stock page's candlestick chart: bars from the API, an interval switch, and the
// last bar moved by every live quote. Needs the vendored lightweight-charts (global).

import { chartTheme } from "./format.js";
import { getSocket } from "./socket.js";

const holder = document.getElementById("price-chart");
const charts = window.LightweightCharts;

const SECONDS = { "1m": 60, "1d": 86400 };

if (holder && charts) {
  const symbol = holder.dataset.symbol;
  const theme = chartTheme();
  const chart = charts.createChart(holder, {
    autoSize: true,
    // The on-chart logo injects an inline <style>, which the Content-Security-Policy refuses;
    // the template credits TradingView under the chart instead, as the license asks.
    layout: { background: { color: theme.background }, textColor: theme.text, attributionLogo: false },
    grid: { vertLines: { color: theme.grid }, horzLines: { color: theme.grid } },
    timeScale: { timeVisible: true, secondsVisible: false },
  });
  const series = chart.addSeries(charts.CandlestickSeries, {
    upColor: theme.up,
    downColor: theme.down,
    borderVisible: false,
    wickUpColor: theme.up,
    wickDownColor: theme.down,
  });
  let interval = "1d";
  let last = null;
  let loading = 0;

  async function load(wanted) {
    const request = ++loading;
    const url = `${holder.dataset.barsUrl}?interval=${encodeURIComponent(wanted)}&limit=1000`;
    const response = await fetch(url, { credentials: "same-origin" });
    if (!response.ok || request !== loading) return;
    const body = await response.json();
    const bars = (body.results || []).map((bar) => ({
      time: Math.floor(Date.parse(bar.start) / 1000),
      open: Number(bar.open),
      high: Number(bar.high),
      low: Number(bar.low),
      close: Number(bar.close),
    }));
    interval = wanted;
    series.setData(bars);
    last = bars.length ? { ...bars[bars.length - 1] } : null;
    chart.timeScale().fitContent();
    holder.dataset.loadedInterval = wanted;
    holder.dataset.barCount = String(bars.length);
  }

  for (const button of document.querySelectorAll("[data-interval]")) {
    button.addEventListener("click", () => {
      for (const other of document.querySelectorAll("[data-interval]")) {
        other.setAttribute("aria-pressed", String(other === button));
      }
      load(button.dataset.interval);
    });
  }

  getSocket().on("quote.updated", ({ quote }) => {
    if (quote.symbol !== symbol) return;
    const seconds = Math.floor(Date.parse(quote.at) / 1000);
    const start = seconds - (seconds % SECONDS[interval]);
    const value = Number(quote.price);
    if (last && start < last.time) return;
    if (last && start === last.time) {
      last = { ...last, high: Math.max(last.high, value), low: Math.min(last.low, value), close: value };
    } else {
      last = { time: start, open: value, high: value, low: value, close: value };
    }
    series.update(last);
    holder.dataset.lastClose = String(value);
  });

  load(interval);
}
