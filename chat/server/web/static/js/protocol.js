// The native chat protocol (docs/PROTOCOL.md) over one WebSocket: a text message per control
// frame (one JSON object), a binary message per body frame (0x01, u32 request id, bytes).
//
// Link: one WebSocket. Requests get integer ids; each gets exactly one reply, which resolves
// (ok) or rejects (error) its promise. A reply announcing `body` bytes resolves once they have
// come (kept, or handed to an onChunk callback as they arrive). Heartbeat as the other
// clients: answer the server's ping with pong; after 30 s without a frame send a ping, after
// 60 s give the link up.

export const PROTOCOL_VERSION = 1;
export const CLIENT_NAME = "chat-web/0.1";
const BODY_KIND = 0x01;
const PING_AFTER = 30000;
const DEAD_AFTER = 60000;
const HIGH_WATER = 1 << 20;      // bytes the socket may hold before an upload waits

export class RequestError extends Error {
  constructor(code, message, retryAfter = null) {
    super(message || code);
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

export class LinkLost extends Error {
  constructor(message = "connection lost") { super(message); this.code = "link_lost"; }
}

export function bodyFrame(requestId, data) {
  const frame = new Uint8Array(5 + data.byteLength);
  frame[0] = BODY_KIND;
  new DataView(frame.buffer).setUint32(1, requestId);
  frame.set(data instanceof Uint8Array ? data : new Uint8Array(data), 5);
  return frame;
}

// The WebSocket address of the server that served this page (or of `address`, a path or a
// ws:/wss:/http:/https: URL).
export function socketUrl(address, location = globalThis.location) {
  const text = (address || "").trim() || "/ws";
  const url = new URL(text, location.href);
  if (url.protocol === "http:") url.protocol = "ws:";
  else if (url.protocol === "https:") url.protocol = "wss:";
  if (url.pathname === "/" && !text.includes("/ws")) url.pathname = "/ws";
  return url.href;
}

export class Link {
  constructor(url, { onEvent = () => {}, onClose = () => {}, WebSocketClass = globalThis.WebSocket } = {}) {
    this.url = url;
    this.onEvent = onEvent;
    this.onClose = onClose;
    this.nextId = 1;
    this.pending = new Map();        // id -> {resolve, reject, onChunk, chunks, remaining, data}
    this.bye = null;
    this.closed = false;
    this.ws = new WebSocketClass(url);
    this.ws.binaryType = "arraybuffer";
    this.opened = new Promise((resolve, reject) => {
      this.ws.onopen = () => { this._activity(); resolve(this); };
      this.ws.onerror = () => reject(new LinkLost("cannot connect"));
    });
    this.ws.onmessage = (event) => this._received(event.data);
    this.ws.onclose = (event) => this._closed(event);
    this._lastHeard = Date.now();
    this._timer = setInterval(() => this._tick(), 5000);
    if (this._timer.unref) this._timer.unref();       // (outside a browser: no process kept up)
  }

  // -- sending
  request(type, fields = {}, { onChunk = null, keepBody = true } = {}) {
    if (this.closed) return Promise.reject(new LinkLost());
    const id = this.nextId++;
    const promise = new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onChunk, keepBody, chunks: [], remaining: 0,
                             type });
    });
    promise.requestId = id;
    this.sendObject({ type, id, ...fields });
    return promise;
  }

  // A request with a body: `body` is a Uint8Array or Blob sent in body frames of `chunk`
  // bytes. onSent(bytes) tells progress; `signal` (an AbortSignal) stops sending.
  requestWithBody(type, fields, body, { chunk = 65536, onSent = null, signal = null,
                                        onId = null } = {}) {
    const size = body.size !== undefined ? body.size : body.byteLength;
    const promise = this.request(type, { ...fields, body: size });
    const id = promise.requestId;
    if (onId) onId(id);
    this._sendBody(id, body, size, chunk, onSent, signal).catch(() => {});
    return promise;
  }

  async _sendBody(id, body, size, chunk, onSent, signal) {
    for (let offset = 0; offset < size; offset += chunk) {
      if (this.closed || (signal && signal.aborted) || !this.pending.has(id)) return;
      let data = body.slice(offset, offset + chunk);
      if (data instanceof Blob) data = new Uint8Array(await data.arrayBuffer());
      while (this.ws.bufferedAmount > HIGH_WATER && !this.closed) {
        await new Promise((r) => setTimeout(r, 15));
      }
      if (this.closed || (signal && signal.aborted) || !this.pending.has(id)) return;
      this.ws.send(bodyFrame(id, data));
      if (onSent) onSent(Math.min(offset + chunk, size) - this.ws.bufferedAmount);
    }
    if (onSent) onSent(size);
  }

  sendObject(obj) {
    if (this.closed || this.ws.readyState !== 1) return false;
    this.ws.send(JSON.stringify(obj));
    return true;
  }

  close() {
    if (!this.closed) {
      try { this.ws.close(1000); } catch (e) { /* closing already */ }
      this._closed({ code: 1000, reason: "closed by the client" });
    }
  }

  // -- receiving
  _activity() { this._lastHeard = Date.now(); this._pinged = false; }

  _tick() {
    if (this.closed) return;
    const silent = Date.now() - this._lastHeard;
    if (silent >= DEAD_AFTER) {
      this.close();
    } else if (silent >= PING_AFTER && !this._pinged) {
      this._pinged = true;
      this.request("ping").catch(() => {});
    }
  }

  _received(data) {
    this._activity();
    if (typeof data !== "string") return this._bodyFrame(new Uint8Array(data));
    let obj;
    try { obj = JSON.parse(data); } catch (e) { return undefined; }
    if (!obj || typeof obj !== "object") return undefined;
    if ((obj.type === "ok" || obj.type === "error") && obj.id !== undefined && obj.id !== null) {
      return this._reply(obj);
    }
    if (obj.type === "ping" && obj.id === undefined) {
      this.sendObject({ type: "pong" });
      return undefined;
    }
    if (obj.type === "bye") this.bye = obj;
    this.onEvent(obj);
    return undefined;
  }

  _reply(obj) {
    const entry = this.pending.get(obj.id);
    if (!entry) return;
    if (obj.type === "error") {
      this.pending.delete(obj.id);
      entry.reject(new RequestError(obj.code, obj.message, obj.retry_after ?? null));
      return;
    }
    if (obj.body) {
      entry.remaining = obj.body;
      entry.data = obj.data || {};
      entry.total = obj.body;
      entry.answered = true;
      return;                       // resolved once the body has come
    }
    this.pending.delete(obj.id);
    entry.resolve(obj.data || {});
  }

  _bodyFrame(bytes) {
    if (bytes.length < 5 || bytes[0] !== BODY_KIND) return;
    const id = new DataView(bytes.buffer, bytes.byteOffset).getUint32(1);
    const entry = this.pending.get(id);
    if (!entry || !entry.answered) return;     // a cancelled request's last frames: dropped
    const data = bytes.subarray(5);
    entry.remaining -= data.length;
    if (entry.onChunk) entry.onChunk(data, entry.total - entry.remaining, entry.total);
    if (entry.keepBody) entry.chunks.push(data);
    if (entry.remaining <= 0) {
      this.pending.delete(id);
      entry.data.bodyBytes = entry.keepBody ? concat(entry.chunks) : null;
      entry.resolve(entry.data);
    }
  }

  _closed(event) {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this._timer);
    const error = new LinkLost(this.bye ? this.bye.message : "connection lost");
    for (const entry of this.pending.values()) entry.reject(error);
    this.pending.clear();
    this.onClose({ code: event.code, reason: event.reason, bye: this.bye });
  }
}

export function concat(chunks) {
  let size = 0;
  for (const c of chunks) size += c.length;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) { out.set(c, offset); offset += c.length; }
  return out;
}
