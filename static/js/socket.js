// The page's one WebSocket (docs/websocket.md): reconnects with backoff (at once when the server
// restarts, 1012), follows the symbols the page asked for again after every reconnect, and tells
// listeners when the socket is ready so they can resume (chat.resume) what they follow.

const MAX_SYMBOLS_PER_FRAME = 50;
const BACKOFF_START_MS = 500;
const BACKOFF_MAX_MS = 15000;
const SIGNED_OUT_CODES = new Set([4401, 4403]);
// The server is restarting (a deploy): another process is already there to take the socket.
const SERVICE_RESTART = 1012;

class LiveSocket {
  constructor(url) {
    this.url = url;
    this.ws = null;
    this.ready = false;
    this.attempts = 0;
    this.symbols = new Set();
    this.handlers = new Map();
    this.readyHandlers = [];
    this.statusHandlers = [];
    this.nextRef = 1;
    this.stopped = false;
    this.signingOut = false;
    window.addEventListener("pagehide", () => {
      this.stopped = true;
      if (this.ws) this.ws.close(1000);
    });
    // This tab's own sign-out: the server closes the socket (4403) while the logout POST is still
    // on its way back, and its redirect decides where the tab goes next, not the socket.
    document.addEventListener("submit", (event) => {
      const form = event.target;
      if (form instanceof HTMLFormElement && form.matches("[data-sign-out]") && !event.defaultPrevented) {
        this.signingOut = true;
      }
    });
  }

  connect() {
    this.setStatus("connecting");
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.addEventListener("message", (event) => this.receive(event.data));
    ws.addEventListener("close", (event) => {
      if (this.ws !== ws) return;
      const wasReady = this.ready;
      this.ready = false;
      this.ws = null;
      if (SIGNED_OUT_CODES.has(event.code)) {
        this.setStatus("signed-out");
        // Signed out elsewhere (another tab, a password change, an administrator): sign in again here.
        if (!this.signingOut) {
          window.location.assign(`/accounts/login/?next=${encodeURIComponent(window.location.pathname)}`);
        }
        return;
      }
      if (this.stopped) return;
      // At once, without backoff, unless this socket never got going (no tight loop of 1012s);
      // should that attempt fail, the backoff starts from its shortest delay.
      if (event.code === SERVICE_RESTART && wasReady) {
        this.attempts = 0;
        this.connect();
        return;
      }
      this.scheduleReconnect();
    });
  }

  scheduleReconnect() {
    this.setStatus("offline");
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_START_MS * 2 ** this.attempts);
    this.attempts += 1;
    // Jitter, so a server restart is not met by every tab at the same instant.
    const delay = base / 2 + Math.random() * (base / 2);
    window.setTimeout(() => this.connect(), delay);
  }

  receive(data) {
    let frame;
    try {
      frame = JSON.parse(data);
    } catch {
      return;
    }
    if (frame.type === "hello") {
      if (frame.v !== 1) {
        window.location.reload();
        return;
      }
      this.ready = true;
      this.attempts = 0;
      this.setStatus("online");
      this.sendSubscriptions([...this.symbols]);
      for (const handler of this.readyHandlers) handler();
    }
    for (const handler of this.handlers.get(frame.type) || []) handler(frame);
    for (const handler of this.handlers.get("*") || []) handler(frame);
  }

  on(type, handler) {
    if (!this.handlers.has(type)) this.handlers.set(type, []);
    this.handlers.get(type).push(handler);
  }

  // Called on every (re)connect, and at once if the socket is already open.
  onReady(handler) {
    this.readyHandlers.push(handler);
    if (this.ready) handler();
  }

  onStatus(handler) {
    this.statusHandlers.push(handler);
    handler(this.status);
  }

  setStatus(status) {
    this.status = status;
    for (const handler of this.statusHandlers) handler(status);
  }

  send(frame) {
    if (!this.ready || !this.ws || this.ws.readyState !== WebSocket.OPEN) return null;
    const ref = frame.ref ?? this.nextRef++;
    this.ws.send(JSON.stringify({ ...frame, ref }));
    return ref;
  }

  followSymbols(symbols) {
    const fresh = symbols.map((s) => s.toUpperCase()).filter((s) => !this.symbols.has(s));
    for (const symbol of fresh) this.symbols.add(symbol);
    if (this.ready) this.sendSubscriptions(fresh);
  }

  sendSubscriptions(symbols) {
    for (let i = 0; i < symbols.length; i += MAX_SYMBOLS_PER_FRAME) {
      this.send({ type: "prices.subscribe", symbols: symbols.slice(i, i + MAX_SYMBOLS_PER_FRAME) });
    }
  }
}

let shared = null;

export function getSocket() {
  if (shared === null) {
    const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    shared = new LiveSocket(`${scheme}//${window.location.host}/ws/`);
    shared.connect();
  }
  return shared;
}
