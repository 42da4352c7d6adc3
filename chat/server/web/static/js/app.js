// The browser client's screens: login, then the sidebar (rooms, private chats, people) and
// the open conversation. Renders what the Session holds; every string through i18n.t.

import { Session } from "./session.js";
import { socketUrl, RequestError } from "./protocol.js";
import { t, setLanguage, detectLanguage, LANGUAGES, onLanguage, language } from "./i18n.js";
import { Transfers, formatSize, isImage, isSticker } from "./files.js";
import { EMOJI } from "./emoji.js";

const $ = (id) => document.getElementById(id);
const THEMES = ["auto", "light", "dark"];
const BURN_SECONDS = 5;
const PHONE = globalThis.matchMedia ? matchMedia("(max-width: 700px)") : { matches: false };

// localStorage holds these three and nothing else (no account, no message, no token)
const KEYS = { server: "chat.server", lang: "chat.lang", theme: "chat.theme" };
const prefs = {
  get(name) { try { return localStorage.getItem(KEYS[name]); } catch (e) { return null; } },
  set(name, value) { try { localStorage.setItem(KEYS[name], value); } catch (e) { /* private mode */ } },
};

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

function pad(n) { return String(n).padStart(2, "0"); }
function clock(ts) {
  const d = new Date(ts);
  return Number.isNaN(d.getTime()) ? "" : `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
function when(ts) {
  const d = new Date(ts);
  if (Number.isNaN(d.getTime())) return "";
  const today = new Date();
  return d.toDateString() === today.toDateString() ? clock(ts) : d.toLocaleString(language() === "zh" ? "zh-CN" : "en");
}

function errorText(error) {
  if (!error) return "";
  const code = error.code || "";
  if (code === "rate_limited") return t("err_rate_limited", { s: Math.ceil(error.retryAfter || 1) });
  if (code === "link_lost") return t(error.message === "cannot connect" ? "err_cannot_connect" : "err_link_lost");
  if (code === "too_large") return t("err_generic", { message: error.message || code });
  if (code === "checksum") return t("checksum_bad");
  const key = `err_${code}`;
  const text = t(key, { message: error.message || code });
  return text === key ? t("err_generic", { message: error.message || String(error) }) : text;
}

export class App {
  constructor() {
    this.session = null;
    this.registering = false;
    this.stickers = null;
    this.lastNotified = 0;
  }

  start() {
    setLanguage(detectLanguage(prefs.get("lang")));
    this.applyTheme(prefs.get("theme") || "auto");
    this.fillSelects();
    onLanguage(() => { this.fillSelects(); this.renderAll(); });
    $("login-server").value = prefs.get("server") || "";
    $("login-form").addEventListener("submit", (e) => { e.preventDefault(); this.login(); });
    $("login-mode").addEventListener("click", () => this.setRegistering(!this.registering));
    for (const select of document.querySelectorAll(".lang-select")) {
      select.addEventListener("change", () => { prefs.set("lang", select.value); setLanguage(select.value); });
    }
    for (const select of document.querySelectorAll(".theme-select")) {
      select.addEventListener("change", () => { prefs.set("theme", select.value); this.applyTheme(select.value); this.fillSelects(); });
    }
    this.wireApp();
    $("login-view").hidden = false;
    $("login-user").focus();
    document.addEventListener("visibilitychange", () => this.visibilityChanged());
    PHONE.addEventListener?.("change", () => this.layout());
  }

  applyTheme(theme) {
    this.theme = THEMES.includes(theme) ? theme : "auto";
    let effective = this.theme;
    if (effective === "auto") {
      effective = globalThis.matchMedia && matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
    }
    document.documentElement.dataset.theme = effective;
  }

  fillSelects() {
    for (const select of document.querySelectorAll(".lang-select")) {
      select.replaceChildren(...LANGUAGES.map(([code, name]) => el("option", { value: code, text: name })));
      select.value = language();
    }
    for (const select of document.querySelectorAll(".theme-select")) {
      select.replaceChildren(...THEMES.map((name) => el("option", { value: name, text: t(`theme_${name}`) })));
      select.value = this.theme;
    }
    $("login-mode").textContent = t(this.registering ? "have_account" : "create_account");
    $("login-submit").textContent = t(this.registering ? "register" : "log_in");
  }

  setRegistering(on) {
    this.registering = on;
    $("register-extra").hidden = !on;
    $("login-password").autocomplete = on ? "new-password" : "current-password";
    $("login-error").textContent = "";
    this.fillSelects();
  }

  // -- logging in
  async login() {
    const username = $("login-user").value.trim();
    const password = $("login-password").value;
    const error = $("login-error");
    error.textContent = "";
    if (!username || !password) { error.textContent = t("err_fill_in"); return; }
    if (this.registering && password !== $("login-password2").value) {
      error.textContent = t("err_passwords_differ");
      return;
    }
    const address = $("login-server").value.trim();
    prefs.set("server", address);
    let avatar = null;
    const picture = $("login-avatar").files[0];
    if (this.registering && picture) {
      avatar = { type: picture.type, bytes: new Uint8Array(await picture.arrayBuffer()) };
    }
    $("login-submit").disabled = true;
    const session = new Session(socketUrl(address));
    this.attach(session);
    try {
      await session.start(username, password, { register: this.registering, avatar });
    } catch (err) {
      this.session = null;
      error.textContent = errorText(err);
      $("login-submit").disabled = false;
      return;
    }
    $("login-submit").disabled = false;
    $("login-password").value = "";
    $("login-password2").value = "";
    this.showApp();
  }

  attach(session) {
    this.session = session;
    this.transfers = new Transfers(session, () => this.renderTransfers());
    session.addEventListener("state", (e) => this.stateChanged(e.detail));
    session.addEventListener("convs", () => this.renderLists());
    session.addEventListener("users", () => { this.renderPeople(); this.renderHeader(); });
    session.addEventListener("messages", (e) => { if (e.detail.conv === session.active) this.renderLog(e.detail); });
    session.addEventListener("incoming", (e) => this.incoming(e.detail));
    session.addEventListener("notice", (e) => this.notice(e.detail));
    session.addEventListener("room", () => this.renderHeader());
    session.addEventListener("bye", (e) => this.bye(e.detail));
    session.visible = !document.hidden;
  }

  // A round picture: the user's avatar once it has come, until then an initial on a colour
  avatar(name, extra = "") {
    const box = el("span", { class: `avatar ${extra}`, "aria-hidden": "true" });
    let hash = 0;
    for (const c of name) hash = (hash * 31 + c.codePointAt(0)) >>> 0;
    box.dataset.hue = String(hash % 8);
    box.textContent = [...name][0].toUpperCase();
    const url = this.session.avatarUrl(name);
    if (url) url.then((u) => { box.replaceChildren(el("img", { src: u, alt: "" })); }).catch(() => {});
    return box;
  }

  showApp() {
    $("login-view").hidden = true;
    $("app-view").hidden = false;
    $("me-name").textContent = this.session.me.name;
    $("me-avatar").replaceWith(Object.assign(this.avatar(this.session.me.name), { id: "me-avatar" }));
    $("open-admin").hidden = !this.session.me.admin;
    this.loadStickers();
    const first = this.session.convs.has("#lobby") ? "#lobby" : [...this.session.convs.keys()][0];
    this.renderAll();
    if (first && !PHONE.matches) this.open(first);
    else this.layout();
  }

  stateChanged({ state, retryIn, reason, code }) {
    const label = $("link-state");
    if (!label) return;
    label.dataset.state = state;
    if (state === "online") label.textContent = t("online");
    else if (state === "connecting") label.textContent = t("connecting");
    else if (state === "offline" && retryIn !== undefined) label.textContent = t("reconnecting_in", { s: retryIn });
    else label.textContent = t("offline");
    if (state === "stopped" && code !== "logout" && this.session && this.session.me) {
      this.showNotice(code === "banned" ? t("bye_banned", { message: reason || "" }) : t("kicked", { message: reason || "" }), "error");
    }
    if (state === "stopped" && code === "logout") this.backToLogin();
  }

  bye(bye) {
    if (bye.code === "shutdown") this.showNotice(t("kicked", { message: bye.message }), "info");
  }

  backToLogin() {
    $("app-view").hidden = true;
    $("login-view").hidden = false;
    this.session = null;
    $("login-user").focus();
  }

  visibilityChanged() {
    if (!this.session) return;
    this.session.visible = !document.hidden;
    if (!document.hidden && this.session.active) {
      this.session.markRead(this.session.active);
      if (this.session.state === "offline") this.session.reconnectNow();
    }
  }

  // -- the app view
  wireApp() {
    $("composer").addEventListener("submit", (e) => { e.preventDefault(); this.sendTyped(); });
    const input = $("message-input");
    input.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); this.sendTyped(); }
    });
    input.addEventListener("input", () => this.growInput());
    $("back").addEventListener("click", () => { this.session.active = null; this.layout(); this.renderLists(); });
    $("load-older").addEventListener("click", () => this.loadOlder());
    $("log-wrap").addEventListener("scroll", () => {
      const wrap = $("log-wrap");
      // following the newest messages while the view is at the bottom (pictures that load
      // later keep it there)
      this.stick = wrap.scrollHeight - wrap.scrollTop - wrap.clientHeight < 60;
      if (wrap.scrollTop < 40 && this.session?.active) this.loadOlder(true);
    });
    $("file-button").addEventListener("click", () => $("file-input").click());
    $("file-input").addEventListener("change", () => {
      for (const file of $("file-input").files) this.transfers.send(this.session.active, file);
      $("file-input").value = "";
    });
    $("emoji-button").addEventListener("click", () => this.togglePanel("emoji"));
    $("sticker-button").addEventListener("click", () => this.togglePanel("sticker"));
    $("open-settings").addEventListener("click", () => this.openSettings());
    $("logout").addEventListener("click", () => { $("settings-dialog").close(); this.session.logout(); });
    $("settings-notify").addEventListener("click", () => this.askNotifications());
    $("new-room").addEventListener("click", () => this.newRoom());
    $("room-form").addEventListener("submit", (e) => this.createRoom(e));
    $("browse-rooms").addEventListener("click", () => this.browseRooms());
    $("conv-members").addEventListener("click", () => this.showMembers());
    $("conv-leave").addEventListener("click", () => this.leaveRoom());
    $("topic-save").addEventListener("click", () => this.saveTopic());
    $("open-admin").addEventListener("click", () => this.openAdmin());
    $("sessions-refresh").addEventListener("click", () => this.loadSessions());
    $("notice-send").addEventListener("click", () => this.sendNotice());
    $("info-look").addEventListener("click", () => this.lookUp());
    $("info-user").addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); this.lookUp(); } });
    $("info-notice").addEventListener("click", () => this.sendNotice(this.shownUser?.name));
    $("info-kick").addEventListener("click", () => this.kick(this.shownUser.name, "kick"));
    $("info-ban").addEventListener("click", () => this.kick(this.shownUser.name, "ban"));
    $("info-unban").addEventListener("click", () => this.unban(this.shownUser.name));
    for (const list of ["room-list", "private-list", "people-list"]) this.listKeys($(list));
    document.addEventListener("keydown", (e) => {
      if (e.key === "Escape") this.closePanels();
    });
    $("log").addEventListener("click", (e) => this.logClick(e));
    $("search").addEventListener("input", () => this.renderLog({ jump: true }));
    $("search").addEventListener("keydown", (e) => { if (e.key === "Escape") { $("search").value = ""; this.renderLog({ jump: true }); } });
    // pictures pasted, files dropped on the conversation: sent as files
    $("message-input").addEventListener("paste", (e) => {
      const files = [...(e.clipboardData?.files || [])];
      if (files.length && this.session?.active) { e.preventDefault(); for (const f of files) this.transfers.send(this.session.active, f); }
    });
    $("conversation").addEventListener("dragover", (e) => { if (this.session?.active) e.preventDefault(); });
    $("conversation").addEventListener("drop", (e) => {
      const files = [...(e.dataTransfer?.files || [])];
      if (files.length && this.session?.active) { e.preventDefault(); for (const f of files) this.transfers.send(this.session.active, f); }
    });
  }

  // listbox keys: arrows move, Home/End jump, Enter/Space choose
  listKeys(list) {
    list.addEventListener("keydown", (e) => {
      const items = [...list.querySelectorAll("[role=option]")];
      const i = items.indexOf(document.activeElement);
      let next = null;
      if (e.key === "ArrowDown") next = items[Math.min(items.length - 1, i + 1)];
      else if (e.key === "ArrowUp") next = items[Math.max(0, i - 1)];
      else if (e.key === "Home") next = items[0];
      else if (e.key === "End") next = items[items.length - 1];
      else if ((e.key === "Enter" || e.key === " ") && i >= 0) { e.preventDefault(); items[i].click(); return; }
      if (next) { e.preventDefault(); for (const item of items) item.tabIndex = -1; next.tabIndex = 0; next.focus(); }
    });
  }

  layout() {
    const inConv = !!(this.session && this.session.active);
    document.body.classList.toggle("in-conv", inConv);
    $("empty").hidden = inConv;
    $("composer").hidden = !inConv;
    $("conv-members").hidden = !inConv || !this.session.active.startsWith("#");
    $("conv-leave").hidden = !inConv || this.session.active === "#lobby" || !this.session.active.startsWith("#");
  }

  renderAll() {
    if (!this.session || !this.session.me) return;
    this.stateChanged({ state: this.session.state });
    this.renderLists();
    this.renderPeople();
    this.renderHeader();
    this.renderLog({});
    this.renderTransfers();
    this.renderStickers();
    this.layout();
  }

  convItem(conv) {
    const active = this.session.active === conv.key;
    const label = conv.unread ? `${conv.key}, ${t("unread_badge", { n: conv.unread > 999 ? "999+" : conv.unread })}` : conv.key;
    const item = el("li", { role: "option", "aria-selected": active ? "true" : "false", tabindex: active ? "0" : "-1",
                            class: `conv${active ? " active" : ""}`, "aria-label": label, "data-conv": conv.key,
                            onclick: () => this.open(conv.key) });
    if (!conv.isRoom) {
      const u = this.session.users.get(conv.name);
      item.append(el("span", { class: `dot${u && u.online ? " on" : ""}`, "aria-hidden": "true" }));
    }
    item.append(el("span", { class: "conv-name", text: conv.isRoom ? conv.key : conv.name }));
    if (conv.unread) item.append(el("span", { class: "badge", "aria-hidden": "true", text: conv.unread > 999 ? "999+" : String(conv.unread) }));
    return item;
  }

  renderLists() {
    if (!this.session || !this.session.me) return;
    const convs = [...this.session.convs.values()];
    const rooms = convs.filter((c) => c.isRoom).sort((a, b) => (a.key === "#lobby" ? -1 : b.key === "#lobby" ? 1 : a.key.localeCompare(b.key)));
    const privates = convs.filter((c) => !c.isRoom).sort((a, b) => (b.lastTs || "").localeCompare(a.lastTs || ""));
    $("room-list").replaceChildren(...rooms.map((c) => this.convItem(c)));
    $("private-list").replaceChildren(...privates.map((c) => this.convItem(c)));
    for (const list of [$("room-list"), $("private-list")]) {
      if (!list.querySelector("[tabindex='0']") && list.firstChild) list.firstChild.tabIndex = 0;
    }
    const total = convs.reduce((n, c) => n + c.unread, 0);
    document.title = total ? `(${total}) ${t("app_title")}` : t("app_title");
  }

  renderPeople() {
    if (!this.session || !this.session.me) return;
    const users = [...this.session.users.values()].sort((a, b) => (b.online - a.online) || a.name.localeCompare(b.name));
    $("online-count").textContent = t("online_count", { n: this.session.onlineCount });
    $("people-list").replaceChildren(...users.map((u, i) => {
      const me = u.name === this.session.me.name;
      const status = u.online ? t("online") : (u.last_seen ? t("last_seen", { t: when(u.last_seen) }) : t("never_seen"));
      return el("li", { role: "option", tabindex: i === 0 ? "0" : "-1", class: "person", "aria-selected": "false", "data-user": u.name,
                        "aria-label": `${u.name}${me ? ` (${t("you")})` : ""}, ${status}`,
                        onclick: () => { if (!me) this.open("@" + u.name); } },
        el("span", { class: `dot${u.online ? " on" : ""}`, "aria-hidden": "true" }),
        this.avatar(u.name, "small"),
        el("span", { class: "conv-name", text: u.name + (me ? ` (${t("you")})` : "") }),
        u.admin ? el("span", { class: "tag", text: t("me_admin") }) : null,
        el("span", { class: "muted small", "aria-hidden": "true", text: u.online ? "" : status }));
    }));
    this.renderLists();
  }

  renderHeader() {
    if (!this.session) return;
    const key = this.session.active;
    if (!key) { $("conv-title").textContent = ""; $("conv-topic").textContent = ""; return; }
    const conv = this.session.conv(key);
    $("conv-title").textContent = key;
    if (conv.isRoom) {
      const room = this.session.rooms.get(conv.name);
      const parts = [conv.topic || "", room && room.members ? t("members_count", { n: room.members }) : ""];
      $("conv-topic").textContent = parts.filter(Boolean).join(" · ");
    } else {
      const u = this.session.users.get(conv.name);
      $("conv-topic").textContent = u ? (u.online ? t("online") : (u.last_seen ? t("last_seen", { t: when(u.last_seen) }) : t("never_seen"))) : "";
    }
  }

  async open(key) {
    const session = this.session;
    if (session.active !== key) $("search").value = "";
    session.active = key;
    const conv = session.conv(key);
    this.renderLists();
    this.renderHeader();
    this.layout();
    this.renderLog({ jump: true });
    if (!conv.loadedHistory) {
      try { await session.loadOlder(key); } catch (e) { /* offline: shown when back */ }
      this.renderLog({ jump: true });
    }
    session.markRead(key);
    if (PHONE.matches || document.activeElement === document.body) $("message-input").focus();
    else $("message-input").focus();
  }

  async loadOlder(auto = false) {
    const key = this.session.active;
    const conv = this.session.conv(key);
    if (!conv.more || this.loadingOlder) return;
    if (auto && !conv.loadedHistory) return;
    this.loadingOlder = true;
    try { await this.session.loadOlder(key); } catch (e) { /* offline */ }
    this.loadingOlder = false;
  }

  renderLog({ jump = false, older = false } = {}) {
    const wrap = $("log-wrap");
    const log = $("log");
    const key = this.session && this.session.active;
    if (!key) { log.replaceChildren(); $("load-older").hidden = true; return; }
    const conv = this.session.conv(key);
    const atBottom = this.stick !== false;
    const fromBottom = wrap.scrollHeight - wrap.scrollTop;
    const query = $("search").value.trim().toLowerCase();
    const shown = query ? conv.messages.filter((m) => [m.text, m.from, m.file && m.file.name]
      .some((v) => v && v.toLowerCase().includes(query))) : conv.messages;
    log.replaceChildren(...shown.map((m) => this.messageItem(conv, m)));
    $("search-count").textContent = query ? t("search_found", { n: shown.length }) : "";
    $("load-older").hidden = !conv.more;
    if (!conv.more && conv.messages.length) log.prepend(el("li", { class: "muted start", text: t("no_more") }));
    if (older) wrap.scrollTop = wrap.scrollHeight - fromBottom;
    else if (jump || atBottom) { wrap.scrollTop = wrap.scrollHeight; this.stick = true; }
  }

  messageItem(conv, m) {
    const me = this.session.me.name;
    const mine = m.from === me;
    const item = el("li", { class: `msg${mine ? " mine" : ""}${m.file && isSticker(m.file) ? " sticker" : ""}`,
                            "data-id": m.id || "", "data-cid": m.cid || "",
                            "aria-label": t("message_from", { from: m.from, time: clock(m.ts) }) });
    const head = el("div", { class: "msg-head" },
      el("span", { class: "from", text: m.from }),
      el("time", { datetime: m.ts || "", title: m.ts ? new Date(m.ts).toLocaleString() : "", text: clock(m.ts) }));
    item.append(head);
    const body = el("div", { class: "msg-body" });
    if (m.file) body.append(this.fileView(m.file));
    else body.append(el("span", { class: "text", text: m.text || "" }));
    item.append(body);
    const meta = [];
    if (m.burn) meta.push(el("span", { class: "burn", text: `🔥 ${t("burn_after", { s: m.burn })}` }));
    if (m.state === "sending") meta.push(el("span", { class: "state", text: t("sending") }));
    if (m.state === "failed") {
      meta.push(el("span", { class: "state error", text: `${t("failed")}: ${m.error || ""}` }));
      meta.push(el("button", { type: "button", class: "link", "data-retry": m.cid, text: t("retry") }));
    }
    if (mine && m.id && !conv.isRoom && conv.peerRead >= m.id) meta.push(el("span", { class: "read-mark", text: `✓ ${t("read")}` }));
    if (meta.length) item.append(el("div", { class: "msg-meta" }, ...meta));
    return item;
  }

  fileView(file) {
    const box = el("div", { class: isImage(file) ? "file picture" : "file" });
    if (isImage(file) || isSticker(file)) {
      const img = el("img", { alt: file.name, class: isSticker(file) ? "sticker-img" : "inline-img", "data-file": String(file.id), tabindex: "0", role: "button",
                              title: t("open_picture") });
      const builtin = this.builtinSticker(file.sha256);
      if (builtin) img.src = builtin;
      else {
        const url = this.transfers.imageUrl(file);
        if (url) url.then((u) => { img.src = u; }).catch(() => {});
      }
      img.addEventListener("load", () => { if (this.stick) $("log-wrap").scrollTop = $("log-wrap").scrollHeight; });
      img.addEventListener("keydown", (e) => { if (e.key === "Enter") this.viewPicture(img); });
      img.addEventListener("click", () => this.viewPicture(img));
      box.append(img);
      if (isSticker(file)) return box;
    }
    box.append(el("span", { class: "file-name", text: `📄 ${file.name}` }),
               el("span", { class: "muted small", text: ` ${formatSize(file.size)} ` }));
    if (file.complete !== false) {
      box.append(el("button", { type: "button", class: "link", "data-download": String(file.id),
                                "aria-label": `${t("download")}: ${file.name}`, text: t("download") }));
    }
    this.fileViews = this.fileViews || new Map();
    this.fileViews.set(String(file.id), file);
    return box;
  }

  viewPicture(img) {
    if (!img.src) return;
    $("viewer-img").src = img.src;
    $("viewer-img").alt = img.alt;
    $("viewer-dialog").showModal();
  }

  logClick(e) {
    const download = e.target.closest("[data-download]");
    if (download) {
      const file = this.fileViews.get(download.dataset.download);
      this.transfers.save(file).catch((err) => { if (err.code !== "cancelled") this.showNotice(errorText(err), "error"); });
      return;
    }
    const retry = e.target.closest("[data-retry]");
    if (retry) this.session.retry(this.session.active, retry.dataset.retry);
  }

  growInput() {
    const input = $("message-input");
    input.style.height = "auto";
    input.style.height = `${Math.min(input.scrollHeight, 160)}px`;
  }

  sendTyped() {
    const input = $("message-input");
    const text = input.value;
    const key = this.session && this.session.active;
    if (!key || !text.trim()) return;
    const max = this.session.limits.max_text || 16000;
    if ([...text].length > max) { this.showNotice(t("err_generic", { message: `> ${max}` }), "error"); return; }
    this.session.send(key, text, { burn: $("burn").checked ? BURN_SECONDS : null });
    input.value = "";
    this.growInput();
    this.renderLog({ jump: true });
  }

  // -- transfers
  renderTransfers() {
    const box = $("transfers");
    box.replaceChildren(...this.transfers.items.map((item) => {
      let label;
      if (item.state === "hashing") label = t("hashing", { name: item.name });
      else if (item.state === "failed") label = t("transfer_failed", { name: item.name, message: errorText(item.error) });
      else if (item.state === "cancelled") label = t("transfer_cancelled", { name: item.name });
      else if (item.state === "waiting") label = t("transfer_waiting", { name: item.name });
      else if (item.state === "done") label = item.direction === "up" ? t("upload_done", { name: item.name }) : item.name;
      else label = t(item.direction === "up" ? "uploading" : "downloading", { name: item.name });
      const running = !["done", "failed", "cancelled"].includes(item.state);
      return el("div", { class: `transfer ${item.state}` },
        el("span", { class: "transfer-label", text: label }),
        el("progress", { max: String(Math.max(1, item.size)), value: String(item.done), "aria-label": label }),
        el("span", { class: "muted small", text: `${formatSize(item.done)} / ${formatSize(item.size)}` }),
        running ? el("button", { type: "button", class: "link", text: t("cancel_transfer"), onclick: () => item.cancel() }) : null);
    }));
  }

  // -- emoji and stickers
  togglePanel(which) {
    const panel = $(`${which}-panel`);
    const button = $(`${which}-button`);
    const open = panel.hidden;
    this.closePanels();
    if (!open) return;
    panel.hidden = false;
    button.setAttribute("aria-expanded", "true");
    if (which === "emoji") this.renderEmoji();
    else this.renderStickers();
    const first = panel.querySelector("button");
    if (first) first.focus();
  }

  closePanels() {
    for (const which of ["emoji", "sticker"]) {
      if (!$(`${which}-panel`).hidden) {
        $(`${which}-panel`).hidden = true;
        $(`${which}-button`).setAttribute("aria-expanded", "false");
        $(`${which}-button`).focus();
      }
    }
  }

  renderEmoji() {
    const grid = $("emoji-grid");
    if (grid.childElementCount) return;
    grid.append(...EMOJI.map((emoji) => el("button", { type: "button", role: "option", class: "emoji", text: emoji, "aria-label": emoji,
      onclick: () => {
        const input = $("message-input");
        const at = input.selectionStart ?? input.value.length;
        input.value = input.value.slice(0, at) + emoji + input.value.slice(input.selectionEnd ?? at);
        input.selectionStart = input.selectionEnd = at + emoji.length;
        this.closePanels();
        input.focus();
      } })));
    this.gridKeys(grid, 8);
  }

  gridKeys(grid, columns) {
    grid.addEventListener("keydown", (e) => {
      const items = [...grid.querySelectorAll("button")];
      const i = items.indexOf(document.activeElement);
      const step = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: columns, ArrowUp: -columns }[e.key];
      if (step && i >= 0) {
        e.preventDefault();
        items[Math.max(0, Math.min(items.length - 1, i + step))].focus();
      }
    });
  }

  async loadStickers() {
    if (this.stickers) return;
    try {
      const response = await fetch("stickers/index.json");
      this.stickers = await response.json();
      this.stickerBySha = new Map();
      for (const set of this.stickers.sets) for (const s of set.stickers) this.stickerBySha.set(s.sha256, `stickers/${s.file}`);
      this.renderLog({});
    } catch (e) { this.stickers = { sets: [] }; this.stickerBySha = new Map(); }
  }

  builtinSticker(sha) { return this.stickerBySha ? this.stickerBySha.get(sha) : null; }

  renderStickers() {
    const grid = $("sticker-grid");
    if (!this.stickers) return;
    grid.replaceChildren();
    for (const set of this.stickers.sets) {
      grid.append(el("h3", { class: "set-title", text: t(set.title) }));
      for (const s of set.stickers) {
        grid.append(el("button", { type: "button", role: "option", class: "sticker-choice", "aria-label": `${t(set.title)}: ${s.name}`,
                                   onclick: () => this.sendSticker(s) },
          el("img", { src: `stickers/${s.file}`, alt: "" })));
      }
    }
    if (!grid.dataset.keys) { grid.dataset.keys = "1"; this.gridKeys(grid, 5); }
  }

  async sendSticker(sticker) {
    this.closePanels();
    const response = await fetch(`stickers/${sticker.file}`);
    const blob = await response.blob();
    this.transfers.send(this.session.active, blob, { name: `${sticker.name}.png`, mime: "image/png; sticker" });
    $("message-input").focus();
  }

  // -- notifications
  incoming({ msg, seen }) {
    if (!document.hidden) return;
    if (globalThis.Notification && Notification.permission === "granted") {
      const text = msg.file ? msg.file.name : (msg.text || "");
      const n = new Notification(t("notify_new", { from: msg.from, conv: msg.conv }), { body: text.slice(0, 200), tag: msg.conv });
      n.onclick = () => { globalThis.focus(); this.open(msg.conv); n.close(); };
    }
  }

  askNotifications() {
    if (!globalThis.Notification) return;
    Notification.requestPermission().then(() => this.showNotifyState());
  }

  showNotifyState() {
    const state = globalThis.Notification ? Notification.permission : "denied";
    $("notify-state").textContent = state === "granted" ? t("notifications_on") : state === "denied" ? t("notifications_denied") : t("notifications_off");
  }

  notice(event) {
    const text = event.kind === "shutdown" ? t("shutdown_notice", { s: event.seconds, text: event.text || "" })
      : `${t("notice_from", { from: event.from })}: ${event.text}`;
    this.showNotice(text, "notice");
    if (document.hidden && globalThis.Notification && Notification.permission === "granted") new Notification(text);
  }

  showNotice(text, kind = "info") {
    const box = $("notices");
    const item = el("div", { class: `notice ${kind}`, role: kind === "error" ? "alert" : null },
      el("span", { text }), el("button", { type: "button", class: "icon", "aria-label": t("close"), text: "×", onclick: () => item.remove() }));
    box.append(item);
    if (kind !== "error" && kind !== "notice") setTimeout(() => item.remove(), 10000);
  }

  // -- settings, rooms, admin
  openSettings() {
    this.fillSelects();
    this.showNotifyState();
    const policy = this.session.policy || {};
    const lines = [];
    if (policy.message_log) lines.push(t("policy_log"));
    if (policy.monitoring) lines.push(t("policy_monitoring"));
    if (policy.persistent === false) lines.push(t("policy_lite"));
    $("settings-policy").textContent = lines.join(" ");
    $("settings-dialog").showModal();
  }

  newRoom() {
    $("room-name").value = "";
    $("room-topic").value = "";
    $("room-error").textContent = "";
    $("room-dialog").showModal();
  }

  async createRoom(e) {
    if (e.submitter && e.submitter.value !== "ok") return;
    e.preventDefault();
    const room = $("room-name").value.trim();
    if (!room) return;
    try {
      const data = await this.session.request("create_room", { room, topic: $("room-topic").value });
      this.session.rooms.set(data.room.name, data.room);
      this.session.conv("#" + data.room.name).topic = data.room.topic;
      $("room-dialog").close();
      this.open("#" + data.room.name);
    } catch (error) {
      $("room-error").textContent = errorText(error);
    }
  }

  async browseRooms() {
    const list = $("browse-list");
    list.replaceChildren();
    $("browse-dialog").showModal();
    try {
      const data = await this.session.request("rooms", { limit: 500 });
      list.replaceChildren(...data.rooms.map((room) => el("li", {},
        el("strong", { text: `#${room.name}` }), el("span", { class: "muted", text: ` ${room.topic || ""} · ${t("members_count", { n: room.members })} ` }),
        room.member ? el("span", { class: "tag", text: t("joined_room") })
          : el("button", { type: "button", text: t("join"), onclick: async () => {
            try {
              const joined = await this.session.request("join", { room: room.name });
              this.session.rooms.set(joined.room.name, joined.room);
              this.session.conv("#" + joined.room.name).topic = joined.room.topic;
              $("browse-dialog").close();
              this.open("#" + joined.room.name);
            } catch (error) { this.showNotice(errorText(error), "error"); }
          } }))));
    } catch (error) { list.append(el("li", { class: "error", text: errorText(error) })); }
  }

  async showMembers() {
    const key = this.session.active;
    if (!key || !key.startsWith("#")) return;
    const conv = this.session.conv(key);
    $("topic-edit").value = conv.topic || "";
    $("members-title").textContent = `${t("members")} · ${key}`;
    const list = $("members-list");
    list.replaceChildren();
    $("members-dialog").showModal();
    try {
      const data = await this.session.request("members", { room: conv.name, limit: 500 });
      list.replaceChildren(...data.members.map((m) => el("li", {},
        el("span", { class: `dot${m.online ? " on" : ""}`, "aria-hidden": "true" }), el("span", { text: ` ${m.name} ` }),
        el("span", { class: "muted small", text: m.online ? t("online") : t("offline") }))));
    } catch (error) { list.append(el("li", { class: "error", text: errorText(error) })); }
  }

  async saveTopic() {
    const key = this.session.active;
    try {
      await this.session.request("set_topic", { room: key.slice(1), topic: $("topic-edit").value });
      $("members-dialog").close();
    } catch (error) { this.showNotice(errorText(error), "error"); }
  }

  async leaveRoom() {
    const key = this.session.active;
    if (!key || !key.startsWith("#") || !globalThis.confirm(t("leave_confirm", { room: key }))) return;
    try {
      await this.session.request("leave", { room: key.slice(1) });
      this.session.convs.delete(key);
      this.session.active = null;
      this.renderAll();
    } catch (error) { this.showNotice(errorText(error), "error"); }
  }

  openAdmin() {
    $("admin-status").textContent = "";
    $("known-users").replaceChildren(...[...this.session.users.keys()].sort().map((name) => el("option", { value: name })));
    $("admin-dialog").showModal();
    this.loadSessions();
  }

  async loadSessions() {
    const body = $("sessions-body");
    const me = this.session.me.name;
    try {
      const data = await this.session.request("sessions");
      body.replaceChildren(...data.sessions.map((s) => el("tr", {},
        el("td", {}, el("button", { type: "button", class: "link", text: s.user, "aria-label": `${t("look_up")}: ${s.user}`,
                                    onclick: () => this.lookUp(s.user) })),
        el("td", { text: `${s.address}` }), el("td", { text: s.client || "" }),
        el("td", { text: `${s.idle} s` }),
        el("td", {}, s.user === me ? null : el("button", { type: "button", text: t("kick"), onclick: () => this.kick(s.user, "kick") }),
                     s.user === me ? null : el("button", { type: "button", text: t("ban"), onclick: () => this.kick(s.user, "ban") })))));
    } catch (error) { $("admin-status").textContent = errorText(error); }
  }

  // An account as user_info tells it: state, rooms, sessions; kick, ban, unban, a notice
  async lookUp(name = $("info-user").value) {
    name = (name || "").trim().replace(/^@/, "");
    if (!name) return;
    $("info-user").value = name;
    try {
      const data = await this.session.request("user_info", { user: name });
      this.shownUser = data.user;
      this.renderUserInfo();
    } catch (error) {
      this.shownUser = null;
      $("user-info").hidden = true;
      $("admin-status").textContent = errorText(error);
    }
  }

  renderUserInfo() {
    const u = this.shownUser;
    if (!u) { $("user-info").hidden = true; return; }
    const me = u.name === this.session.me.name;
    const status = u.online ? t("online") : (u.last_seen ? t("last_seen", { t: when(u.last_seen) }) : t("never_seen"));
    const sessions = (u.sessions || []).map((s) => `${s.address} (${s.client || "?"})`).join(", ");
    const fields = [
      [t("user"), u.name + (u.admin ? ` · ${t("me_admin")}` : "")],
      [t("status"), status],
      [t("created"), u.created ? when(u.created) : ""],
      [t("banned_field"), u.banned ? (u.ban_reason ? t("banned_yes_reason", { reason: u.ban_reason }) : t("banned_yes")) : t("banned_no")],
      [t("rooms"), (u.rooms || []).map((r) => `#${r}`).join(" ")],
      [t("sessions"), sessions || "—"],
    ];
    $("info-fields").replaceChildren(...fields.flatMap(([name, value]) => [el("dt", { text: name }), el("dd", { text: value })]));
    $("info-kick").hidden = me || !u.online;
    $("info-ban").hidden = me || u.banned;
    $("info-unban").hidden = !u.banned;
    $("info-notice").hidden = !u.online;
    $("user-info").hidden = false;
  }

  async kick(user, kind) {
    const reason = globalThis.prompt(t("kick_reason"), "");
    if (reason === null) return;
    try {
      const data = await this.session.request(kind, { user, reason });
      $("admin-status").textContent = t(kind === "ban" ? "banned_user" : "kicked_user", { user, n: data.closed });
      this.loadSessions();
      if (this.shownUser && this.shownUser.name === user) this.lookUp(user);
    } catch (error) { $("admin-status").textContent = errorText(error); }
  }

  async unban(user) {
    try {
      await this.session.request("unban", { user });
      $("admin-status").textContent = t("unbanned_user", { user });
      if (this.shownUser && this.shownUser.name === user) this.lookUp(user);
    } catch (error) { $("admin-status").textContent = errorText(error); }
  }

  // to everybody, or (`to`) to every connection of one user
  async sendNotice(to = null) {
    const text = $("notice-text").value.trim();
    if (!text) { $("notice-text").focus(); return; }
    try {
      const data = await this.session.request("notice", to ? { text, to } : { text });
      $("admin-status").textContent = t("notice_sent", { n: data.delivered });
      $("notice-text").value = "";
    } catch (error) { $("admin-status").textContent = errorText(error); }
  }
}
