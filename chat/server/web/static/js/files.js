// Files up and down over the WebSocket, with progress and cancel (docs/PROTOCOL.md, *Files*).
//
// Up: the file is hashed here in pieces (SHA-256 is part of the offer), offered, then sent from
// the offset the server names (0, or more for a resume; the whole size when it has the
// content already: a sticker sent again costs no bytes). Down: body frames are hashed as they
// come and checked at the end; the file becomes a Blob, saved through a download link or shown
// inline (pictures). A cancel stops the sending at once and tells the server (`cancel`).
//
// A transfer cut by a lost connection waits for the session to be back and goes on from
// where it was: an upload is offered again (the server names the offset it has), a download
// asks for the bytes from the offset it has. Memory stays bounded for a file of any size: a
// download's chunks are gathered into Blob pieces of PIECE bytes as they come (the browser
// keeps Blobs outside the script's heap and pages big ones to disk), and an upload reads its
// file a chunk at a time.

import { hashBlob, Sha256 } from "./sha256.js";
import { LinkLost } from "./protocol.js";

export const PIECE = 4 << 20;
const MAX_RESUMES = 20;
const IMAGE_INLINE_MAX = 8 << 20;
let nextItem = 1;

export function formatSize(n) {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = n / 1024;
  let i = 0;
  while (value >= 1024 && i < units.length - 1) { value /= 1024; i += 1; }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[i]}`;
}

export function isSticker(file) {
  return !!file && /;\s*sticker\b/i.test(file.mime || "");
}

export function isImage(file) {
  return !!file && /^image\/(png|jpeg|gif|webp)\b/i.test(file.mime || "") && file.complete !== false;
}

export class Transfers {
  constructor(session, onChange) {
    this.session = session;
    this.onChange = onChange;
    this.items = [];
    this.images = new Map();        // file id -> Promise of a blob: URL
  }

  _changed() { this.onChange(this.items); }

  _item(direction, name, size) {
    const item = { key: nextItem++, direction, name, size, done: 0, state: "hashing",
                   error: null, cancel: () => {} };
    this.items.push(item);
    this._changed();
    return item;
  }

  _finish(item, state, error = null) {
    item.state = state;
    item.error = error;
    this._changed();
    setTimeout(() => {
      this.items = this.items.filter((x) => x !== item);
      this._changed();
    }, state === "done" ? 1500 : 8000);
  }

  async send(to, blob, { name = blob.name, mime = blob.type || "application/octet-stream" } = {}) {
    const session = this.session;
    const item = this._item("up", name, blob.size);
    const controller = new AbortController();
    let requestId = null;
    item.cancel = () => {
      controller.abort();
      if (requestId !== null) session.request("cancel", { request: requestId }).catch(() => {});
      this._finish(item, "cancelled");
    };
    try {
      const max = session.limits.max_file_size;
      if (max && blob.size > max) throw Object.assign(new Error("too_large"), { code: "too_large" });
      const sha256 = await hashBlob(blob, (done) => { item.done = done; this._changed(); },
                                    4 << 20, controller.signal);
      let resumes = 0;
      for (;;) {
        try {
          item.state = "offering";
          this._changed();
          const offer = await session.request("file_offer", { to, name, size: blob.size, sha256, mime });
          if (controller.signal.aborted) return item;
          const offset = offer.offset || 0;
          if (offset < blob.size) {
            item.state = "sending";
            item.done = offset;
            this._changed();
            await session.link.requestWithBody(
              "upload", { file: offer.file.id, offset }, blob.slice(offset),
              { chunk: session.limits.file_chunk || 262144, signal: controller.signal,
                onId: (id) => { requestId = id; },
                onSent: (n) => { item.done = offset + Math.max(0, n); this._changed(); } });
          }
          break;
        } catch (error) {
          if (!(error instanceof LinkLost) || controller.signal.aborted || ++resumes > MAX_RESUMES) throw error;
          requestId = null;
          await this._waitOnline(item, controller.signal);
        }
      }
      item.done = blob.size;
      if (!controller.signal.aborted) this._finish(item, "done");
    } catch (error) {
      if (controller.signal.aborted || error.code === "cancelled" || error.name === "AbortError") {
        if (item.state !== "cancelled") this._finish(item, "cancelled");
      } else {
        this._finish(item, "failed", error);
      }
    }
    return item;
  }

  // A connection lost in the middle: wait (shown as such) until the session is back.
  async _waitOnline(item, signal) {
    item.state = "waiting";
    this._changed();
    await this.session.whenOnline(signal);
    if (item.state === "waiting") item.state = item.direction === "up" ? "offering" : "receiving";
    this._changed();
  }

  // The bytes of a published file, checked against its SHA-256: a Blob.
  async fetch(file, { track = true } = {}) {
    const session = this.session;
    const item = track ? this._item("down", file.name, file.size) : null;
    if (item) item.state = "receiving";
    const hash = new Sha256();
    const parts = [];                 // Blobs of PIECE bytes
    let pending = [];                 // chunks not in a Blob yet
    let pendingBytes = 0;
    let received = 0;
    let requestId = null;
    const controller = new AbortController();
    if (item) {
      item.cancel = () => {
        controller.abort();
        if (requestId !== null) session.request("cancel", { request: requestId }).catch(() => {});
        this._finish(item, "cancelled");
      };
    }
    const cancelled = () => Object.assign(new Error("cancelled"), { code: "cancelled" });
    try {
      let resumes = 0;
      while (received < file.size || resumes === 0 && received === 0) {
        try {
          if (!session.link || session.state !== "online") throw new LinkLost();
          const promise = session.link.request("download", { file: file.id, offset: received }, {
            keepBody: false,
            onChunk: (data) => {
              if (controller.signal.aborted) return;
              hash.update(data);
              pending.push(data);
              pendingBytes += data.length;
              received += data.length;
              this.held = Math.max(this.held || 0, pendingBytes);
              if (pendingBytes >= PIECE) {
                parts.push(new Blob(pending));
                pending = [];
                pendingBytes = 0;
              }
              if (item) { item.done = received; this._changed(); }
            },
          });
          requestId = promise.requestId;
          await promise;
          break;
        } catch (error) {
          if (controller.signal.aborted) throw cancelled();
          if (!(error instanceof LinkLost) || ++resumes > MAX_RESUMES) throw error;
          requestId = null;
          if (item) await this._waitOnline(item, controller.signal);
          else await session.whenOnline(controller.signal);
        }
      }
      if (controller.signal.aborted) throw cancelled();
      if (hash.hex() !== file.sha256) {
        throw Object.assign(new Error("checksum"), { code: "checksum" });
      }
      if (item) this._finish(item, "done");
      if (pending.length) parts.push(new Blob(pending));
      return new Blob(parts, { type: (file.mime || "").split(";")[0].trim() || "application/octet-stream" });
    } catch (error) {
      const wasCancelled = controller.signal.aborted;
      if (item && !wasCancelled) this._finish(item, "failed", error);
      throw wasCancelled ? cancelled() : error;
    }
  }

  async save(file) {
    const blob = await this.fetch(file);
    const url = URL.createObjectURL(blob);
    const a = document.createElement("a");
    a.href = url;
    a.download = file.name;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
  }

  // A picture shown inline: fetched once per file id.
  imageUrl(file) {
    if (!isImage(file) || file.size > IMAGE_INLINE_MAX) return null;
    let promise = this.images.get(file.id);
    if (!promise) {
      promise = this.fetch(file, { track: false }).then((blob) => URL.createObjectURL(blob));
      promise.catch(() => this.images.delete(file.id));
      this.images.set(file.id, promise);
    }
    return promise;
  }
}
