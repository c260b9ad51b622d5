// Reactions under each message of the open conversation: counts, who reacted (in the button's
// title), a click toggles the reader's own, and every change arrives live for every member.
// Frames carry the message's full counts (chat.message.reactions, and chat.reacted in reply), so
// drawing is "replace with what the server says": a late or repeated frame changes nothing.
// A message's reactions live in its item's data-reactions, which the server's page and chat.js's
// render() both set; this module draws the bar from it whenever an item appears or is redrawn.
// After a reconnect the shown messages are read again over HTTP once the resume is caught up:
// reaction changes to older messages are not replayed by chat.resume.
// Names are only ever written as text.

import { getSocket } from "./socket.js";

const list = document.getElementById("message-list");

if (list) {
  const socket = getSocket();
  const conversationId = Number(list.dataset.conversationId);
  const myId = Number(list.dataset.userId);
  const choices = JSON.parse(list.dataset.reactionChoices || "[]");
  const emojiOf = new Map(choices.map((c) => [c.name, c.emoji]));
  const pending = new Set();
  const REFRESH_PAGE = 200;

  const csrfToken = () => document.querySelector("input[name=csrfmiddlewaretoken]")?.value || "";
  const itemOf = (messageId) => list.querySelector(`li[data-message-id="${Number(messageId)}"]`);

  function title(reaction) {
    const names = (reaction.users || []).map((u) => u.username);
    const more = reaction.count - names.length;
    return `${names.join(", ")}${more > 0 ? ` and ${more} more` : ""} reacted with :${reaction.name}:`;
  }

  function reactionsOf(item) {
    try {
      return JSON.parse(item.dataset.reactions || "[]");
    } catch {
      return [];
    }
  }

  // A smiley with a plus, drawn as SVG so it looks the same whatever emoji font the reader has.
  const SVG = "http://www.w3.org/2000/svg";
  function addIcon() {
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 20 20");
    svg.setAttribute("width", "18");
    svg.setAttribute("height", "18");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    const shapes = [
      ["circle", { cx: "9", cy: "10", r: "6.5" }],
      ["path", { d: "M6.5 11.5c.6 1 1.5 1.5 2.5 1.5s1.9-.5 2.5-1.5" }],
      ["path", { d: "M16.5 1.5v5M14 4h5" }],
    ];
    for (const [tag, attributes] of shapes) {
      const shape = document.createElementNS(SVG, tag);
      for (const [name, value] of Object.entries(attributes)) shape.setAttribute(name, value);
      svg.append(shape);
    }
    for (const cx of ["7", "11"]) {
      const eye = document.createElementNS(SVG, "circle");
      eye.setAttribute("cx", cx);
      eye.setAttribute("cy", "8.5");
      eye.setAttribute("r", ".9");
      eye.setAttribute("class", "eye");
      svg.append(eye);
    }
    return svg;
  }

  function draw(item, reactions) {
    if (reactions) item.dataset.reactions = JSON.stringify(reactions);
    // Under the message's text (chat.js and the page put it in .message-main), else on the item.
    const host = item.querySelector(":scope > .message-main") || item;
    let bar = host.querySelector(":scope > .reactions");
    // The server's page puts the data on its bar; chat.js on the item. A deleted message has neither.
    if (!("reactions" in item.dataset) && bar && "reactions" in bar.dataset) item.dataset.reactions = bar.dataset.reactions;
    if (!("reactions" in item.dataset)) {
      bar?.remove();
      return;
    }
    if (!bar) {
      bar = document.createElement("div");
      bar.className = "reactions";
      host.append(bar);
    }
    const buttons = reactionsOf(item).map((reaction) => {
      const mine = (reaction.users || []).some((u) => u.id === myId);
      const button = document.createElement("button");
      button.type = "button";
      button.className = mine ? "reaction mine" : "reaction";
      button.dataset.reaction = reaction.name;
      button.setAttribute("aria-pressed", String(mine));
      button.title = title(reaction);
      button.setAttribute("aria-label", button.title);
      const emoji = document.createElement("span");
      emoji.className = "reaction-emoji";
      emoji.setAttribute("aria-hidden", "true");
      emoji.textContent = reaction.emoji || emojiOf.get(reaction.name) || reaction.name;
      const count = document.createElement("span");
      count.className = "reaction-count";
      count.textContent = String(reaction.count);
      button.append(emoji, " ", count);
      return button;
    });
    const add = document.createElement("button");
    add.type = "button";
    add.className = "reaction-add";
    add.dataset.reactionAdd = "";
    add.setAttribute("aria-label", "Add a reaction");
    add.setAttribute("aria-haspopup", "true");
    add.title = "Add a reaction";
    add.append(addIcon());
    // A live update while the picker is open keeps it open.
    const keep = picker && picker.parentElement === bar ? [picker] : [];
    add.setAttribute("aria-expanded", String(keep.length > 0));
    bar.replaceChildren(...buttons, add, ...keep);
  }

  function drawAll(root) {
    for (const item of root.querySelectorAll ? root.querySelectorAll("li[data-message-id]") : []) draw(item);
  }

  // --- toggling --------------------------------------------------------------------------------

  async function overHttp(messageId, name, on) {
    const url = list.dataset.reactionUrl.replace("/0/", `/${Number(messageId)}/`).replace("REACTION", name);
    try {
      const response = await fetch(url, {
        method: on ? "PUT" : "DELETE",
        credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRFToken": csrfToken() },
      });
      if (response.ok) {
        const body = await response.json();
        const item = itemOf(body.message_id);
        if (item) draw(item, body.reactions);
      }
    } catch {
      // The next click tries again.
    }
  }

  function toggle(messageId, name, on) {
    const ref = socket.send({ type: "chat.react", message_id: messageId, reaction: name, on });
    if (ref === null) overHttp(messageId, name, on);
    else pending.add(ref);
  }

  let picker = null;
  function closePicker() {
    picker?.previousElementSibling?.setAttribute("aria-expanded", "false");
    picker?.remove();
    picker = null;
  }

  function openPicker(button, messageId) {
    closePicker();
    picker = document.createElement("div");
    picker.className = "reaction-picker";
    picker.setAttribute("role", "menu");
    picker.setAttribute("aria-label", "Reactions");
    const mine = new Set(
      reactionsOf(itemOf(messageId))
        .filter((r) => (r.users || []).some((u) => u.id === myId))
        .map((r) => r.name),
    );
    for (const choice of choices) {
      const option = document.createElement("button");
      option.type = "button";
      option.setAttribute("role", "menuitem");
      option.dataset.reactionChoice = choice.name;
      option.title = `:${choice.name}:`;
      option.setAttribute("aria-label", choice.name.replace("_", " "));
      option.textContent = choice.emoji;
      option.addEventListener("click", () => {
        toggle(messageId, choice.name, !mine.has(choice.name));
        closePicker();
        button.focus();
      });
      picker.append(option);
    }
    button.after(picker);
    button.setAttribute("aria-expanded", "true");
    picker.querySelector("button")?.focus();
  }

  list.addEventListener("click", (event) => {
    const button = event.target.closest("button");
    const item = button?.closest("li[data-message-id]");
    if (!button || !item) return;
    const messageId = Number(item.dataset.messageId);
    if ("reactionAdd" in button.dataset) {
      event.preventDefault();
      if (picker && picker.previousElementSibling === button) closePicker();
      else openPicker(button, messageId);
    } else if (button.classList.contains("reaction")) {
      event.preventDefault();
      toggle(messageId, button.dataset.reaction, button.getAttribute("aria-pressed") !== "true");
    }
  });
  document.addEventListener("click", (event) => {
    if (picker && !event.target.closest(".reaction-picker, [data-reaction-add]")) closePicker();
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && picker) {
      const opener = picker.previousElementSibling;
      closePicker();
      opener?.focus();
    }
  });

  // --- live --------------------------------------------------------------------------------

  socket.on("chat.message.reactions", ({ conversation_id: id, message_id: messageId, reactions }) => {
    if (id !== conversationId) return;
    const item = itemOf(messageId);
    if (item) draw(item, reactions);
  });
  socket.on("chat.reacted", ({ ref, message_id: messageId, reactions }) => {
    if (!pending.delete(ref)) return;
    const item = itemOf(messageId);
    if (item) draw(item, reactions);
  });
  socket.on("error", ({ ref }) => {
    pending.delete(ref);
  });

  // Items added or redrawn by chat.js (live messages, older pages, edits) get their bar.
  new MutationObserver((mutations) => {
    for (const mutation of mutations) {
      for (const node of mutation.addedNodes) {
        if (node.nodeType !== Node.ELEMENT_NODE) continue;
        if (node.matches("li[data-message-id]")) draw(node);
        else drawAll(node);
      }
    }
  }).observe(list, { childList: true });
  drawAll(list);

  // --- after a reconnect: read the shown messages again -------------------------------------------

  let wasOnline = false;
  let behind = false;
  socket.onStatus((status) => {
    if (status === "online") wasOnline = true;
    else if (wasOnline) behind = true;
  });

  async function refresh() {
    const shown = [...list.querySelectorAll("li[data-message-id]")].map((li) => Number(li.dataset.messageId));
    if (!shown.length) return;
    const newest = Math.max(...shown);
    const url = `${list.dataset.historyUrl}?before=${newest + 1}&limit=${REFRESH_PAGE}`;
    try {
      const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (!response.ok) return;
      for (const message of (await response.json()).results || []) {
        const item = itemOf(message.id);
        if (item && !message.deleted) draw(item, message.reactions || []);
      }
    } catch {
      behind = true;
    }
  }

  socket.on("chat.resumed", ({ conversation_ids: ids, more }) => {
    if (!behind || !ids || !ids.includes(conversationId) || (more && more.includes(conversationId))) return;
    behind = false;
    refresh();
  });
}
