// The open conversation, live: missed messages on every (re)connect through chat.resume (page
// after page while the reply lists the conversation in `more`), new messages appended in order
// of seq and never twice (one that arrives after a hole waits until the resume fills the hole),
// older ones loaded on scrolling back, the composer over the socket, typing, presence and the
// member list.
// Message text is only ever set with textContent: bodies are plain text, never HTML. A
// mentioned stock the reader may see ($ACME, listed in the message's `symbols`) becomes a link
// built as an element, the rest of the body text nodes around it.

import { renderAttachments, setupAttachments } from "./attachments.js";
import { timeElement } from "./format.js";
import "./reactions.js";
import { shareCard } from "./share-card.js";
import { getSocket } from "./socket.js";

// crypto.randomUUID needs a secure context; getRandomValues works on plain http too.
const newClientId = () =>
  Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");

const list = document.getElementById("message-list");
const composer = document.getElementById("composer");
const typingLine = document.getElementById("typing-indicator");

if (list) {
  const socket = getSocket();
  const conversationId = Number(list.dataset.conversationId);
  const myId = Number(list.dataset.userId);
  const TYPING_SHOW_MS = 5000;
  const TYPING_SEND_EVERY_MS = 2000;

  const known = new Set([...list.querySelectorAll("[data-message-id]")].map((li) => Number(li.dataset.messageId)));
  const seqs = [...list.querySelectorAll("[data-seq]")].map((li) => Number(li.dataset.seq));
  // The last message held in sequence (no hole before it): what chat.resume starts after.
  let lastId = Number(list.dataset.lastMessageId) || 0;
  let lastSeq = seqs.length ? Math.max(...seqs) : 0;
  // Messages that arrived after a hole, by seq: shown once the hole is filled. The server never
  // sends a message twice, so dropping one here would lose it until a reload.
  const pending = new Map();
  let resuming = false;
  let resumeRef = null;
  const RESUME_RETRY_MS = 1000;

  const scrollToEnd = () => {
    list.scrollTop = list.scrollHeight;
  };
  scrollToEnd();

  // The same rules as chat.selectors.SYMBOL_MENTION / USER_MENTION (a trailing dot is
  // punctuation) and the server-rendered body (chat_format.message_body).
  const SYMBOL_MENTION = /(?<![\p{L}\p{N}_$])\$([A-Z][A-Z0-9.]{0,9})/gu;
  const USER_MENTION = /(?<![\p{L}\p{N}_.@+-])@([\p{L}\p{N}_.@+-]{1,150})/gu;
  const stockUrl = (symbol) => list.dataset.stockUrl.replace("SYMBOL", encodeURIComponent(symbol));

  // The body as nodes: text, links for the stocks in `symbols`, highlighted @names of `mentions`.
  function richBody(text, symbols, mentions) {
    const linked = new Set(symbols);
    const named = new Map((mentions || []).map((person) => [person.username.toLowerCase(), person.id]));
    const tokens = [];
    for (const match of text.matchAll(SYMBOL_MENTION)) {
      const symbol = match[1].replace(/\.+$/, "");
      if (linked.has(symbol)) tokens.push({ start: match.index, end: match.index + 1 + symbol.length, symbol });
    }
    for (const match of text.matchAll(USER_MENTION)) {
      const name = match[1].replace(/\.+$/, "");
      if (named.has(name.toLowerCase())) tokens.push({ start: match.index, end: match.index + 1 + name.length, name });
    }
    tokens.sort((a, b) => a.start - b.start);
    const nodes = [];
    let start = 0;
    for (const token of tokens) {
      if (token.start < start) continue;
      nodes.push(document.createTextNode(text.slice(start, token.start)));
      if (token.symbol) {
        const link = document.createElement("a");
        link.href = stockUrl(token.symbol);
        link.textContent = `$${token.symbol}`;
        nodes.push(link);
      } else {
        const mention = document.createElement("span");
        mention.className = named.get(token.name.toLowerCase()) === myId ? "mention mention-me" : "mention";
        mention.textContent = `@${token.name}`;
        nodes.push(mention);
      }
      start = token.end;
    }
    nodes.push(document.createTextNode(text.slice(start)));
    return nodes;
  }

  // As chat_format.initials and avatar: the same letters and colour for a person everywhere.
  const AVATAR_COLOURS = 12;
  function initials(username) {
    const parts = username.split(/[._+@-]+/).filter(Boolean);
    if (parts.length >= 2) return (parts[0][0] + parts[1][0]).toUpperCase();
    return (parts[0] ? parts[0].slice(0, 2) : "?").toUpperCase();
  }
  function avatar(author) {
    const element = document.createElement("span");
    element.setAttribute("aria-hidden", "true");
    element.className = author ? `avatar avatar-c${author.id % AVATAR_COLOURS}` : "avatar avatar-none";
    element.textContent = author ? initials(author.username) : "?";
    return element;
  }

  function quoteElement(quote) {
    const link = document.createElement("a");
    link.className = "reply-quote";
    link.href = `#message-${Number(quote.id)}`;
    link.dataset.replyTo = String(quote.id);
    const who = document.createElement("span");
    who.className = "reply-author";
    who.textContent = quote.author ? quote.author.username : "(deleted user)";
    const excerpt = document.createElement("span");
    excerpt.className = "reply-excerpt";
    excerpt.textContent = quote.deleted ? "(message deleted)" : quote.excerpt;
    link.append(who, " ", excerpt);
    return link;
  }

  function render(message) {
    const item = document.createElement("li");
    item.className = "chat-message";
    if (message.author && message.author.id === myId) item.classList.add("mine");
    if (message.deleted) item.classList.add("deleted");
    else if ((message.mentions || []).some((person) => person.id === myId)) item.classList.add("mentions-me");
    item.id = `message-${Number(message.id)}`;
    item.dataset.messageId = String(message.id);
    item.dataset.seq = String(message.seq);
    item.dataset.authorId = message.author ? String(message.author.id) : "";
    item.dataset.createdAt = message.created_at;
    const main = document.createElement("div");
    main.className = "message-main";
    const header = document.createElement("div");
    header.className = "message-header";
    const author = document.createElement("span");
    author.className = "author";
    author.textContent = message.author ? message.author.username : "(deleted user)";
    header.append(author, " ", timeElement(message.created_at));
    if (message.edited_at && !message.deleted) {
      const edited = document.createElement("span");
      edited.className = "edited muted";
      edited.textContent = "(edited)";
      header.append(" ", edited);
    }
    main.append(header);
    if (message.reply_to) main.append(quoteElement(message.reply_to));
    item.append(avatar(message.author), main);
    if (message.deleted) {
      const body = document.createElement("p");
      body.className = "body muted tombstone";
      body.textContent = "(message deleted)";
      main.append(body);
      return item;
    }
    const card = shareCard(message, stockUrl);
    if (card) main.append(card);
    if (message.body) {
      const body = document.createElement("p");
      body.className = "body";
      body.append(...richBody(message.body, message.symbols || [], message.mentions));
      main.append(body);
    }
    if (message.attachments && message.attachments.length) main.append(renderAttachments(message.attachments));
    // reactions.js draws the reaction bar from this (and keeps it live).
    item.dataset.reactions = JSON.stringify(message.reactions || []);
    return item;
  }

  // --- reading: grouping, day separators, the "new" line, jump to latest ---------------------------

  // One author's messages within GROUP_MS of each other share a header (avatar, name, time);
  // a day separator, in the reader's time zone, goes before the first message of each day.
  const GROUP_MS = 5 * 60 * 1000;
  const dayKey = (date) => `${date.getFullYear()}-${date.getMonth()}-${date.getDate()}`;
  function dayLabel(date) {
    const today = new Date();
    const yesterday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1);
    if (dayKey(date) === dayKey(today)) return "Today";
    if (dayKey(date) === dayKey(yesterday)) return "Yesterday";
    const options = { weekday: "long", month: "long", day: "numeric" };
    if (date.getFullYear() !== today.getFullYear()) options.year = "numeric";
    return date.toLocaleDateString("en-US", options);
  }
  const shortTime = (date) => date.toLocaleTimeString("en-US", { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });

  function layout() {
    for (const divider of list.querySelectorAll(":scope > .day-divider")) divider.remove();
    let previous = null;
    let previousDay = null;
    for (const item of list.querySelectorAll(":scope > .chat-message, :scope > .new-divider")) {
      if (item.classList.contains("new-divider")) {
        previous = null;
        continue;
      }
      const created = new Date(item.dataset.createdAt);
      const day = dayKey(created);
      if (day !== previousDay) {
        const divider = document.createElement("li");
        divider.className = "day-divider";
        divider.setAttribute("role", "separator");
        const label = document.createElement("span");
        label.textContent = dayLabel(created);
        divider.append(label);
        (item.previousElementSibling?.classList.contains("new-divider") ? item.previousElementSibling : item).before(
          divider,
        );
        previous = null;
        previousDay = day;
      }
      const continued =
        previous !== null &&
        item.dataset.authorId !== "" &&
        item.dataset.authorId === previous.dataset.authorId &&
        created - new Date(previous.dataset.createdAt) < GROUP_MS;
      item.classList.toggle("continued", continued);
      let gutter = item.querySelector(":scope > .gutter-time");
      if (continued && !gutter) {
        gutter = document.createElement("span");
        gutter.className = "gutter-time";
        gutter.setAttribute("aria-hidden", "true");
        gutter.textContent = shortTime(created);
        item.prepend(gutter);
      } else if (!continued) gutter?.remove();
      previous = item;
    }
  }

  // The reader's read marker as the page was opened: a line before the first newer message by
  // someone else. It stays where it is while the page is open.
  function drawNewLine() {
    if (!("readMarker" in list.dataset) || list.querySelector(".new-divider")) return;
    const marker = Number(list.dataset.readMarker) || 0;
    const first = [...list.querySelectorAll(":scope > .chat-message")].find(
      (item) => Number(item.dataset.messageId) > marker && Number(item.dataset.authorId) !== myId,
    );
    if (!first) return;
    const line = document.createElement("li");
    line.className = "new-divider";
    line.setAttribute("role", "separator");
    line.setAttribute("aria-label", "New messages");
    const label = document.createElement("span");
    label.textContent = "New";
    line.append(label);
    first.before(line);
  }

  const jumpButton = document.getElementById("jump-latest");
  const JUMP_SHOWN_FROM_PX = 240;
  function updateJump() {
    if (!jumpButton) return;
    jumpButton.hidden = list.scrollHeight - list.scrollTop - list.clientHeight < JUMP_SHOWN_FROM_PX;
  }
  jumpButton?.addEventListener("click", () => {
    list.scrollTo({ top: list.scrollHeight });
    list.focus({ preventScroll: true });
  });
  list.addEventListener("scroll", updateJump, { passive: true });

  layout();
  drawNewLine();
  layout();
  // Opened with unread messages: start at the line, not below them.
  list.querySelector(".new-divider")?.scrollIntoView({ block: "start" });
  updateJump();

  // One chat.read for the newest message shown, not one per message: a resume brings hundreds.
  let readUpTo = 0;
  let readTimer = null;
  function markRead(messageId) {
    readUpTo = Math.max(readUpTo, messageId);
    if (readTimer !== null) return;
    readTimer = window.setTimeout(() => {
      readTimer = null;
      if (document.visibilityState === "visible") {
        socket.send({ type: "chat.read", conversation_id: conversationId, message_id: readUpTo });
      }
    }, 250);
  }

  function resume() {
    resumeRef = socket.send({ type: "chat.resume", conversations: { [conversationId]: lastId } });
    // Not connected: the next "ready" resumes.
    resuming = resumeRef !== null;
  }

  function show(message) {
    known.add(message.id);
    list.querySelector("[data-empty-note]")?.remove();
    const atEnd = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
    list.append(render(message));
    layout();
    if (message.seq > lastSeq) {
      lastSeq = message.seq;
      lastId = message.id;
    }
    if (atEnd || (message.author && message.author.id === myId)) scrollToEnd();
    updateJump();
    if (message.author && message.author.id !== myId) {
      hideTyping(message.author.username);
      markRead(message.id);
    }
  }

  // Shows what waited behind a hole that is now filled; forgets what is already shown.
  function showPending() {
    for (const seq of [...pending.keys()].sort((a, b) => a - b)) {
      if (seq > lastSeq + 1) break;
      const message = pending.get(seq);
      pending.delete(seq);
      if (!known.has(message.id)) show(message);
    }
  }

  function add(message) {
    if (message.conversation_id !== conversationId || known.has(message.id)) return;
    if (message.seq > lastSeq + 1) {
      // A hole: something was missed. Keep this one; chat.resume brings the rest, in order.
      pending.set(message.seq, message);
      if (!resuming) resume();
      return;
    }
    show(message);
    showPending();
  }

  socket.onReady(resume);
  socket.on("chat.resumed", ({ conversation_ids: ids, more, ref }) => {
    if (!ids || !ids.includes(conversationId) || ref !== resumeRef) return;
    if (more && more.includes(conversationId)) {
      // One page of a long backlog: ask for the next, from the last message now in sequence.
      resume();
      return;
    }
    resuming = false;
    resumeRef = null;
    showPending();
    // Still a hole (a message lost live while this resume was read): resume again.
    if (pending.size) resume();
    announcePresence();
  });
  socket.on("error", ({ ref, code }) => {
    if (ref === null || ref !== resumeRef) return;
    resumeRef = null;
    resuming = false;
    // The socket's frame budget is spent: ask again in a moment.
    if (code === "rate_limited") window.setTimeout(resume, RESUME_RETRY_MS);
  });
  socket.on("chat.message.created", ({ message }) => add(message));
  socket.on("chat.message.deleted", ({ message }) => replaceMessage(message));
  socket.on("chat.message.edited", ({ message }) => replaceMessage(message));

  // An edited or deleted message, shown anew; the replies that quote it follow.
  function replaceMessage(message) {
    if (message.conversation_id !== conversationId) return;
    const item = list.querySelector(`[data-message-id="${Number(message.id)}"]`);
    if (!item) return;
    // A message being edited here keeps its editor until it is saved or cancelled.
    if (item.querySelector(".edit-form") && !message.deleted) {
      item.dataset.pendingUpdate = JSON.stringify(message);
      return;
    }
    item.replaceWith(render(message));
    for (const excerpt of list.querySelectorAll(`.reply-quote[data-reply-to="${Number(message.id)}"] .reply-excerpt`)) {
      excerpt.textContent = message.deleted ? "(message deleted)" : excerptOf(message.body);
    }
    layout();
  }
  // As chat.selectors.reply_excerpt.
  const EXCERPT_LENGTH = 140;
  function excerptOf(body) {
    const text = body.split(/\s+/).filter(Boolean).join(" ");
    return text.length <= EXCERPT_LENGTH ? text : `${text.slice(0, EXCERPT_LENGTH - 1).trimEnd()}…`;
  }

  // --- older messages, on scrolling back ------------------------------------------------------

  const OLDER_PAGE = 50;
  const olderLine = document.querySelector("[data-older]");
  let hasOlder = "hasOlder" in list.dataset;
  let loadingOlder = null;

  // One page of older messages; while one is loading, the same promise.
  function loadOlder() {
    if (loadingOlder === null) loadingOlder = readOlder().finally(() => (loadingOlder = null));
    return loadingOlder;
  }

  async function readOlder() {
    const first = list.querySelector("[data-message-id]");
    if (!hasOlder || !first) return;
    list.setAttribute("aria-busy", "true");
    try {
      const url = `${list.dataset.historyUrl}?before=${Number(first.dataset.messageId)}&limit=${OLDER_PAGE}`;
      const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (!response.ok) return;
      const body = await response.json();
      // Keep the messages on screen where they are while the older ones go in above them.
      const fromBottom = list.scrollHeight - list.scrollTop;
      const older = document.createDocumentFragment();
      for (const message of body.results || []) {
        if (known.has(message.id)) continue;
        known.add(message.id);
        older.append(render(message));
      }
      (first.previousElementSibling?.classList.contains("day-divider") ? first.previousElementSibling : first).before(
        older,
      );
      layout();
      list.scrollTop = list.scrollHeight - fromBottom;
      hasOlder = Boolean(body.previous);
      list.dataset.olderLoaded = String(Number(list.dataset.olderLoaded || 0) + (body.results || []).length);
      if (!hasOlder && olderLine) olderLine.hidden = true;
    } catch {
      // Scrolling back up tries again.
    } finally {
      list.removeAttribute("aria-busy");
    }
  }

  list.addEventListener("scroll", () => {
    if (list.scrollTop < 80) loadOlder();
  });
  // Without the script the link opens the older page; with it, the messages come in above.
  olderLine?.querySelector("a")?.addEventListener("click", (event) => {
    event.preventDefault();
    loadOlder();
  });

  // --- writing: actions on a message (reply, edit, delete), quotes that lead to what they answer --

  const csrfToken = () => document.querySelector("input[name=csrfmiddlewaretoken]")?.value || "";
  const moderator = "moderator" in list.dataset;
  const messageUrl = (id) => `/api/v1/messages/${Number(id)}`;

  async function callMessage(id, method, body, query = "") {
    const response = await fetch(`${messageUrl(id)}${query}`, {
      method,
      credentials: "same-origin",
      headers: { Accept: "application/json", "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = response.status === 204 ? null : await response.json().catch(() => null);
    if (!response.ok) throw new Error((data && data.detail) || "That did not work; try again.");
    return data;
  }
  // The message as the server has it now (after a delete, whose answer has no body).
  const refresh = async (id) => replaceMessage(await callMessage(id, "GET"));

  // One toolbar, moved to the message under the pointer or focus (as Slack and Zulip do).
  const actionBar = document.createElement("div");
  actionBar.className = "message-actions";
  actionBar.setAttribute("role", "toolbar");
  actionBar.setAttribute("aria-label", "Message actions");
  const actionButton = (action, label) => {
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.action = action;
    button.textContent = label;
    return button;
  };
  const replyButton = actionButton("reply", "Reply");
  const editButton = actionButton("edit", "Edit");
  const deleteButton = actionButton("delete", "Delete");
  actionBar.append(replyButton, editButton, deleteButton);

  function offerActions(item) {
    if (!item || item.classList.contains("deleted") || item.querySelector(".edit-form, .delete-confirm")) {
      if (item?.classList.contains("deleted") && actionBar.parentElement === item) actionBar.remove();
      return;
    }
    const mine = Number(item.dataset.authorId) === myId;
    editButton.hidden = !mine || !item.querySelector(".body");
    deleteButton.hidden = !mine && !moderator;
    replyButton.hidden = !composer;
    actionBar.setAttribute("aria-label", `Actions on the message by ${item.querySelector(".author")?.textContent || "someone"}`);
    if (actionBar.parentElement !== item) item.append(actionBar);
  }
  list.addEventListener("pointerover", (event) => offerActions(event.target.closest(".chat-message")));
  list.addEventListener("focusin", (event) => offerActions(event.target.closest(".chat-message")));
  list.addEventListener("click", (event) => {
    const quote = event.target.closest(".reply-quote");
    if (quote) {
      event.preventDefault();
      jumpTo(Number(quote.dataset.replyTo));
      return;
    }
    const button = event.target.closest(".message-actions button");
    const item = event.target.closest(".chat-message");
    if (!button || !item) return;
    if (button.dataset.action === "reply") startReply(item);
    else if (button.dataset.action === "edit") startEdit(item);
    else if (button.dataset.action === "delete") confirmDelete(item);
  });

  async function jumpTo(id) {
    let target = list.querySelector(`[data-message-id="${id}"]`);
    // Older than what is shown: load pages back until it is there (or there is nothing older).
    while (!target && hasOlder) {
      const first = list.querySelector("[data-message-id]")?.dataset.messageId;
      await loadOlder();
      target = list.querySelector(`[data-message-id="${id}"]`);
      if (list.querySelector("[data-message-id]")?.dataset.messageId === first) break;
    }
    if (!target) return;
    target.scrollIntoView({ block: "center" });
    target.classList.remove("flash");
    // Restarts the highlight animation when the same quote is followed twice.
    void target.offsetWidth;
    target.classList.add("flash");
  }

  function startEdit(item) {
    const body = item.querySelector(".body");
    if (!body || item.querySelector(".edit-form")) return;
    actionBar.remove();
    const form = document.createElement("form");
    form.className = "edit-form";
    const field = document.createElement("textarea");
    field.value = body.textContent;
    field.rows = Math.min(8, field.value.split("\n").length + 1);
    field.setAttribute("aria-label", "Edit the message");
    field.maxLength = Number(composer?.querySelector("textarea")?.maxLength) || 4000;
    const save = document.createElement("button");
    save.type = "submit";
    save.className = "button button-small";
    save.textContent = "Save";
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "link-button";
    cancel.textContent = "Cancel";
    const hint = document.createElement("span");
    hint.className = "muted";
    hint.textContent = "Enter saves, Escape cancels";
    const problem = document.createElement("p");
    problem.className = "form-errors";
    problem.setAttribute("role", "alert");
    problem.hidden = true;
    const row = document.createElement("div");
    row.className = "edit-actions";
    row.append(save, cancel, hint);
    form.append(field, row, problem);
    body.hidden = true;
    body.after(form);
    field.focus();
    field.setSelectionRange(field.value.length, field.value.length);

    const close = () => {
      form.remove();
      body.hidden = false;
      const pending = item.dataset.pendingUpdate;
      delete item.dataset.pendingUpdate;
      if (pending) replaceMessage(JSON.parse(pending));
    };
    cancel.addEventListener("click", close);
    field.addEventListener("keydown", (event) => {
      if (event.key === "Escape") close();
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      save.disabled = true;
      try {
        const message = await callMessage(item.dataset.messageId, "PATCH", { body: field.value });
        delete item.dataset.pendingUpdate;
        form.remove();
        replaceMessage(message);
      } catch (failure) {
        problem.textContent = failure.message;
        problem.hidden = false;
        save.disabled = false;
      }
    });
  }

  function confirmDelete(item) {
    if (item.querySelector(".delete-confirm")) return;
    actionBar.remove();
    const mine = Number(item.dataset.authorId) === myId;
    const box = document.createElement("div");
    box.className = "delete-confirm";
    box.setAttribute("role", "group");
    box.setAttribute("aria-label", "Delete the message?");
    const question = document.createElement("span");
    question.textContent = mine ? "Delete this message?" : "Delete this message as a moderator?";
    const yes = document.createElement("button");
    yes.type = "button";
    yes.className = "button button-small button-danger";
    yes.textContent = "Delete";
    const no = document.createElement("button");
    no.type = "button";
    no.className = "link-button";
    no.textContent = "Cancel";
    box.append(question, yes, no);
    item.querySelector(".message-main").append(box);
    yes.focus();
    no.addEventListener("click", () => box.remove());
    box.addEventListener("keydown", (event) => {
      if (event.key === "Escape") box.remove();
    });
    yes.addEventListener("click", async () => {
      yes.disabled = true;
      try {
        await callMessage(item.dataset.messageId, "DELETE", undefined, mine ? "" : "?moderate=true");
        await refresh(item.dataset.messageId);
      } catch (failure) {
        question.textContent = failure.message;
        yes.disabled = false;
      }
    });
  }

  // The composer's reply target (set by "Reply"; sent as reply_to, cleared once sent).
  const replyBar = document.getElementById("reply-bar");
  let replyTarget = null;
  function startReply(item) {
    if (!replyBar || !composer) return;
    const author = item.querySelector(".author")?.textContent || "";
    const text = item.querySelector(".body")?.textContent || item.querySelector(".shared-fill")?.textContent || "";
    replyTarget = Number(item.dataset.messageId);
    const label = replyBar.querySelector(".reply-bar-text");
    const who = document.createElement("strong");
    who.textContent = author;
    const excerpt = document.createElement("span");
    excerpt.className = "reply-excerpt";
    excerpt.textContent = excerptOf(text);
    label.replaceChildren("Replying to ", who, " ", excerpt);
    replyBar.hidden = false;
    composer.querySelector("textarea").focus();
  }
  function clearReply() {
    replyTarget = null;
    if (replyBar) replyBar.hidden = true;
  }
  replyBar?.querySelector("[data-reply-cancel]")?.addEventListener("click", () => {
    clearReply();
    composer?.querySelector("textarea")?.focus();
  });

  // --- presence and members ---------------------------------------------------------------------

  const memberList = document.getElementById("member-list");
  const PRESENCE_EVERY_MS = 50000;
  const PRESENCE_FORGET_MS = 130000;
  const PRESENCE_REPLY_DELAY_MS = 500;
  const PRESENCE_LABELS = { online: "online", away: "away", offline: "offline" };
  const forgetTimers = new Map();
  let replyTimer = null;

  // Only where members are listed (direct and group conversations): a stock room can be large,
  // and every announcement goes to every member.
  function announcePresence() {
    if (!memberList) return;
    const status = document.visibilityState === "visible" ? "online" : "away";
    socket.send({ type: "chat.presence", status, conversation_ids: [conversationId] });
  }
  window.setInterval(announcePresence, PRESENCE_EVERY_MS);
  document.addEventListener("visibilitychange", announcePresence);

  function showPresence(userId, status) {
    const dot = memberList?.querySelector(`[data-member-id="${Number(userId)}"] .presence`);
    if (!dot) return;
    dot.dataset.presence = status;
    dot.setAttribute("aria-label", PRESENCE_LABELS[status] || "status unknown");
  }

  socket.on("chat.presence", ({ conversation_id: id, user, status }) => {
    if (id !== conversationId || !user) return;
    if (user.id === myId) {
      // Another tab of mine closed: this one is still here.
      if (status === "offline") announcePresence();
      return;
    }
    const dot = memberList?.querySelector(`[data-member-id="${Number(user.id)}"] .presence`);
    const wasHere = dot && (dot.dataset.presence === "online" || dot.dataset.presence === "away");
    showPresence(user.id, status);
    window.clearTimeout(forgetTimers.get(user.id));
    if (status === "offline") return;
    // Not heard of for a while: gone without saying so.
    forgetTimers.set(user.id, window.setTimeout(() => showPresence(user.id, "offline"), PRESENCE_FORGET_MS));
    // Someone who just arrived has not heard from this tab yet: answer once, a moment later, so
    // several arrivals share one answer.
    if (dot && !wasHere && replyTimer === null) {
      replyTimer = window.setTimeout(() => {
        replyTimer = null;
        announcePresence();
      }, PRESENCE_REPLY_DELAY_MS + Math.random() * PRESENCE_REPLY_DELAY_MS);
    }
  });

  const memberCount = document.querySelector("[data-member-count]");
  function countMembers() {
    if (!memberCount || !memberList) return;
    memberCount.textContent = String(memberList.querySelectorAll("[data-member-id]").length);
  }

  socket.on("chat.member.joined", ({ conversation_id: id, member }) => {
    if (id !== conversationId || !memberList || !member) return;
    if (memberList.querySelector(`[data-member-id="${Number(member.user.id)}"]`)) return;
    const item = document.createElement("li");
    item.dataset.memberId = String(member.user.id);
    const dot = document.createElement("span");
    dot.className = "presence";
    dot.dataset.presence = "unknown";
    dot.setAttribute("role", "img");
    dot.setAttribute("aria-label", "status unknown");
    const name = document.createElement("span");
    name.className = "member-name";
    name.textContent = member.user.username;
    item.append(dot, " ", name);
    memberList.append(item);
    countMembers();
  });

  socket.on("chat.member.left", ({ conversation_id: id, member }) => {
    if (id !== conversationId || !member) return;
    memberList?.querySelector(`[data-member-id="${Number(member.user.id)}"]`)?.remove();
    countMembers();
  });

  // --- typing -------------------------------------------------------------------------------

  const typers = new Map();
  function showTypers() {
    const names = [...typers.keys()];
    typingLine.textContent = names.length ? `${names.join(", ")} ${names.length > 1 ? "are" : "is"} typing…` : "";
  }
  function hideTyping(username) {
    if (!typers.has(username)) return;
    window.clearTimeout(typers.get(username));
    typers.delete(username);
    showTypers();
  }
  socket.on("chat.typing", ({ conversation_id: id, user }) => {
    if (id !== conversationId || !user || user.id === myId || !typingLine) return;
    window.clearTimeout(typers.get(user.username));
    typers.set(user.username, window.setTimeout(() => hideTyping(user.username), TYPING_SHOW_MS));
    showTypers();
  });

  // --- composer -------------------------------------------------------------------------------

  if (composer) {
    const textarea = composer.querySelector("textarea");
    const idField = composer.querySelector("input[name=client_message_id]");
    const button = composer.querySelector("button[type=submit]");
    let pendingRef = null;
    let lastTyping = 0;

    const error = document.createElement("p");
    error.className = "form-errors";
    error.setAttribute("role", "alert");
    error.hidden = true;
    composer.after(error);

    // A message may be attachments alone; Send waits for uploads still running.
    const attached = setupAttachments({
      composer,
      conversationId,
      onChange: () => {
        textarea.required = attached.count() === 0;
        button.disabled = pendingRef !== null || attached.busy();
      },
    });

    textarea.addEventListener("input", () => {
      const now = Date.now();
      if (now - lastTyping > TYPING_SEND_EVERY_MS && textarea.value.trim()) {
        lastTyping = now;
        socket.send({ type: "chat.typing", conversation_id: conversationId });
      }
    });
    const picker = mentionPicker(textarea);
    const draft = draftKeeper(textarea);
    textarea.addEventListener("keydown", (event) => {
      if (picker.handleKey(event)) return;
      if (event.key === "Escape" && replyTarget !== null) clearReply();
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        composer.requestSubmit();
      }
    });
    composer.addEventListener("submit", (event) => {
      // Without a live socket the form posts as a plain page would (a refused post comes back
      // with the text in the composer).
      if (!socket.ready) {
        draft.clear();
        return;
      }
      event.preventDefault();
      // A blank message goes too: the server's refusal is shown like any other, never dropped.
      if (pendingRef !== null) return;
      error.hidden = true;
      pendingRef = socket.send({
        type: "chat.send",
        conversation_id: conversationId,
        body: textarea.value,
        client_message_id: idField.value,
        ...(attached.count() ? { attachment_ids: attached.ids() } : {}),
        ...(replyTarget === null ? {} : { reply_to: replyTarget }),
      });
      if (pendingRef !== null) button.disabled = true;
    });
    socket.on("chat.sent", ({ ref, message }) => {
      if (ref !== pendingRef) return;
      pendingRef = null;
      button.disabled = false;
      textarea.value = "";
      attached.clear();
      draft.clear();
      clearReply();
      idField.value = newClientId();
      add(message);
      textarea.focus();
    });
    socket.on("error", ({ ref, detail }) => {
      if (ref === null || ref !== pendingRef) return;
      // The draft stays; the same client_message_id makes a retry safe.
      pendingRef = null;
      button.disabled = false;
      error.textContent = detail;
      error.hidden = false;
    });
    socket.on("chat.conversation.removed", ({ conversation_id: id }) => {
      if (id !== conversationId) return;
      textarea.disabled = true;
      button.disabled = true;
      error.textContent = "You are no longer a member of this conversation.";
      error.hidden = false;
    });
    // A send cut off by a disconnect is retried with the same id once the socket is back.
    socket.onStatus((status) => {
      if (status !== "online" && pendingRef !== null) {
        pendingRef = null;
        button.disabled = false;
      }
    });
  }

  // --- @mentions: suggestions among the conversation's members -----------------------------------

  function mentionPicker(textarea) {
    const MAX_SHOWN = 8;
    const TYPED_MENTION = /(?<![\p{L}\p{N}_.@+-])@([\p{L}\p{N}_.@+-]{0,150})$/u;
    const box = document.createElement("ul");
    box.className = "mention-picker";
    box.id = "mention-picker";
    box.setAttribute("role", "listbox");
    box.setAttribute("aria-label", "Members to mention");
    box.hidden = true;
    textarea.before(box);
    textarea.setAttribute("aria-autocomplete", "list");
    textarea.setAttribute("aria-controls", box.id);
    textarea.setAttribute("aria-expanded", "false");
    let members = null;
    let typed = null;
    let active = 0;

    // Asked once, when the first "@" is typed; a member who joins later is typed in full.
    function names() {
      members ??= fetch(list.dataset.membersUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then((response) => (response.ok ? response.json() : []))
        .then((rows) => rows.map((row) => row.user).filter((user) => user.id !== myId))
        .catch(() => {
          members = null;
          return [];
        });
      return members;
    }

    function close() {
      box.hidden = true;
      box.replaceChildren();
      typed = null;
      textarea.setAttribute("aria-expanded", "false");
      textarea.removeAttribute("aria-activedescendant");
    }

    function highlight(index) {
      const options = [...box.children];
      if (!options.length) return;
      active = (index + options.length) % options.length;
      options.forEach((option, n) => option.setAttribute("aria-selected", String(n === active)));
      textarea.setAttribute("aria-activedescendant", options[active].id);
    }

    function choose(name) {
      if (typed === null) return;
      const caret = textarea.selectionStart;
      const before = textarea.value.slice(0, typed.start);
      const inserted = `@${name} `;
      textarea.value = before + inserted + textarea.value.slice(caret);
      textarea.setSelectionRange(before.length + inserted.length, before.length + inserted.length);
      close();
      textarea.dispatchEvent(new Event("input"));
      textarea.focus();
    }

    async function suggest() {
      const match = textarea.value.slice(0, textarea.selectionStart).match(TYPED_MENTION);
      if (!match) return close();
      const query = match[1].toLowerCase();
      const everyone = await names();
      const again = textarea.value.slice(0, textarea.selectionStart).match(TYPED_MENTION);
      if (!again || again[1].toLowerCase() !== query) return;  // typed on meanwhile: that input suggests
      const named = (user) => user.username.toLowerCase();
      const starts = everyone.filter((user) => named(user).startsWith(query));
      const inside = everyone.filter((user) => !named(user).startsWith(query) && named(user).includes(query));
      const shown = [...starts, ...inside].slice(0, MAX_SHOWN);
      if (!shown.length || (shown.length === 1 && named(shown[0]) === query)) return close();
      typed = { start: again.index };
      box.replaceChildren(
        ...shown.map((user, n) => {
          const option = document.createElement("li");
          option.id = `mention-option-${n}`;
          option.setAttribute("role", "option");
          option.dataset.username = user.username;
          const picture = avatar(user);
          picture.classList.add("avatar-small");
          option.append(picture, " ", user.username);
          return option;
        }),
      );
      box.hidden = false;
      textarea.setAttribute("aria-expanded", "true");
      highlight(0);
    }

    textarea.addEventListener("input", suggest);
    textarea.addEventListener("click", suggest);
    textarea.addEventListener("blur", () => window.setTimeout(close, 150));
    // mousedown, not click: the textarea keeps its focus (and caret).
    box.addEventListener("mousedown", (event) => {
      const option = event.target.closest("[data-username]");
      if (!option) return;
      event.preventDefault();
      choose(option.dataset.username);
    });

    return {
      // True when the key was the picker's (the composer then neither sends nor moves on).
      handleKey(event) {
        if (box.hidden || typed === null) return false;
        if (event.key === "ArrowDown" || event.key === "ArrowUp") {
          highlight(active + (event.key === "ArrowDown" ? 1 : -1));
        } else if ((event.key === "Enter" && !event.shiftKey) || event.key === "Tab") {
          choose(box.children[active].dataset.username);
        } else if (event.key === "Escape") {
          close();
        } else {
          return false;
        }
        event.preventDefault();
        return true;
      },
    };
  }

  // --- the draft, kept per conversation across reloads ---------------------------------------------

  function draftKeeper(textarea) {
    const key = `stockchat.draft.${myId}.${conversationId}`;
    const store = (write) => {
      try {
        return write(window.localStorage);
      } catch {
        return null;  // storage off or full: the draft lives as long as the page
      }
    };
    // A draft the server brought back (a refused post) wins over the stored one.
    if (!textarea.value) textarea.value = store((storage) => storage.getItem(key)) || "";
    textarea.addEventListener("input", () => {
      store((storage) => (textarea.value.trim() ? storage.setItem(key, textarea.value) : storage.removeItem(key)));
    });
    return { clear: () => store((storage) => storage.removeItem(key)) };
  }
}
