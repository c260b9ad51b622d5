// The portfolio page's equity line: end-of-day equity from /api/v1/account/portfolio/history,
// with a switch for how many days it covers. Needs the vendored lightweight-charts (global).

import { money } from "./format.js";

const holder = document.getElementById("equity-chart");
const charts = window.LightweightCharts;

if (holder && charts) {
  const chart = charts.createChart(holder, {
    autoSize: true,
    // The on-chart logo injects an inline <style>, which the Content-Security-Policy refuses;
    // the template credits TradingView under the chart instead.
    layout: { background: { color: "#ffffff" }, textColor: "#17202a", attributionLogo: false },
    grid: { vertLines: { color: "#eef1f5" }, horzLines: { color: "#eef1f5" } },
    // Cents, as every amount on the pages: an account that moved by less than a dollar still gets
    // distinct axis labels ($99,999.50, $99,999.75) instead of a column of "$99,999".
    localization: { priceFormatter: money },
  });
  const series = chart.addSeries(charts.AreaSeries, {
    lineColor: "#0b5cad",
    topColor: "rgba(11, 92, 173, 0.25)",
    bottomColor: "rgba(11, 92, 173, 0.02)",
    lineWidth: 2,
  });
  let loading = 0;

  async function load(days) {
    const request = ++loading;
    const response = await fetch(`${holder.dataset.historyUrl}?days=${Number(days)}`, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    if (!response.ok || request !== loading) return;
    const points = await response.json();
    series.setData(points.map((point) => ({ time: point.day, value: Number(point.equity) })));
    chart.timeScale().fitContent();
    holder.dataset.loadedDays = String(days);
    holder.dataset.pointCount = String(points.length);
  }

  const buttons = document.querySelectorAll("[data-equity-days]");
  for (const button of buttons) {
    button.addEventListener("click", () => {
      for (const other of buttons) other.setAttribute("aria-pressed", String(other === button));
      load(button.dataset.equityDays);
    });
  }
  load(document.querySelector("[data-equity-days][aria-pressed=true]")?.dataset.equityDays || 30);
}
