"""Every string the desktop client shows, in English (``EN``) and Simplified Chinese (``ZH``).

Keys shared word for word with the terminal client are not repeated here: they come from
:mod:`chat.cli.text` (see :func:`chat.qtclient.i18n.lookup`). Both catalogues must have the
same keys with the same placeholders, and every key the code uses must exist (tests/qt/
test_strings.py checks both).
"""

EN = {
    # application
    "app_title": "Chat",
    "title_unread": "({n}) {title}",
    # link state
    "state_online": "Connected to {server}",
    "state_connecting": "Connecting...",
    "state_logging_in": "Logging in...",
    "state_reconnecting": "Reconnecting in {seconds} s ({reason})",
    "state_offline": "Offline",
    "state_offline_reason": "Offline: {reason}",
    # login errors (the rest are shared with chat-cli)
    "password_too_short": "The password is too short (at least {n} characters).",
    "passwords_differ": "The two passwords differ.",
    "server_unreachable": "Cannot reach the server {host}:{port} ({reason}). "
                          "Is it running, and are the address and port right?",
    "login_failed": "Login failed: {message}",
}

ZH = {
    "app_title": "聊天",
    "title_unread": "（{n}）{title}",
    "state_online": "已连接到 {server}",
    "state_connecting": "正在连接……",
    "state_logging_in": "正在登录……",
    "state_reconnecting": "{seconds} 秒后重新连接（{reason}）",
    "state_offline": "离线",
    "state_offline_reason": "离线：{reason}",
    "password_too_short": "密码太短（至少 {n} 个字符）。",
    "passwords_differ": "两次输入的密码不一致。",
    "server_unreachable": "无法连接服务器 {host}:{port}（{reason}）。"
                          "服务器是否已启动？地址和端口是否正确？",
    "login_failed": "登录失败：{message}",
}

CATALOGUES = {"en": EN, "zh": ZH}
