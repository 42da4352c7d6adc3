// Every string the page shows, in English and Chinese; switching applies at once (elements
// with data-i18n, data-i18n-label, data-i18n-placeholder, data-i18n-title, and whatever the
// app renders again).

const STRINGS = {
  en: {
    app_title: "Chat", username: "User name", password: "Password",
    password_again: "Password again", avatar_optional: "Picture (optional)",
    log_in: "Log in", create_account: "Create an account", register: "Create account",
    have_account: "I have an account", settings: "Settings", server_address: "Server address",
    language: "Language", theme: "Theme", theme_auto: "As the system", theme_light: "Light",
    theme_dark: "Dark", conversations: "Conversations", new_room: "New room",
    rooms_browse: "Rooms…", admin: "Admin", rooms: "Rooms", private_chats: "Private chats",
    people: "People", back: "Back", members: "Members", leave_room: "Leave room",
    load_older: "Load older messages", choose_conversation: "Choose a conversation.",
    emoji: "Emoji", stickers: "Stickers", send_file: "Send a file",
    burn_title: "Burn after reading", message: "Message", type_message: "Type a message",
    send: "Send", enable_notifications: "Desktop notifications", log_out: "Log out",
    close: "Close", room_name: "Room name", topic: "Topic", cancel: "Cancel", create: "Create",
    save: "Save", notice_to_all: "Notice to everybody", sessions: "Sessions", user: "User",
    address: "Address", client: "Client", idle: "Idle", actions: "Actions", refresh: "Refresh",
    online: "online", offline: "offline", connecting: "connecting…",
    reconnecting_in: "offline, trying again in {s} s", online_count: " ({n} online)",
    sending: "sending…", failed: "not sent", retry: "Send again", read: "read",
    join: "Join", joined_room: "member", kick: "Kick", ban: "Ban", unban: "Unban",
    kick_reason: "Reason (optional)", no_more: "This is the beginning.",
    last_seen: "last seen {t}", never_seen: "never online", you: "you",
    burn_after: "burns {s} s after reading", burned: "burned",
    notice_from: "Notice from {from}", shutdown_notice: "The server stops in {s} s. {text}",
    kicked: "You were disconnected: {message}", bye_banned: "Your account was banned: {message}",
    err_bad_credentials: "Wrong user name or password.",
    err_name_taken: "That name is taken.", err_bad_request: "Not accepted: {message}",
    err_rate_limited: "Too fast. Try again in {s} s.", err_banned: "{message}",
    err_link_lost: "No connection to the server.", err_cannot_connect: "Cannot reach the server.",
    err_passwords_differ: "The two passwords differ.", err_generic: "{message}",
    err_fill_in: "Enter a user name and a password.",
    registered: "Account created. Logging in…", enable: "Allow", notifications_on: "on",
    notifications_off: "off", notifications_denied: "blocked by the browser",
    notify_new: "{from} in {conv}", file_too_large: "{name} is larger than the server takes ({max}).",
    download: "Download", cancel_transfer: "Cancel", hashing: "checking {name}…",
    uploading: "sending {name}", downloading: "receiving {name}", upload_done: "{name} sent",
    transfer_failed: "{name}: {message}", transfer_cancelled: "{name}: cancelled",
    checksum_bad: "the data does not match its SHA-256", open_picture: "Open picture",
    policy_log: "The server keeps a log of all messages; its operator can read them.",
    policy_monitoring: "Admins on this server may watch conversations live.",
    policy_lite: "This server keeps nothing after a restart.",
    members_count: "{n} members", members_count_one: "1 member", notice_sent: "Delivered to {n}.", me_admin: "admin",
    unread_badge: "{n} unread", sticker_set_faces: "Faces", sticker_set_animals: "Animals",
    sticker_set_words: "Words", file_label: "File {name}, {size}", message_from: "{from}, {time}",
    leave_confirm: "Leave {room}?", search: "Search", search_found: "{n} found", kicked_user: "{user}: {n} connections closed",
    kicked_user_one: "{user}: 1 connection closed", banned_user: "{user} banned; {n} connections closed",
    banned_user_one: "{user} banned; 1 connection closed", unbanned_user: "{user} may log in again.",
    user_lookup: "A user", look_up: "Look up", status: "Status", created: "Account made",
    banned_field: "Banned", banned_yes: "yes", banned_yes_reason: "yes: {reason}", banned_no: "no",
    notice_to_user: "Send the notice to this user",
    transfer_waiting: "{name}: waiting for the connection, then on from where it stopped",
  },
  zh: {
    app_title: "聊天", username: "用户名", password: "密码", password_again: "再次输入密码",
    avatar_optional: "头像（可选）", log_in: "登录", create_account: "注册新账号",
    register: "注册", have_account: "已有账号", settings: "设置", server_address: "服务器地址",
    language: "语言", theme: "主题", theme_auto: "跟随系统", theme_light: "浅色", theme_dark: "深色",
    conversations: "会话", new_room: "新建房间", rooms_browse: "房间列表…", admin: "管理",
    rooms: "房间", private_chats: "私聊", people: "用户", back: "返回", members: "成员",
    leave_room: "退出房间", load_older: "加载更早的消息", choose_conversation: "请选择一个会话。",
    emoji: "表情", stickers: "贴图", send_file: "发送文件", burn_title: "阅后即焚",
    message: "消息", type_message: "输入消息", send: "发送", enable_notifications: "桌面通知",
    log_out: "退出登录", close: "关闭", room_name: "房间名", topic: "主题", cancel: "取消",
    create: "创建", save: "保存", notice_to_all: "全体通知", sessions: "会话连接", user: "用户",
    address: "地址", client: "客户端", idle: "空闲", actions: "操作", refresh: "刷新",
    online: "在线", offline: "离线", connecting: "连接中…",
    reconnecting_in: "离线，{s} 秒后重试", online_count: "（{n} 人在线）", sending: "发送中…",
    failed: "未发送", retry: "重新发送", read: "已读", join: "加入", joined_room: "已加入",
    kick: "踢出", ban: "封禁", unban: "解封", kick_reason: "原因（可选）",
    no_more: "已经到最早的消息。", last_seen: "最后在线 {t}", never_seen: "从未上线", you: "你",
    burn_after: "阅读 {s} 秒后焚毁", burned: "已焚毁", notice_from: "来自 {from} 的通知",
    shutdown_notice: "服务器将在 {s} 秒后停止。{text}", kicked: "连接已断开：{message}",
    bye_banned: "你的账号已被封禁：{message}", err_bad_credentials: "用户名或密码错误。",
    err_name_taken: "这个名字已被占用。", err_bad_request: "未被接受：{message}",
    err_rate_limited: "太快了，请 {s} 秒后再试。", err_banned: "{message}",
    err_link_lost: "与服务器的连接已断开。", err_cannot_connect: "无法连接服务器。",
    err_passwords_differ: "两次输入的密码不一致。", err_generic: "{message}",
    err_fill_in: "请输入用户名和密码。", registered: "账号已创建，正在登录…", enable: "允许",
    notifications_on: "已开启", notifications_off: "已关闭", notifications_denied: "已被浏览器阻止",
    notify_new: "{from}（{conv}）", file_too_large: "{name} 超过服务器允许的大小（{max}）。",
    download: "下载", cancel_transfer: "取消", hashing: "正在校验 {name}…",
    uploading: "正在发送 {name}", downloading: "正在接收 {name}", upload_done: "{name} 已发送",
    transfer_failed: "{name}：{message}", transfer_cancelled: "{name}：已取消",
    checksum_bad: "数据与 SHA-256 不符", open_picture: "查看图片",
    policy_log: "服务器保存所有消息的记录，管理员可以查看。",
    policy_monitoring: "本服务器的管理员可以实时查看会话。",
    policy_lite: "本服务器重启后不保留任何内容。", members_count: "{n} 位成员",
    notice_sent: "已送达 {n} 人。", me_admin: "管理员", unread_badge: "{n} 条未读",
    sticker_set_faces: "表情脸", sticker_set_animals: "动物", sticker_set_words: "文字",
    file_label: "文件 {name}，{size}", message_from: "{from}，{time}",
    leave_confirm: "退出 {room}？", search: "搜索", search_found: "找到 {n} 条", kicked_user: "{user}：已关闭 {n} 个连接",
    banned_user: "已封禁 {user}，关闭了 {n} 个连接", unbanned_user: "{user} 可以重新登录了。",
    user_lookup: "查询用户", look_up: "查询", status: "状态", created: "注册时间",
    banned_field: "封禁", banned_yes: "是", banned_yes_reason: "是：{reason}", banned_no: "否",
    notice_to_user: "把通知发给这个用户",
    transfer_waiting: "{name}：等待连接恢复，然后从中断处继续",
  },
};

