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

  // The same rule as chat.selectors.SYMBOL_MENTION (a trailing dot is punctuation) and the
  // server-rendered links (chat_format.message_body).
  const SYMBOL_MENTION = /(?<![\p{L}\p{N}_$])\$([A-Z][A-Z0-9.]{0,9})/gu;
  const stockUrl = (symbol) => list.dataset.stockUrl.replace("SYMBOL", encodeURIComponent(symbol));

  function linkedBody(text, symbols) {
    const linked = new Set(symbols);
    const nodes = [];
    let start = 0;
    for (const match of text.matchAll(SYMBOL_MENTION)) {
      const symbol = match[1].replace(/\.+$/, "");
      if (!linked.has(symbol)) continue;
      nodes.push(document.createTextNode(text.slice(start, match.index)));
      const link = document.createElement("a");
      link.href = stockUrl(symbol);
      link.textContent = `$${symbol}`;
      nodes.push(link);
      start = match.index + 1 + symbol.length;
    }
    nodes.push(document.createTextNode(text.slice(start)));
    return nodes;
  }

  function render(message) {
    const item = document.createElement("li");
    item.className = "chat-message";
    if (message.author && message.author.id === myId) item.classList.add("mine");
    item.dataset.messageId = String(message.id);
    item.dataset.seq = String(message.seq);
    const author = document.createElement("span");
    author.className = "author";
    author.textContent = message.author ? message.author.username : "(deleted user)";
    item.append(author, timeElement(message.created_at));
    if (message.deleted) {
      const body = document.createElement("p");
      body.className = "body muted";
      body.textContent = "(message deleted)";
      item.append(body);
      return item;
    }
    const card = shareCard(message, stockUrl);
    if (card) item.append(card);
    if (message.body) {
      const body = document.createElement("p");
      body.className = "body";
      body.append(...linkedBody(message.body, message.symbols || []));
      item.append(body);
    }
    if (message.attachments && message.attachments.length) item.append(renderAttachments(message.attachments));
    // reactions.js draws the reaction bar from this (and keeps it live).
    item.dataset.reactions = JSON.stringify(message.reactions || []);
    return item;
  }

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
    if (message.seq > lastSeq) {
      lastSeq = message.seq;
      lastId = message.id;
    }
    if (atEnd || (message.author && message.author.id === myId)) scrollToEnd();
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
  socket.on("chat.message.deleted", ({ message }) => {
    const item = list.querySelector(`[data-message-id="${Number(message.id)}"]`);
    if (item) item.replaceWith(render(message));
  });
  socket.on("chat.message.edited", ({ message }) => {
    const item = list.querySelector(`[data-message-id="${Number(message.id)}"]`);
    if (item) item.replaceWith(render(message));
  });

  // --- older messages, on scrolling back ------------------------------------------------------

  const OLDER_PAGE = 50;
  const olderLine = document.querySelector("[data-older]");
  let hasOlder = "hasOlder" in list.dataset;
  let loadingOlder = false;

  async function loadOlder() {
    const first = list.querySelector("[data-message-id]");
    if (!hasOlder || loadingOlder || !first) return;
    loadingOlder = true;
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
      first.before(older);
      list.scrollTop = list.scrollHeight - fromBottom;
      hasOlder = Boolean(body.previous);
      list.dataset.olderLoaded = String(Number(list.dataset.olderLoaded || 0) + (body.results || []).length);
      if (!hasOlder && olderLine) olderLine.hidden = true;
    } catch {
      // Scrolling back up tries again.
    } finally {
      loadingOlder = false;
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
    textarea.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        composer.requestSubmit();
      }
    });
    composer.addEventListener("submit", (event) => {
      // Without a live socket the form posts as a plain page would.
      if (!socket.ready) return;
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
      });
      if (pendingRef !== null) button.disabled = true;
    });
    socket.on("chat.sent", ({ ref, message }) => {
      if (ref !== pendingRef) return;
      pendingRef = null;
      button.disabled = false;
      textarea.value = "";
      attached.clear();
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
}
