// The client core: one logged-in account over a Link that is remade when it breaks.
//
// Nothing lost, nothing doubled: every message typed goes to the outbox with its own `cid`
// and stays there until the server's `ok` (which comes only once the message is stored). A
// broken link is remade (1 s doubling to 30 s, jittered), logs in again with the credentials
// held in memory (never stored), fetches what it missed with `sync`, then resends the outbox
// with the same cids: the server answers a cid it has with the first id and stores nothing
// twice; messages are kept by id here, so a copy that comes twice is shown once.

import { Link, LinkLost, RequestError, CLIENT_NAME, PROTOCOL_VERSION } from "./protocol.js";

const FATAL_LOGIN = new Set(["bad_credentials", "banned", "unsupported_version"]);
const NO_RECONNECT_BYE = new Set(["kicked", "banned"]);
const HISTORY_PAGE = 50;

export class Conversation {
  constructor(key) {
    this.key = key;                   // "#room" or "@user"
    this.messages = [];               // ascending by id; pending ones (no id yet) at the end
    this.byId = new Map();
    this.unread = 0;
    this.more = true;                 // older history may exist
    this.loadedHistory = false;
    this.topic = "";
    this.peerRead = 0;                // private: up to which id the other has read
    this.lastTs = "";
  }
  get isRoom() { return this.key.startsWith("#"); }
  get name() { return this.key.slice(1); }
  get newestId() {
    for (let i = this.messages.length - 1; i >= 0; i--) if (this.messages[i].id) return this.messages[i].id;
    return 0;
  }
  get oldestId() {
    for (const m of this.messages) if (m.id) return m.id;
    return 0;
  }
}

let cidCounter = 0;
function newCid() {
  const random = Math.random().toString(36).slice(2, 10);
  cidCounter += 1;
  return `w-${Date.now().toString(36)}-${random}-${cidCounter}`;
}

export class Session extends EventTarget {
  constructor(url, { WebSocketClass = globalThis.WebSocket } = {}) {
    super();
    this.url = url;
    this.WebSocketClass = WebSocketClass;
    this.link = null;
    this.state = "offline";
    this.me = null;
    this.hello = null;
    this.limits = {};
    this.policy = {};
    this.convs = new Map();
    this.users = new Map();          // name -> user object (online, admin, last_seen ...)
    this.rooms = new Map();          // name -> room object (member ones and others seen)
    this.onlineCount = 0;
    this.lastId = 0;
    this.outbox = new Map();         // cid -> {cid, to, text, burn}
    this.active = null;              // the conversation on screen
    this.visible = true;             // the page is visible (not a hidden tab)
    this.credentials = null;
    this.backoff = 1000;
    this.retryTimer = null;
    this.stopped = false;
    this.readTimers = new Map();
  }

  emit(type, detail = {}) {
    const event = new Event(type);       // (not CustomEvent: node 18 lacks it, for the unit tests)
    event.detail = detail;
    this.dispatchEvent(event);
  }

  conv(key) {
    let conv = this.convs.get(key);
    if (!conv) {
      conv = new Conversation(key);
      this.convs.set(key, conv);
      this.emit("convs");
    }
    return conv;
  }

  // -- connecting
  async _open() {
    const link = new Link(this.url, {
      WebSocketClass: this.WebSocketClass,
      onEvent: (event) => { if (link === this.link) this._event(event); },
      onClose: (info) => { if (link === this.link) this._linkClosed(info); },
    });
    this.link = link;
    await link.opened;
    this.hello = await link.request("hello", { version: PROTOCOL_VERSION, client: CLIENT_NAME });
    this.limits = this.hello.limits || {};
    this.policy = this.hello.policy || {};
    return link;
  }

  // The first login, from the login form: its errors go back to the form.
  async start(username, password, { register = false, avatar = null } = {}) {
    this.stopped = false;
    this._setState("connecting");
    let link;
    try {
      link = await this._open();
      if (register) {
        const fields = { username, password };
        if (avatar) {
          fields.avatar_type = avatar.type;
          await link.requestWithBody("register", fields, avatar.bytes);
        } else {
          await link.request("register", fields);
        }
      }
      const data = await link.request("login", { username, password });
      this.credentials = { username, password };
      this._loggedIn(data, true);
      await this._recent();
      this._setState("online");
      this._afterLogin();
      return data;
    } catch (error) {
      const current = this.link;
      this.link = null;
      if (current) current.close();
      this._setState("offline");
      throw error;
    }
  }

