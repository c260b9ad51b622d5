// The valuation of trading/valuation.py, in integer cents (BigInt), so a figure recomputed here
// from a live quote is the cent the server and the API give for the same quote:
//   market_value = round(quantity × price), cost_basis = round(quantity × average_cost), each rounded half to even;
//   previous_value = the day basis the server gives (previous close for shares held since before
//   today, fill price for shares bought today: trading/valuation.py), or round(quantity × previous_close)
//   for a holding the server had no quote for;
//   unrealized = market_value − cost_basis, day_change = market_value − previous_value;
//   equity = cash + Σ market_value, last_equity = cash + Σ previous_value.
// Decimal strings in, BigInt cents out: no float ever touches money.

const DECIMAL = /^([+-]?)(\d+)(?:\.(\d*))?$/;

// "65.5900" -> { units: 655900n, scale: 4 }
function parse(text) {
  const match = DECIMAL.exec(String(text).trim());
  if (!match) throw new RangeError(`not a decimal: ${text}`);
  const fraction = match[3] || "";
  const units = BigInt(`${match[2]}${fraction}` || "0");
  return { units: match[1] === "-" ? -units : units, scale: fraction.length };
}

// units × 10^-scale rounded to cents, half to even.
function roundToCents(units, scale) {
  if (scale <= 2) return units * 10n ** BigInt(2 - scale);
  const divisor = 10n ** BigInt(scale - 2);
  let quotient = units / divisor; // truncates toward zero
  const remainder = units % divisor;
  const twice = (remainder < 0n ? -remainder : remainder) * 2n;
  if (twice > divisor || (twice === divisor && quotient % 2n !== 0n)) quotient += units < 0n ? -1n : 1n;
  return quotient;
}

// A decimal string as cents (rounded half to even if it has more than two places).
export function cents(text) {
  const { units, scale } = parse(text);
  return roundToCents(units, scale);
}

// round(quantity × decimal) in cents.
export function productCents(quantity, text) {
  const { units, scale } = parse(text);
  return roundToCents(BigInt(quantity) * units, scale);
}

// BigInt cents -> "-1234.56", the form money() in format.js takes.
export function centsText(value) {
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString().padStart(3, "0");
  return `${negative ? "-" : ""}${digits.slice(0, -2)}.${digits.slice(-2)}`;
}

// One holding ({ quantity, costBasis, dayBasis } with dayBasis BigInt cents or null) at a quote
// ({ price, previous_close } decimal strings).
export function valuePosition({ quantity, costBasis, dayBasis = null }, quote) {
  const marketValue = productCents(quantity, quote.price);
  const previousValue = dayBasis ?? productCents(quantity, quote.previous_close);
  return {
    marketValue,
    previousValue,
    unrealized: marketValue - costBasis,
    dayChange: marketValue - previousValue,
  };
}

// The account's totals from its cash (cents) and holdings ({ marketValue, previousValue, costBasis }).
export function valueAccount(cash, holdings) {
  let marketValue = 0n;
  let previousValue = 0n;
  let costBasis = 0n;
  for (const holding of holdings) {
    marketValue += holding.marketValue;
    previousValue += holding.previousValue;
    costBasis += holding.costBasis;
  }
  return {
    marketValue,
    equity: cash + marketValue,
    lastEquity: cash + previousValue,
    unrealized: marketValue - costBasis,
    dayChange: marketValue - previousValue,
  };
}
