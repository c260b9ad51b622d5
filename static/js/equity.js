// The equity line of the dashboard and portfolio: end-of-day equity from
// /api/v1/account/portfolio/history, with a switch for how many days it covers, and today's point
// kept at the live equity (live-money.js says it with a "stockchat:equity" event).
// Needs the vendored lightweight-charts (global).

import { chartTheme, money } from "./format.js";

const holder = document.getElementById("equity-chart");
const charts = window.LightweightCharts;
// The axis spans at least this share of the account's value (and a dollar), so a new account's
// flat line sits mid-chart on round labels instead of a column of 2-cent steps.
const MIN_SPAN_SHARE = 0.02;

// "#0b5cad" -> "rgba(11, 92, 173, 0.25)": the chart library parses plain colours only.
function withAlpha(hex, alpha) {
  const match = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  if (!match) return hex;
  const [r, g, b] = match.slice(1).map((part) => parseInt(part, 16));
  return `rgba(${r}, ${g}, ${b}, ${alpha})`;
}

function sensibleRange(original) {
  const result = original();
  if (!result || !result.priceRange) return result;
  const { minValue, maxValue } = result.priceRange;
  const middle = (minValue + maxValue) / 2;
  const span = Math.max(maxValue - minValue, Math.abs(middle) * MIN_SPAN_SHARE, 1);
  return { ...result, priceRange: { minValue: middle - span / 2, maxValue: middle + span / 2 } };
}

if (holder && charts) {
  const theme = chartTheme();
  const chart = charts.createChart(holder, {
    autoSize: true,
    // The on-chart logo injects an inline <style>, which the Content-Security-Policy refuses;
    // the template credits TradingView under the chart instead.
    layout: { background: { color: theme.background }, textColor: theme.text, attributionLogo: false },
    grid: { vertLines: { color: theme.grid }, horzLines: { color: theme.grid } },
    localization: { priceFormatter: money },
  });
  const series = chart.addSeries(charts.AreaSeries, {
    lineColor: theme.accent,
    topColor: withAlpha(theme.accent, 0.25),
    bottomColor: withAlpha(theme.accent, 0.02),
    lineWidth: 2,
    autoscaleInfoProvider: sensibleRange,
  });
  let loading = 0;
  let lastDay = null;
  let liveEquity = null;

  // Today's point at the live equity (the server's days are UTC dates).
  function showLive() {
    const today = new Date().toISOString().slice(0, 10);
    if (liveEquity === null || lastDay === null || today < lastDay) return;
    series.update({ time: today, value: Number(liveEquity) });
    lastDay = today;
    holder.dataset.liveEquity = liveEquity;
  }

  async function load(days) {
    const request = ++loading;
    const response = await fetch(`${holder.dataset.historyUrl}?days=${Number(days)}`, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    if (!response.ok || request !== loading) return;
    const points = await response.json();
    series.setData(points.map((point) => ({ time: point.day, value: Number(point.equity) })));
    lastDay = points.length ? points[points.length - 1].day : null;
    showLive();
    chart.timeScale().fitContent();
    holder.dataset.loadedDays = String(days);
    holder.dataset.pointCount = String(points.length);
  }

  document.addEventListener("stockchat:equity", (event) => {
    liveEquity = event.detail.equity;
    showLive();
  });

  const buttons = document.querySelectorAll("[data-equity-days]");
  for (const button of buttons) {
    button.addEventListener("click", () => {
      for (const other of buttons) other.setAttribute("aria-pressed", String(other === button));
      load(button.dataset.equityDays);
    });
  }
  load(document.querySelector("[data-equity-days][aria-pressed=true]")?.dataset.equityDays || 30);
}