  async _reconnect() {
    this.retryTimer = null;
    if (this.stopped || !this.credentials) return;
    this._setState("connecting");
    try {
      const link = await this._open();
      const data = await link.request("login", this.credentials);
      this._loggedIn(data, false);
      await this._catchUp(link);
      this.backoff = 1000;
      this._setState("online");
      this._afterLogin();
    } catch (error) {
      const link = this.link;
      this.link = null;
      if (link) link.close();
      if (error instanceof RequestError && FATAL_LOGIN.has(error.code)) {
        return this.stop(error.message, error.code);
      }
      let wait = this.backoff;
      if (error instanceof RequestError && error.code === "rate_limited" && error.retryAfter) {
        wait = Math.max(wait, error.retryAfter * 1000);
      }
      this._retry(wait);
    }
    return undefined;
  }

  _retry(wait) {
    const jittered = wait * (0.8 + Math.random() * 0.4);
    this.backoff = Math.min(this.backoff * 2, 30000);
    this._setState("offline", { retryIn: Math.round(jittered / 1000) });
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this._reconnect(), jittered);
  }

  reconnectNow() {
    if (this.stopped || this.state === "online" || this.state === "connecting") return;
    clearTimeout(this.retryTimer);
    this._reconnect();
  }

  _linkClosed({ bye }) {
    this.link = null;
    if (this.stopped) return;
    if (bye) this.emit("bye", bye);
    if (bye && NO_RECONNECT_BYE.has(bye.code)) {
      return this.stop(bye.message, bye.code);
    }
    if (this.credentials) this._retry(this.backoff);
    else this._setState("offline");
    return undefined;
  }

  stop(reason = null, code = null) {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    const link = this.link;
    this.link = null;
    if (link) link.close();
    this._setState("stopped", { reason, code });
  }

  async logout() {
    const link = this.link;
    if (link) { try { await link.request("logout"); } catch (e) { /* gone anyway */ } }
    this.credentials = null;
    this.stop(null, "logout");
  }

  _setState(state, extra = {}) {
    this.state = state;
    this.emit("state", { state, ...extra });
  }

  _loggedIn(data, first) {
    this.me = data.user;
    this.onlineCount = data.online || 0;
    if (first) this.lastId = data.last_id || 0;
    for (const room of data.rooms || []) {
      this.rooms.set(room.name, room);
      if (room.member) this.conv("#" + room.name).topic = room.topic || "";
    }
    // rooms left meanwhile (from another device) go from the list
    const member = new Set((data.rooms || []).filter((r) => r.member).map((r) => "#" + r.name));
    for (const key of [...this.convs.keys()]) {
      if (key.startsWith("#") && !member.has(key)) this.convs.delete(key);
    }
    // the server's counts are the truth after a (re)login; what sync brings then is not counted again
    const unread = data.unread || {};
    for (const conv of this.convs.values()) conv.unread = unread[conv.key] || 0;
    for (const [key, n] of Object.entries(unread)) this.conv(key).unread = n;
    this.emit("login", { data, first });
    this.emit("convs");
  }

  async _afterLogin() {
    this._loadUsers().catch(() => {});
    for (const out of this.outbox.values()) this._sendOne(out);
    if (this.active) this.markRead(this.active);
  }

  async _loadUsers() {
    let after = null;
    for (let page = 0; page < 20; page++) {
      const fields = { limit: 500 };
      if (after) fields.after = after;
      const data = await this.link.request("users", fields);
      for (const u of data.users) this.users.set(u.name, u);
      this.onlineCount = data.online;
      if (!data.more || !data.users.length) break;
      after = data.users[data.users.length - 1].name;
    }
    this.emit("users");
  }

  // The last messages before this login, so that recent private chats show in the list.
  async _recent() {
    const since = Math.max(0, this.lastId - 300);
    const data = await this.link.request("sync", { since, limit: 300 });
    for (const msg of data.messages) this._deliver(msg, false);
    this.emit("convs");
  }

  async _catchUp(link) {
    let since = this.lastId;
    for (let page = 0; page < 1000; page++) {
      const data = await link.request("sync", { since, limit: 500 });
      for (const msg of data.messages) {
        since = Math.max(since, msg.id);
        this._deliver(msg, true, false);
      }
      if (!data.more || !data.messages.length) break;
    }
  }

  // -- events
  _event(event) {
    switch (event.type) {
      case "message": this._deliver(event.msg, true); break;
      case "presence":
        this.onlineCount = event.count;
        for (const change of event.changes) {
          const u = this.users.get(change.user) || { name: change.user };
          u.online = change.online;
          if (change.last_seen) u.last_seen = change.last_seen;
          this.users.set(change.user, u);
        }
        this.emit("users");
        break;
      case "joined":
        if (this.me && event.user === this.me.name) this.conv("#" + event.room);
        this.emit("room", event);
        break;
      case "left":
        if (this.me && event.user === this.me.name) {
          this.convs.delete("#" + event.room);
          if (this.active === "#" + event.room) this.active = null;
          this.emit("convs");
        }
        this.emit("room", event);
        break;
      case "topic":
        this.conv("#" + event.room).topic = event.topic;
        this.emit("convs");
        this.emit("room", event);
        break;
      case "read": {
        const conv = this.conv(event.conv);
        if (this.me && event.user === this.me.name) {
          // another device (or this one) read it: the badge goes everywhere
          conv.unread = conv.messages.filter((m) => m.id > event.up_to && m.from !== this.me.name).length;
          this.emit("convs");
        } else {
          conv.peerRead = Math.max(conv.peerRead, event.up_to);
          this.emit("messages", { conv: event.conv });
        }
        break;
      }
      case "burned": {
        const conv = this.conv(event.conv);
        for (const id of event.ids) {
          const m = conv.byId.get(id);
          if (m) { m.burned = true; delete m.text; }
        }
        conv.messages = conv.messages.filter((m) => !m.burned);
        this.emit("messages", { conv: event.conv });
        break;
      }
      case "notice": this.emit("notice", event); break;
      case "monitor": this.emit("monitor", event); break;
      default: break;
    }
  }

  _deliver(msg, live, count = true) {
    if (msg.id > this.lastId) this.lastId = msg.id;
    const conv = this.conv(msg.conv);
    if (conv.byId.has(msg.id)) return;            // a copy (sync after a live one): shown once
    const mine = this.me && msg.from === this.me.name;
    if (msg.burned) return;
    let placed = false;
    if (mine && msg.cid) {
      const pending = conv.messages.find((m) => !m.id && m.cid === msg.cid);
      if (pending) { Object.assign(pending, msg, { state: "sent" }); placed = true; }
    }
    const entry = placed ? conv.messages.find((m) => m.id === msg.id) : { ...msg };
    if (!placed) this._insert(conv, entry);
    conv.byId.set(msg.id, entry);
    if (msg.ts > conv.lastTs) conv.lastTs = msg.ts;
    if (!mine && live) {
      const seen = this.active === msg.conv && this.visible;
      if (!seen && count) conv.unread += 1;
      this.emit("incoming", { msg: entry, seen });
    }
    this.emit("messages", { conv: msg.conv, msg: entry });
    this.emit("convs");
    if (this.active === msg.conv && this.visible) this.markRead(msg.conv);
  }

  _insert(conv, entry) {
    // ids ascending; messages still without an id stay last
    let i = conv.messages.length;
    while (i > 0 && (!conv.messages[i - 1].id || conv.messages[i - 1].id > entry.id)) i--;
    conv.messages.splice(i, 0, entry);
  }

  // -- what the user does
  send(to, text, { burn = null } = {}) {
    const cid = newCid();
    const out = { cid, to, text };
    if (burn) out.burn = burn;
    this.outbox.set(cid, out);
    const conv = this.conv(to);
    conv.messages.push({ cid, conv: to, from: this.me.name, to, text, burn: burn || undefined,
                         state: "sending", ts: new Date().toISOString() });
    this.emit("messages", { conv: to });
    this._sendOne(out);
    return cid;
  }

  async _sendOne(out) {
    const link = this.link;
    if (!link || this.state !== "online" && this.state !== "connecting" || out.inFlight === link) return;
    out.inFlight = link;
    const fields = { to: out.to, text: out.text, cid: out.cid };
    if (out.burn) fields.burn = out.burn;
    try {
      const data = await link.request("send", fields);
      this.outbox.delete(out.cid);
      this._acked(out, data);
    } catch (error) {
      out.inFlight = null;
      if (error instanceof LinkLost) return;        // resent after the reconnect
      if (error.code === "rate_limited" || error.code === "server_error") {
        const wait = (error.retryAfter || 2) * 1000;
        setTimeout(() => { if (this.outbox.has(out.cid)) this._sendOne(out); }, wait);
        return;
      }
      this.outbox.delete(out.cid);
      const conv = this.conv(out.to);
      const m = conv.messages.find((x) => !x.id && x.cid === out.cid);
      if (m) { m.state = "failed"; m.error = error.message; }
      this.emit("messages", { conv: out.to });
      this.emit("error", { error });
    }
  }

  _acked(out, data) {
    const conv = this.conv(out.to);
    const m = conv.messages.find((x) => x.cid === out.cid && (!x.id || x.id === data.msg_id));
    if (!m) return;
    if (conv.byId.has(data.msg_id) && conv.byId.get(data.msg_id) !== m) {
      conv.messages = conv.messages.filter((x) => x !== m);     // the event came first
    } else {
      m.id = data.msg_id;
      m.ts = data.ts;
      m.state = "sent";
      conv.byId.set(m.id, m);
      conv.messages = conv.messages.filter((x) => x !== m);
      this._insert(conv, m);
    }
    if (data.msg_id > this.lastId) this.lastId = data.msg_id;
    this.emit("messages", { conv: out.to });
  }

  retry(conv, cid) {
    const c = this.conv(conv);
    const m = c.messages.find((x) => !x.id && x.cid === cid);
    if (!m) return;
    c.messages = c.messages.filter((x) => x !== m);
    this.send(conv, m.text, { burn: m.burn });
  }

  async loadOlder(key) {
    const conv = this.conv(key);
    if (!this.link || !conv.more) return 0;
    const fields = { conv: key, limit: HISTORY_PAGE };
    const oldest = conv.oldestId;
    if (oldest) fields.before = oldest;
    const data = await this.link.request("history", fields);
    for (const msg of data.messages) {
      if (msg.burned || conv.byId.has(msg.id)) continue;
      const entry = { ...msg };
      this._insert(conv, entry);
      conv.byId.set(msg.id, entry);
      if (msg.id > this.lastId) this.lastId = msg.id;
    }
    conv.more = !!data.more;
    conv.loadedHistory = true;
    if (data.peer_read) conv.peerRead = Math.max(conv.peerRead, data.peer_read);
    this.emit("messages", { conv: key, older: true });
    return data.messages.length;
  }

  markRead(key) {
    const conv = this.convs.get(key);
    if (!conv || !this.link || this.state !== "online") return;
    const upTo = conv.newestId;
    if (!upTo) { conv.unread = 0; return; }
    if (conv.readUpTo >= upTo && conv.unread === 0) return;
    conv.unread = 0;
    conv.readUpTo = upTo;
    this.emit("convs");
    clearTimeout(this.readTimers.get(key));
    this.readTimers.set(key, setTimeout(() => {
      if (this.link) this.link.request("read", { conv: key, up_to: upTo }).catch(() => {});
    }, 150));
  }

  // A user's picture as a blob: URL (null without one); asked once per user and session.
  avatarUrl(name) {
    this.avatars = this.avatars || new Map();
    if (!this.avatars.has(name)) {
      const user = name === this.me?.name ? this.me : this.users.get(name);
      if (!user || !user.avatar || !this.link) return null;
      const promise = this.link.request("get_avatar", { user: name }).then((data) =>
        URL.createObjectURL(new Blob([data.bodyBytes], { type: data.avatar_type })));
      promise.catch(() => this.avatars.delete(name));
      this.avatars.set(name, promise);
    }
    return this.avatars.get(name);
  }

  // Resolves once the session is online (at once if it is); rejects when it stops for good
  // (a logout, a kick, a ban) or `signal` aborts.
  whenOnline(signal = null) {
    if (this.state === "online") return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = (error) => {
        this.removeEventListener("state", listener);
        if (signal) signal.removeEventListener("abort", aborted);
        if (error) reject(error); else resolve();
      };
      const listener = (e) => {
        if (e.detail.state === "online") done();
        else if (e.detail.state === "stopped") done(new LinkLost("stopped"));
      };
      const aborted = () => done(Object.assign(new Error("cancelled"), { code: "cancelled" }));
      if (this.stopped) return done(new LinkLost("stopped"));
      this.addEventListener("state", listener);
      if (signal) signal.addEventListener("abort", aborted);
      return undefined;
    });
  }

  request(type, fields = {}, options = {}) {
    if (!this.link || this.state !== "online") return Promise.reject(new LinkLost("offline"));
    return this.link.request(type, fields, options);
  }
}
