// The order ticket shows the price fields its order type uses. Without this script both
// stay on screen and the server ignores the one that does not apply.

const NEEDS = {
  limit_price: new Set(["limit", "stop_limit"]),
  stop_price: new Set(["stop", "stop_limit"]),
};

const typeField = document.querySelector(".ticket select[name=type]");

function showPriceFields() {
  for (const [name, types] of Object.entries(NEEDS)) {
    const row = document.querySelector(`.ticket .field-${name}`);
    if (!row) continue;
    const used = types.has(typeField.value);
    row.hidden = !used;
    const input = row.querySelector("input");
    // A field with an error stays visible, so the message is never hidden from its reader.
    if (!used && row.querySelector(".field-error")) row.hidden = false;
    if (input) input.required = used;
  }
}

if (typeField) {
  typeField.addEventListener("change", showPriceFields);
  showPriceFields();
}
