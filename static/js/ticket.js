// The order ticket shows the price fields its order type uses. Without this script both
// stay on screen and the server ignores the one that does not apply. Which types use a
// field is the server's rule (trading/orders.py PRICE_TYPES), rendered on each price input
// as data-order-types; its bounds and step are the input's min, max and step.

const typeField = document.querySelector(".ticket select[name=type]");

function showPriceFields() {
  for (const input of document.querySelectorAll(".ticket input[data-order-types]")) {
    const row = input.closest(".field");
    if (!row) continue;
    const used = input.dataset.orderTypes.split(" ").includes(typeField.value);
    row.hidden = !used;
    // A field with an error stays visible, so the message is never hidden from its reader.
    if (!used && row.querySelector(".field-error")) row.hidden = false;
    input.required = used;
  }
}

if (typeField) {
  typeField.addEventListener("change", showPriceFields);
  showPriceFields();
}