export const LANGUAGES = [["en", "English"], ["zh", "中文"]];
let current = "en";
const listeners = [];

export function detectLanguage(stored) {
  if (stored && STRINGS[stored]) return stored;
  const nav = (globalThis.navigator && navigator.language || "en").toLowerCase();
  return nav.startsWith("zh") ? "zh" : "en";
}

export function language() { return current; }

export function setLanguage(lang) {
  current = STRINGS[lang] ? lang : "en";
  document.documentElement.lang = current === "zh" ? "zh-CN" : "en";
  applyTo(document);
  for (const f of listeners) f(current);
}

export function onLanguage(f) { listeners.push(f); }

export function t(key, params = {}) {
  const table = STRINGS[current] || STRINGS.en;
  if (params.n === 1 && `${key}_one` in table) key = `${key}_one`;     // English singulars
  let text = table[key] ?? STRINGS.en[key] ?? key;
  for (const [name, value] of Object.entries(params)) text = text.split(`{${name}}`).join(String(value));
  return text;
}

export function hasKey(key) { return key in STRINGS.en; }

export function applyTo(root) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-label]")) el.setAttribute("aria-label", t(el.dataset.i18nLabel));
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
  for (const el of root.querySelectorAll("[data-i18n-label][title]")) el.title = t(el.dataset.i18nLabel);
}

export const STRING_TABLES = STRINGS;
