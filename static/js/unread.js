// Unread badges of a conversation list (chat sidebar, dashboard) kept live: the page follows the
// listed conversations, counts others' new messages, moves the busiest to the top, clears a badge
// when the user reads the conversation in another tab, and recounts from the API after a reconnect.

import { getSocket } from "./socket.js";

const list = document.querySelector("[data-conversation-list]");
const PER_FRAME = 100;
const FOLLOWED_AT_MOST = 500;

if (list) {
  const socket = getSocket();
  const myId = Number(list.dataset.userId);
  // The server stops counting at the cap and shows "99+"; live counting stops there too.
  const cap = Number(list.dataset.unreadCap) || 100;
  // The open conversation (chat page) is chat.js's: it is on screen, so it has nothing unread.
  const openId = Number(document.getElementById("message-list")?.dataset.conversationId) || null;
  const itemOf = (id) => list.querySelector(`[data-conversation-id="${Number(id)}"]`);
  const ids = [...list.querySelectorAll("[data-conversation-id]")]
    .map((item) => Number(item.dataset.conversationId))
    .filter((id) => id !== openId)
    .slice(0, FOLLOWED_AT_MOST);

  function setUnread(id, count) {
    const item = itemOf(id);
    if (!item || id === openId) return;
    let badge = item.querySelector("[data-unread]");
    if (!count) {
      badge?.remove();
      return;
    }
    if (!badge) {
      badge = document.createElement("span");
      badge.className = "badge";
      (item.querySelector("[data-badge-slot]") || item).append(badge);
    }
    const capped = Math.min(count, cap);
    badge.dataset.unread = String(capped);
    const hidden = document.createElement("span");
    hidden.className = "visually-hidden";
    hidden.textContent = " unread";
    badge.replaceChildren(capped >= cap ? `${cap - 1}+` : String(capped), hidden);
  }

  // Unread messages that mention the user: a badge of their own ("@2"), before the unread count.
  function setMentions(id, count) {
    const item = itemOf(id);
    if (!item || id === openId) return;
    let badge = item.querySelector("[data-mentions]");
    if (!count) {
      badge?.remove();
      return;
    }
    if (!badge) {
      badge = document.createElement("span");
      badge.className = "badge badge-mention";
      const slot = item.querySelector("[data-badge-slot]") || item;
      slot.insertBefore(badge, slot.querySelector("[data-unread]"));
    }
    const capped = Math.min(count, cap);
    badge.dataset.mentions = String(capped);
    const hidden = document.createElement("span");
    hidden.className = "visually-hidden";
    hidden.textContent = " mentioning you";
    badge.replaceChildren(`@${capped >= cap ? `${cap - 1}+` : capped}`, hidden);
  }
  const mentionsMe = (message) => (message.mentions || []).some((person) => person.id === myId);

  const seen = new Set();
  socket.on("chat.message.created", ({ message }) => {
    const id = message.conversation_id;
    if (id === openId || seen.has(message.id)) return;
    seen.add(message.id);
    const item = itemOf(id);
    if (!item) return;
    // Newest activity first, as the server orders the list.
    item.parentElement.prepend(item);
    const snippet = item.querySelector("[data-snippet]");
    if (snippet) snippet.textContent = `${message.author ? message.author.username : ""}: ${message.body}`;
    if (message.author && message.author.id === myId) return;
    setUnread(id, Number(item.querySelector("[data-unread]")?.dataset.unread || 0) + 1);
    if (mentionsMe(message)) setMentions(id, Number(item.querySelector("[data-mentions]")?.dataset.mentions || 0) + 1);
  });

  socket.on("chat.read.updated", ({ conversation_id: id }) => {
    setUnread(id, 0);
    setMentions(id, 0);
  });
  socket.on("chat.conversation.removed", ({ conversation_id: id }) => itemOf(id)?.remove());

  async function recount() {
    try {
      const response = await fetch("/api/v1/conversations", { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (!response.ok) return;
      for (const conversation of await response.json()) {
        setUnread(conversation.id, conversation.unread_count);
        setMentions(conversation.id, conversation.mention_count);
      }
    } catch {
      // The next reconnect recounts.
    }
  }

  let connectedBefore = false;
  socket.onReady(() => {
    for (let i = 0; i < ids.length; i += PER_FRAME) {
      socket.send({ type: "chat.subscribe", conversation_ids: ids.slice(i, i + PER_FRAME) });
    }
    // Messages that came while the socket was away are counted by the server.
    if (connectedBefore) recount();
    connectedBefore = true;
  });
}
