// "Share" on the trading pages (a fill on the order confirmation, a position on the portfolio):
// a small picker of the user's conversations, which posts the share to the chat API
// (POST /api/v1/conversations/{id}/messages with fill_id or position_symbol). The button comes
// from chat's {% share_button %} tag with the URLs it needs, so trading's code knows nothing of
// chat. The server checks that the fill or position is the user's own. Names are written as text.

const newClientId = () =>
  Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");

let open = null;

function close() {
  if (!open) return;
  const { dialog, button } = open;
  open = null;
  dialog.remove();
  button.setAttribute("aria-expanded", "false");
  button.focus();
}

function titleOf(conversation, me) {
  if (conversation.kind === "stock") return `$${conversation.symbol}`;
  if (conversation.kind === "direct") {
    const other = (conversation.members || []).find((m) => m.user.username !== me);
    return other ? other.user.username : "Just you";
  }
  return conversation.title || "Untitled group";
}

async function share(button, dialog, conversation, name) {
  const status = dialog.querySelector("[data-share-status]");
  status.textContent = "Sharing…";
  const body = { client_message_id: newClientId() };
  if (button.dataset.shareKind === "position") body.position_symbol = button.dataset.shareValue;
  else body.fill_id = Number(button.dataset.shareValue);
  try {
    const response = await fetch(`${button.dataset.conversationsUrl}/${Number(conversation.id)}/messages`, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": button.dataset.csrf },
      body: JSON.stringify(body),
    });
    if (!response.ok) {
      const error = await response.json().catch(() => ({}));
      status.textContent = error.detail || "Could not share it; try again.";
      return;
    }
    const link = document.createElement("a");
    link.href = button.dataset.conversationUrl.replace("/0/", `/${Number(conversation.id)}/`);
    link.textContent = "Open the conversation";
    status.replaceChildren(`Shared to ${name}. `, link);
    dialog.querySelector("ul")?.remove();
  } catch {
    status.textContent = "Could not share it; try again.";
  }
}

async function openPicker(button) {
  close();
  const dialog = document.createElement("div");
  dialog.className = "share-picker";
  dialog.setAttribute("role", "dialog");
  dialog.setAttribute("aria-label", "Share to a conversation");
  const heading = document.createElement("p");
  heading.className = "share-picker-title";
  heading.textContent = "Share to…";
  const status = document.createElement("p");
  status.className = "share-picker-status muted";
  status.dataset.shareStatus = "";
  status.setAttribute("role", "status");
  status.textContent = "Loading your conversations…";
  dialog.append(heading, status);
  button.after(dialog);
  button.setAttribute("aria-expanded", "true");
  open = { dialog, button };
  try {
    const response = await fetch(button.dataset.conversationsUrl, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    const conversations = response.ok ? await response.json() : [];
    if (!open || open.dialog !== dialog) return;
    if (!conversations.length) {
      status.textContent = "No conversations yet: start one on the chat page.";
      return;
    }
    status.textContent = "";
    const me = document.querySelector(".nav-username")?.textContent.trim() || "";
    const items = document.createElement("ul");
    for (const conversation of conversations) {
      const name = titleOf(conversation, me);
      const item = document.createElement("li");
      const choice = document.createElement("button");
      choice.type = "button";
      choice.dataset.shareTo = String(conversation.id);
      choice.textContent = name;
      choice.addEventListener("click", () => share(button, dialog, conversation, name));
      item.append(choice);
      items.append(item);
    }
    dialog.append(items);
    items.querySelector("button")?.focus();
  } catch {
    status.textContent = "Could not load your conversations.";
  }
}

document.addEventListener("click", (event) => {
  const button = event.target.closest(".share-button[data-share-kind]");
  if (button) {
    event.preventDefault();
    if (open && open.button === button) close();
    else openPicker(button);
    return;
  }
  if (open && !event.target.closest(".share-picker")) close();
});
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape") close();
});
