// Fired price alerts, live on every signed-in page: a toast, a browser notification where the
// user allowed them, the header's unread count, and the Alerts page's list.

import { timeElement } from "./format.js";
import { getSocket } from "./socket.js";

const socket = getSocket();

function setUnread(count) {
  for (const badge of document.querySelectorAll("[data-notifications-unread]")) {
    badge.dataset.notificationsUnread = String(count);
    badge.hidden = count === 0;
    badge.replaceChildren(Object.assign(document.createElement("span"), { className: "visually-hidden", textContent: ", unread: " }), String(count));
  }
}

function toasts() {
  let region = document.getElementById("toasts");
  if (!region) {
    region = document.createElement("ul");
    region.id = "toasts";
    region.className = "toasts";
    region.setAttribute("role", "status");
    region.setAttribute("aria-label", "Alerts");
    document.body.append(region);
  }
  return region;
}

function toast(notification) {
  const item = document.createElement("li");
  item.className = "toast";
  item.dataset.toastNotification = String(notification.id);
  const text = document.createElement("p");
  const link = document.createElement("a");
  link.href = "/notifications/";
  link.textContent = notification.text;
  text.append(link);
  const close = document.createElement("button");
  close.type = "button";
  close.className = "link-button";
  close.textContent = "Dismiss";
  close.setAttribute("aria-label", `Dismiss: ${notification.text}`);
  close.addEventListener("click", () => item.remove());
  item.append(text, close);
  toasts().append(item);
}

function listItem(notification) {
  const list = document.querySelector("[data-notification-list]");
  if (!list || list.querySelector(`[data-notification-id="${Number(notification.id)}"]`)) return;
  list.querySelector("[data-notifications-empty]")?.remove();
  const item = document.createElement("li");
  item.className = "unread";
  item.dataset.notificationId = String(notification.id);
  const hidden = Object.assign(document.createElement("span"), { className: "visually-hidden", textContent: "Unread: " });
  const when = Object.assign(document.createElement("span"), { className: "muted" });
  when.append(timeElement(notification.created_at));
  item.append(hidden, `${notification.text} `, when);
  list.prepend(item);
}

function markFired(notification) {
  const state = document.querySelector(`[data-alert-id="${Number(notification.alert_id)}"] [data-alert-state]`);
  if (state) {
    state.textContent = "Fired";
    state.className = "status";
  }
}

socket.on("alert.triggered", ({ notification, unread }) => {
  setUnread(Number(unread));
  toast(notification);
  listItem(notification);
  markFired(notification);
  if ("Notification" in window && Notification.permission === "granted") {
    try {
      new Notification(`stockchat: ${notification.symbol}`, { body: notification.text, tag: `alert-${notification.id}` });
    } catch {
      // Some browsers allow notifications only from a service worker; the toast has it anyway.
    }
  }
});

socket.on("notifications.read", () => setUnread(0));

const allow = document.querySelector("[data-allow-notifications]");
if (allow && "Notification" in window && Notification.permission === "default") {
  allow.hidden = false;
  allow.addEventListener("click", async () => {
    await Notification.requestPermission();
    allow.hidden = Notification.permission !== "default";
  });
}
