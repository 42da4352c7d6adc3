// A fake chat server for the browser client's node tests: every socket a Session opens is a
// FakeSocket talking to one FakeServer, which answers the requests the tests need.
// One fake server for all sockets of a test: it stores messages once per cid.
export class FakeServer {
  constructor() {
    this.messages = [];
    this.sockets = [];
    this.dropReplies = false;     // store sends but let the link break before the ok
    this.refuse = false;
    this.requests = [];           // every control frame received, in order
    this.uploads = new Map();     // request id -> {remaining, chunks}
    this.bodyFrames = 0;
    this.files = new Map();       // file id -> bytes (what a download sends)
    this.stored = new Map();      // sha256 -> chunks an upload brought (kept across links)
    this.breakAfter = null;       // close the socket after this many body bytes (either way)
    this.bodyBytes = 0;           // body bytes received, all uploads
  }
  storedBytes(sha) { return (this.stored.get(sha) || []).reduce((n, c) => n + c.length, 0); }
  // a link cut in the middle: the socket closes as a lost connection does
  cut(socket) {
    this.breakAfter = null;
    socket.readyState = 3;
    setTimeout(() => socket.onclose?.({ code: 1006 }), 0);
  }
  socketClass() {
    const server = this;
    return class FakeSocket {
      constructor(url) {
        this.url = url;
        this.readyState = 0;
        this.bufferedAmount = 0;
        server.sockets.push(this);
        setTimeout(() => {
          if (server.refuse) { this.readyState = 3; this.onerror?.({}); this.onclose?.({ code: 1006 }); return; }
          this.readyState = 1;
          this.onopen?.();
        }, 0);
      }
      send(data) { server.received(this, data); }
      close() { if (this.readyState !== 3) { this.readyState = 3; setTimeout(() => this.onclose?.({ code: 1000 }), 0); } }
      push(obj) { if (this.readyState === 1) setTimeout(() => this.onmessage?.({ data: JSON.stringify(obj) }), 0); }
      pushBinary(bytes) { if (this.readyState === 1) setTimeout(() => this.onmessage?.({ data: bytes.buffer }), 0); }
    };
  }
  received(socket, data) {
    if (typeof data !== "string") return this.bodyFrame(socket, data);
    const req = JSON.parse(data);
    this.requests.push(req);
    const ok = (d) => socket.push({ type: "ok", id: req.id, data: d });
    switch (req.type) {
      case "hello": return ok({ version: 1, limits: {}, policy: {} });
      case "login": return ok({ user: { name: req.username }, rooms: [{ name: "lobby", member: true }],
                                unread: {}, last_id: this.messages.length, online: 1 });
      case "users": return ok({ users: [], more: false, online: 1 });
      case "sync": return ok({ messages: this.messages.filter((m) => m.id > req.since), more: false });
      case "read": return ok({});
      case "file_offer":
        this.offer = req;
        this.offers = (this.offers || 0) + 1;
        if (!this.stored.has(req.sha256)) this.stored.set(req.sha256, []);
        return ok({ file: { id: 7, name: req.name, size: req.size }, offset: this.storedBytes(req.sha256) });
      case "upload":
        this.uploads.set(req.id, { remaining: req.body, chunks: this.stored.get(this.offer.sha256), socket,
                                   offset: req.offset });
        return undefined;                           // the ok comes after the body
      case "cancel": {
        const upload = this.uploads.get(req.request);
        this.uploads.delete(req.request);
        if (upload || req.request === this.downloading) {
          socket.push({ type: "error", id: req.request, code: "cancelled", message: "cancelled" });
        }
        return ok({ request: req.request, cancelled: !!upload });
      }
      case "download": {
        const bytes = this.files.get(req.file);
        const offset = req.offset || 0;
        const chunk = this.downloadChunk || 1000;
        this.downloading = req.id;
        this.downloads = [...(this.downloads || []), offset];
        socket.push({ type: "ok", id: req.id, data: { file: { id: req.file }, offset }, body: bytes.length - offset });
        for (let i = offset; i < bytes.length; i += chunk) {
          if (this.breakAfter !== null && i - offset >= this.breakAfter) {
            setTimeout(() => this.cut(socket), 0);       // after the frames pushed so far
            return undefined;
          }
          const frame = new Uint8Array(5 + Math.min(chunk, bytes.length - i));
          frame[0] = 1;
          new DataView(frame.buffer).setUint32(1, req.id);
          frame.set(bytes.subarray(i, i + chunk), 5);
          socket.pushBinary(frame);
        }
        return undefined;
      }
      case "send": {
        let msg = this.messages.find((m) => m.cid === req.cid);
        const duplicate = !!msg;
        if (!msg) {
          msg = { id: this.messages.length + 1, conv: req.to, from: "alice", to: req.to, text: req.text,
                  cid: req.cid, ts: new Date().toISOString() };
          this.messages.push(msg);
        }
        if (this.dropReplies) { socket.close(); return undefined; }
        if (!duplicate) for (const s of this.sockets) s.push({ type: "message", msg });
        return ok({ msg_id: msg.id, ts: msg.ts, duplicate });
      }
      default: return ok({});
    }
  }
}

FakeServer.prototype.bodyFrame = function bodyFrame(socket, frame) {
  const bytes = new Uint8Array(frame.buffer ?? frame, frame.byteOffset ?? 0, frame.byteLength);
  const id = new DataView(bytes.buffer, bytes.byteOffset).getUint32(1);
  this.bodyFrames += 1;
  const upload = this.uploads.get(id);
  if (!upload || socket.readyState !== 1) return;    // a cancelled request's frames: dropped
  upload.chunks.push(bytes.slice(5));
  upload.remaining -= bytes.length - 5;
  this.bodyBytes += bytes.length - 5;
  if (this.breakAfter !== null && this.bodyBytes >= this.breakAfter) {
    this.uploads.delete(id);
    this.cut(socket);
    return;
  }
  if (upload.remaining <= 0) {
    this.uploads.delete(id);
    let size = 0;
    for (const c of upload.chunks) size += c.length;
    this.uploaded = new Uint8Array(size);
    let at = 0;
    for (const c of upload.chunks) { this.uploaded.set(c, at); at += c.length; }
    socket.push({ type: "ok", id, data: { file: { id: 7, complete: true }, msg_id: 99 } });
  }
};

export const until = async (f, what) => {
  for (let i = 0; i < 200; i++) { if (f()) return; await new Promise((r) => setTimeout(r, 5)); }
  throw new Error(`timed out: ${what}`);
};

