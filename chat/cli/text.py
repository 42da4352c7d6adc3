"""Every string the terminal client shows, in English (``en``) and Chinese (``zh``).

``tr(lang, key, **params)`` fills a template with ``str.format``. Conventions for the
placeholders: ``{room}`` is a bare room name (the template adds ``#``), ``{conv}`` a whole
conversation (``#dev`` or ``@bob``), ``{user}`` a user name, times are already formatted.
Both catalogues must have the same keys and the same placeholders (a test checks this).
"""

import os
import unicodedata

LANGUAGES = ("en", "zh")

def display_width(text: str) -> int:
    """Columns ``text`` takes in a terminal: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def pad(text: str, width: int) -> str:
    """``text`` filled with spaces to ``width`` terminal columns."""
    return text + " " * (width - display_width(text))


def _help(title: str, rows: list[tuple[str, str]]) -> str:
    # padded by display width so that the Chinese columns line up too
    width = max(display_width(syntax) for syntax, _ in rows)
    return "\n".join([title] + [f"  {pad(syntax, width)}  {what}" for syntax, what in rows])


_HELP_USER_EN = _help("Commands:", [
    ("text", "send text to the current conversation"),
    ("//text", "send text that starts with /"),
    ("/msg @user text", "private message; without text: switch to the chat with user"),
    ("/join #room", "join a room and switch to it"),
    ("/leave [#room]", "leave the current room or the one named"),
    ("/rooms", "list the rooms"),
    ("/users [-o]", "list everybody, online first (-o: only who is online)"),
    ("/topic [text]", "show the room's topic, or set it"),
    ("/history [n]", "show the last n messages here (1-200, default 20)"),
    ("/burn text", "send a message that burns after it has been read"),
    ("/send [@user] path", "send a file here, or to a user (any type, any size the server allows)"),
    ("/files", "list the files sent here"),
    ("/get ID [dir]", "download a file (default dir ./downloads); resumes a cut download"),
    ("/help", "this help"),
    ("/quit", "leave (also /exit, exit, quit)"),
])

_HELP_USER_ZH = _help("命令：", [
    ("文字", "发送到当前对话"),
    ("//文字", "发送以 / 开头的文字"),
    ("/msg @用户 文字", "私聊；不带文字则切换到与该用户的私聊"),
    ("/join #聊天室", "加入聊天室并切换过去"),
    ("/leave [#聊天室]", "离开当前或指定的聊天室"),
    ("/rooms", "列出聊天室"),
    ("/users [-o]", "列出所有用户，在线的在前（-o：只列在线用户）"),
    ("/topic [文字]", "查看或设置聊天室主题"),
    ("/history [n]", "显示本对话最近 n 条消息（1-200，默认 20）"),
    ("/burn 文字", "发送阅后即焚消息"),
    ("/send [@用户] 路径", "发送文件到当前对话，或发给某个用户"),
    ("/files", "列出当前对话中的文件"),
    ("/get 编号 [目录]", "下载文件（默认 ./downloads），可断点续传"),
    ("/help", "显示本帮助"),
    ("/quit", "退出（也可用 /exit、exit、quit）"),
])

_HELP_ADMIN_EN = _help("Admin commands:", [
    ("/notice [@user] text", "send a notice to everybody, or to one user"),
    ("/send @all path", "send a file to everybody"),
    ("/list", "list the connections"),
    ("/user NAME", "show an account"),
    ("/kick NAME [reason]", "disconnect a user"),
    ("/ban NAME [reason]", "ban an account and disconnect it"),
    ("/unban NAME", "lift a ban"),
    ("/monitor on|off", "watch every new message live, or stop"),
    ("/shutdown [seconds] [message]", "stop the server (after 0-3600 s)"),
])

_HELP_ADMIN_ZH = _help("管理员命令：", [
    ("/notice [@用户] 文字", "向所有人（或某个用户）发公告"),
    ("/send @all 路径", "向所有人发送文件"),
    ("/list", "列出当前连接"),
    ("/user 用户名", "查看账号详情"),
    ("/kick 用户名 [原因]", "将用户踢下线"),
    ("/ban 用户名 [原因]", "封禁账号并踢下线"),
    ("/unban 用户名", "解除封禁"),
    ("/monitor on|off", "开始或停止实时监控所有新消息"),
    ("/shutdown [秒数] [说明]", "关闭服务器（0-3600 秒后）"),
])

EN = {
    # framing of lines
    "system_prefix": "[system]",
    "notice_prefix": "[notice]",
    "monitor_prefix": "[monitor]",
    "private_marker": "[private]",
    "prefixed": "{prefix} {text}",
    "notice_body": "{user}: {text}",
    "you": "you",
    "burn_marker": "(burns {seconds} s after reading)",
    "burned_text": "(burned)",
    # connecting and accounts
    "welcome": "Welcome, {user}! Online now: {online}. You are in #{room}. "
               "Type /help for commands.",
    "cannot_connect": "cannot connect to {host}:{port}: {reason}; is the server running?",
    "cannot_connect_any": "cannot connect to any of the servers ({reasons}); are they running?",
    "tls_failed": "cannot connect to {host}:{port} over TLS: {reason}",
    "port_speaks_tls": "cannot connect to {host}:{port}: this port speaks TLS: add --tls",
    "port_speaks_plain": "cannot connect to {host}:{port} over TLS: this port does not speak "
                         "TLS: leave out --tls",
    "cert_changed": "REFUSED: the TLS certificate of {server} has changed. Pinned: SHA-256 "
                    "{pinned}. Presented now: SHA-256 {presented}. Someone may be "
                    "intercepting the connection, or the server got a new certificate. Only "
                    "if its admin confirms the new fingerprint, remove the line for {server} "
                    "from {path} and connect again.",
    "bad_credentials": "Wrong user name or password.",
    "too_many_attempts": "Too many attempts; try again in {seconds} s.",
    "name_taken": "The name {user} is taken; please choose another.",
    "registered": "Account {user} created.",
    "guest_welcome": "You are a guest: the name {user} is yours until you leave. Guests "
                     "cannot send files or set an avatar.",
    "guests_off": "This server does not let guests in; log in with an account.",
    "banned": "This account is banned. {reason}",
    "kicked": "An admin disconnected you. {by_message}",
    "connection_lost": "Connection to the server lost.",
    "reconnecting": "Connection lost ({reason}); reconnecting in {seconds} s...",
    "reconnected": "Reconnected.",
    "reconnected_to": "Reconnected to {server}.",
    "server_closed": "The server closed the connection. {message}",
    "monitoring_allowed": "Privacy warning: on this server admins can watch every "
                          "conversation live, private chats included.",
    "message_log": "This server keeps every message, private ones included; "
                   "its operator can read them.",
    # commands
    "unknown_command": "Unknown command {command}; type /help for the list.",
    "usage": "Usage: {usage}",
    "bad_number": "Please give a whole number from {min} to {max}.",
    "help_user": _HELP_USER_EN,
    "help_admin": _HELP_ADMIN_EN,
    # rooms and people
    "joined": "{user} joined #{room}.",
    "left": "{user} left #{room}.",
    "you_joined": "You joined #{room}. {topic}",
    "you_left": "You left #{room}.",
    "now_in": "Now talking in {conv}.",
    "topic": "{by} set the topic of #{room}: {topic}",
    "topic_show": "Topic of #{room}: {topic}",
    "no_topic": "#{room} has no topic.",
    "online": "{user} is online.",
    "offline": "{user} went offline.",
    # messages
    "history_header": "Last {n} messages in {conv}:",
    "no_history": "No messages yet.",
    "burn_sent": "Sent; it burns {seconds} s after it has been read.",
    "burned": "Messages burned: {n}.",
    "read": "{user} has read your messages.",
    "pending": "Waiting to be sent: {n}.",
    "away_header": "While you were away, {n} new in {conv}:",
    "not_connected": "Not connected to the server; try again when reconnected.",
    "file_body": "[file] {name} ({size}, {mime}) - /get {id}",
    "file_to_all": "[file for everyone] {name} ({size}, {mime}) - /get {id}",
    "files_header": "Files in {conv}:",
    "no_files": "No files in {conv} yet.",
    "no_such_file": "No such file: {path}",
    "bad_quotes": "A quotation mark is not closed.",
    "msg_self": "You cannot open a private chat with yourself.",
    "topic_none": "#{room} has no topic.",
    "transfer_up": "Sending {name}: {percent}% ({done} of {total}, {speed}/s)",
    "transfer_down": "Receiving {name}: {percent}% ({done} of {total}, {speed}/s)",
    "transfer_hashing": "Checking {name} before sending...",
    "transfer_waiting": "{name} waits for the connection...",
    "transfer_sent": "Sent {name} ({total}) to {target}.",
    "transfer_saved": "Saved {name} ({total}) to {path}; SHA-256 verified.",
    "transfer_failed": "Transfer of {name} failed: {message}",
    "transfer_cancelled": "Transfer of {name} cancelled.",
    "transfer_resumed": "Resuming {name} from {done}.",
    "transfer_joined": "File {id} is already being downloaded into {folder}; the line above "
                       "will say when it is saved.",
    "transfer_restarted": "The partial file of {name} had changed on the disk: downloading "
                          "it again from the start.",
    "room_created": "Room #{room} created.",
    "send_failed": "Could not send: {text}",
    "unsent_at_exit": "Not confirmed by the server, may be lost ({n}):\n{list}",
    "refused_at_exit": "Refused by the server, not sent ({n}):\n{list}",
    "transfers_failed_at_exit": "File transfers that failed: {n}.",
    "goodbye": "Bye.",
    # the full-screen terminal (tui.py)
    "tui_connected": "connected",
    "tui_connecting": "connecting...",
    "tui_reconnecting": "reconnecting in {seconds} s",
    "tui_offline": "offline",
    "tui_activity": "Act:",
    "tui_windows": "Windows: {list}",
    "tui_candidates": "Completions: {list}",
    "help_tui": "Keys: Enter sends; Up/Down: lines typed before; Tab completes /commands, "
                "@names, #rooms; Alt+1..9 or /win N: window N (/win lists them); "
                "PageUp/PageDown scroll; Ctrl-A/E start/end, Ctrl-U/K/W delete; "
                "Ctrl-D on an empty line quits.",
    # admin
    "monitor_on": "Monitoring on: you see every new message.",
    "monitor_off": "Monitoring off.",
    "notice_sent": "Notice delivered to {n} user(s).",
    "kick_done": "{user} disconnected ({n} connection(s)).",
    "ban_done": "{user} is banned ({n} connection(s) closed).",
    "unban_done": "{user} may log in again.",
    "shutdown_warning": "The server will shut down in {seconds} s. {message}",
    "shutdown_now": "The server is shutting down now. {message}",
    # errors
    "forbidden": "Only admins can do that.",
    "not_found": "Not found: {what}",
    "error": "Error ({code}): {message}",
    "code_bad_request": "bad request",
    "code_unknown_type": "unknown request",
    "code_too_large": "too large",
    "code_unsupported_version": "unsupported version",
    "code_not_logged_in": "not logged in",
    "code_already_logged_in": "already logged in",
    "code_forbidden": "not allowed",
    "code_name_taken": "name taken",
    "code_bad_credentials": "wrong user name or password",
    "code_rate_limited": "too many requests",
    "code_not_found": "not found",
    "code_server_error": "server error",
    "code_cancelled": "cancelled",
    "code_quota_exceeded": "over your file quota",
    "code_no_space": "no room on the server's disk",
    "code_banned": "banned",
    # prompts: the caller adds the default and the ": "
    "prompt_host": "Server",
    "prompt_port": "Port",
    "prompt_user": "User name",
    "prompt_password": "Password",
    "prompt_password_again": "Password again",
    "passwords_differ": "The passwords differ; please try again.",
    "password_short": "A password needs at least {n} characters.",
    # lists
    "users_header": "Users: {online} online, {total} listed",
    "rooms_header": "Rooms (* = joined):",
    "sessions_header": "Connections ({online} users online):",
    "list_more": "(more not shown)",
    "state_online": "online",
    "state_last_seen": "last seen {when}",
    "state_never_seen": "never seen",
    "tag_admin": "[admin]",
    "tag_guest": "[guest]",
    "tag_banned": "[banned]",
    "room_members": "members: {names}",
    "since": "since {when}",
    "idle_for": "idle {duration}",
    "duration_s": "{n} s",
    "duration_min": "{n} min",
    "duration_h": "{h} h {min} min",
    "info_created": "created {when}",
    "info_rooms": "rooms: {rooms}",
    "info_ban_reason": "ban reason: {reason}",
    "info_session": "connected from {address} ({client}) since {since}",
}

ZH = {
    "system_prefix": "【系统】",
    "notice_prefix": "【公告】",
    "monitor_prefix": "【监控】",
    "private_marker": "[私聊]",
    # full-width brackets carry their own spacing
    "prefixed": "{prefix}{text}",
    "notice_body": "{user}：{text}",
    "you": "你",
    "burn_marker": "（阅后 {seconds} 秒焚毁）",
    "burned_text": "（已焚毁）",
    "welcome": "欢迎，{user}！当前在线 {online} 人。你在 #{room}。输入 /help 查看命令。",
    "cannot_connect": "无法连接到 {host}:{port}：{reason}。服务器是否在运行？",
    "cannot_connect_any": "无法连接到任何一台服务器（{reasons}）。服务器是否在运行？",
    "tls_failed": "无法通过 TLS 连接到 {host}:{port}：{reason}",
    "port_speaks_tls": "无法连接到 {host}:{port}：该端口使用 TLS，请加上 --tls",
    "port_speaks_plain": "无法通过 TLS 连接到 {host}:{port}：该端口不使用 TLS，请去掉 --tls",
    "cert_changed": "已拒绝连接：{server} 的 TLS 证书已改变。已记录的指纹：SHA-256 {pinned}。"
                    "现在出示的指纹：SHA-256 {presented}。可能有人在截获连接，也可能服务器换了"
                    "新证书。只有在服务器管理员确认新指纹之后，才从 {path} 中删除 {server} "
                    "那一行，然后重新连接。",
    "bad_credentials": "用户名或密码错误。",
    "too_many_attempts": "尝试次数过多，请在 {seconds} 秒后再试。",
    "name_taken": "用户名 {user} 已被占用，请换一个。",
    "registered": "账号 {user} 已创建。",
    "guest_welcome": "你是访客：在你离开之前，{user} 这个名字归你使用。访客不能发送文件，"
                     "也不能设置头像。",
    "guests_off": "此服务器不接受访客，请用账号登录。",
    "banned": "此账号已被封禁。{reason}",
    "kicked": "你已被管理员请出服务器。{by_message}",
    "connection_lost": "与服务器的连接已断开。",
    "reconnecting": "连接已断开（{reason}），{seconds} 秒后重新连接……",
    "reconnected": "已重新连接。",
    "reconnected_to": "已重新连接到 {server}。",
    "server_closed": "服务器关闭了连接。{message}",
    "monitoring_allowed": "隐私提示：此服务器允许管理员实时查看所有对话，包括私聊。",
    "message_log": "此服务器会保存所有消息（包括私聊），服务器管理者可以查看。",
    "unknown_command": "未知命令 {command}，输入 /help 查看命令列表。",
    "usage": "用法：{usage}",
    "bad_number": "请输入 {min} 到 {max} 之间的整数。",
    "help_user": _HELP_USER_ZH,
    "help_admin": _HELP_ADMIN_ZH,
    "joined": "{user} 加入了 #{room}。",
    "left": "{user} 离开了 #{room}。",
    "you_joined": "你已加入 #{room}。{topic}",
    "you_left": "你已离开 #{room}。",
    "now_in": "当前对话：{conv}。",
    "topic": "{by} 将 #{room} 的主题设为：{topic}",
    "topic_show": "#{room} 的主题：{topic}",
    "no_topic": "#{room} 还没有主题。",
    "online": "{user} 上线了。",
    "offline": "{user} 下线了。",
    "history_header": "{conv} 最近 {n} 条消息：",
    "no_history": "还没有消息。",
    "burn_sent": "已发送，对方阅读 {seconds} 秒后焚毁。",
    "burned": "已焚毁 {n} 条消息。",
    "read": "{user} 已读。",
    "pending": "待发送：{n} 条。",
    "away_header": "你离开期间 {conv} 有 {n} 条新消息：",
    "not_connected": "未连接到服务器，请在重新连接后再试。",
    "file_body": "[文件] {name}（{size}，{mime}）- /get {id}",
    "file_to_all": "[全员文件] {name}（{size}，{mime}）- /get {id}",
    "files_header": "{conv} 中的文件：",
    "no_files": "{conv} 中还没有文件。",
    "no_such_file": "找不到文件：{path}",
    "bad_quotes": "引号没有闭合。",
    "msg_self": "不能和自己私聊。",
    "topic_none": "#{room} 没有主题。",
    "transfer_up": "正在发送 {name}：{percent}%（{done} / {total}，{speed}/秒）",
    "transfer_down": "正在接收 {name}：{percent}%（{done} / {total}，{speed}/秒）",
    "transfer_hashing": "发送前校验 {name}……",
    "transfer_waiting": "{name} 正在等待连接……",
    "transfer_sent": "已将 {name}（{total}）发送到 {target}。",
    "transfer_saved": "已保存 {name}（{total}）到 {path}，SHA-256 校验通过。",
    "transfer_failed": "{name} 传输失败：{message}",
    "transfer_cancelled": "{name} 的传输已取消。",
    "transfer_resumed": "从 {done} 处继续传输 {name}。",
    "transfer_joined": "文件 {id} 已在下载到 {folder}，保存后会另行提示。",
    "transfer_restarted": "{name} 的未完成文件在磁盘上被改动过：从头重新下载。",
    "room_created": "已创建聊天室 #{room}。",
    "send_failed": "发送失败：{text}",
    "unsent_at_exit": "以下 {n} 条消息未获服务器确认，可能丢失：\n{list}",
    "refused_at_exit": "以下 {n} 条消息被服务器拒绝，未发送：\n{list}",
    "transfers_failed_at_exit": "失败的文件传输：{n} 个。",
    "goodbye": "再见。",
    # the full-screen terminal (tui.py)
    "tui_connected": "已连接",
    "tui_connecting": "正在连接……",
    "tui_reconnecting": "{seconds} 秒后重新连接",
    "tui_offline": "未连接",
    "tui_activity": "动态：",
    "tui_windows": "窗口：{list}",
    "tui_candidates": "可选：{list}",
    "help_tui": "按键：Enter 发送；上/下键：之前输入的内容；Tab 补全 /命令、@用户名、#聊天室；"
                "Alt+1..9 或 /win N：切换到窗口 N（/win 列出窗口）；PageUp/PageDown 滚动；"
                "Ctrl-A/E 行首/行尾，Ctrl-U/K/W 删除；空行上按 Ctrl-D 退出。",
    "monitor_on": "监控已开启：你会看到所有新消息。",
    "monitor_off": "监控已关闭。",
    "notice_sent": "公告已送达 {n} 位用户。",
    "kick_done": "已将 {user} 踢下线（{n} 个连接）。",
    "ban_done": "已封禁 {user}（关闭 {n} 个连接）。",
    "unban_done": "{user} 已解除封禁，可以再次登录。",
    "shutdown_warning": "服务器将在 {seconds} 秒后关闭。{message}",
    "shutdown_now": "服务器正在关闭。{message}",
    "forbidden": "只有管理员可以这样做。",
    "not_found": "找不到：{what}",
    "error": "出错（{code}）：{message}",
    "code_bad_request": "请求无效",
    "code_unknown_type": "未知请求",
    "code_too_large": "内容过长",
    "code_unsupported_version": "版本不兼容",
    "code_not_logged_in": "尚未登录",
    "code_already_logged_in": "已经登录",
    "code_forbidden": "无权操作",
    "code_name_taken": "名称已被占用",
    "code_bad_credentials": "用户名或密码错误",
    "code_rate_limited": "请求过于频繁",
    "code_not_found": "未找到",
    "code_server_error": "服务器错误",
    "code_cancelled": "已取消",
    "code_quota_exceeded": "超出文件配额",
    "code_no_space": "服务器磁盘空间不足",
    "code_banned": "已被封禁",
    "prompt_host": "服务器地址",
    "prompt_port": "端口",
    "prompt_user": "用户名",
    "prompt_password": "密码",
    "prompt_password_again": "再次输入密码",
    "passwords_differ": "两次输入的密码不一致，请重试。",
    "password_short": "密码至少需要 {n} 个字符。",
    "users_header": "用户：在线 {online} 人，列出 {total} 人",
    "rooms_header": "聊天室（* 表示已加入）：",
    "sessions_header": "当前连接（在线 {online} 人）：",
    "list_more": "（还有更多未显示）",
    "state_online": "在线",
    "state_last_seen": "最近在线 {when}",
    "state_never_seen": "从未上线",
    "tag_admin": "[管理员]",
    "tag_guest": "[访客]",
    "tag_banned": "[已封禁]",
    "room_members": "成员：{names}",
    "since": "{when} 起",
    "idle_for": "空闲 {duration}",
    "duration_s": "{n} 秒",
    "duration_min": "{n} 分钟",
    "duration_h": "{h} 小时 {min} 分钟",
    "info_created": "注册于 {when}",
    "info_rooms": "聊天室：{rooms}",
    "info_ban_reason": "封禁原因：{reason}",
    "info_session": "{since} 起从 {address} 连接（{client}）",
}

CATALOGUES = {"en": EN, "zh": ZH}


def tr(lang: str, key: str, **params) -> str:
    """The text of ``key`` in ``lang`` (English if unknown), filled with ``params``.

    A missing key or parameter raises KeyError: it is a bug in the caller, not user input.
    """
    return CATALOGUES.get(lang, EN)[key].format(**params)


def default_language() -> str:
    """``zh`` when the locale environment asks for Chinese, else ``en``."""
    # POSIX order: the first of these that is set and not empty decides
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(variable)
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"
