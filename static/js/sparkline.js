// The dashboard's sparklines, extended by every live quote: the last two hours of 1-minute closes,
// the newest minute's point moving with the price, as the server drew them (market_format.sparkline).

const WIDTH = 100;
const HEIGHT = 24;
const POINTS = 120;

const lines = new Map();
for (const svg of document.querySelectorAll("svg[data-sparkline]")) {
  const symbol = svg.dataset.sparkline;
  const values = (svg.dataset.values || "").split(",").filter(Boolean).map(Number);
  if (!lines.has(symbol)) lines.set(symbol, { values, minute: null, svgs: [] });
  lines.get(symbol).svgs.push(svg);
}

function draw(line, change) {
  const { values } = line;
  const low = Math.min(...values);
  const spread = Math.max(...values) - low || 1;
  const step = WIDTH / Math.max(values.length - 1, 1);
  const points = values
    .map((v, i) => `${(i * step).toFixed(1)},${(HEIGHT - 1 - ((v - low) / spread) * (HEIGHT - 2)).toFixed(1)}`)
    .join(" ");
  for (const svg of line.svgs) {
    svg.querySelector("polyline")?.setAttribute("points", points);
    svg.classList.remove("up", "down", "flat");
    svg.classList.add(change > 0 ? "up" : change < 0 ? "down" : "flat");
  }
}

export function followSparklines(socket) {
  if (!lines.size) return;
  socket.followSymbols([...lines.keys()]);
  socket.on("quote.updated", ({ quote }) => {
    const line = lines.get(quote.symbol);
    if (!line) return;
    const minute = Math.floor(Date.parse(quote.at) / 60000);
    const price = Number(quote.price);
    if (line.minute === minute && line.values.length) line.values[line.values.length - 1] = price;
    else {
      line.values.push(price);
      if (line.values.length > POINTS) line.values.shift();
    }
    line.minute = minute;
    draw(line, Number(quote.change));
  });
}
