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
    "link_online": "Connected to {server}",
    "link_connecting": "Connecting...",
    "link_logging_in": "Logging in...",
    "link_reconnecting": "Reconnecting in {seconds} s ({reason})",
    "link_offline": "Offline",
    "link_offline_reason": "Offline: {reason}",
    # login errors (the rest are shared with chat-cli)
    "password_too_short": "The password is too short (at least {n} characters).",
    "server_unreachable": "Cannot reach the server {host}:{port} ({reason}). "
                          "Is it running, and are the address and port right?",
    "servers_unreachable": "Cannot reach any of the servers ({reasons}). "
                           "Are they running, and are the addresses and ports right?",
    "server_reason": "{server}: {reason}",
    "login_failed": "Login failed: {message}",
    # sidebar
    "side_chats": "Chats",
    "side_new_room": "Join or create a room",
    "side_people": "People: {online} online of {total}",
    "side_private": "private chat",
    "side_offline": "offline",
    "side_guest": "(guest)",
    "side_yesterday": "yesterday {time}",
    # main window
    "main_title": "{app} - {user}",
    "main_room_header": "#{room}",
    "main_private_header": "Private chat with {user}",
    "main_no_topic": "no topic",
    "main_menu_chat": "&Chat",
    "main_menu_history": "&History of this chat...",
    "main_menu_settings": "&Settings...",
    "main_menu_admin": "&Admin panel...",
    "main_menu_logout": "&Log out",
    "main_menu_quit": "&Quit",
    "main_menu_leave": "Leave this room",
    "main_new_room_title": "Join or create a room",
    "main_new_room_prompt": "Room name (a new name creates the room):",
    "main_policy_monitoring": "Admins on this server can watch every conversation live, "
                              "private chats included.",
    "main_policy_log": "This server keeps every message, private ones included; its operator "
                       "can read them.",
    "main_kicked": "You were disconnected by an admin: {message}",
    "main_server_notice": "Notice from {user}",
    "main_shutdown": "The server shuts down in {seconds} s. {message}",
    "main_error": "Error",
    "main_file_failed": "The file {name} was not sent: {message}",
    "main_file_already_saved": "{name} is saved already, in {folder}",
    "main_folder_not_sent": "Folders cannot be sent, only files: {names}",
    # why the link went (the client core's reasons)
    "reason_lost": "connection lost",
    "reason_refused": "connection refused",
    "reason_unknown_host": "unknown host",
    "reason_timed_out": "timed out",
    "reason_no_route": "no route to host",
    "reason_closed": "closed",
    "reason_logged_out": "logged out",
    "reason_silent": "no answer from the server for {seconds} s",
}

ZH = {
    "app_title": "聊天",
    "title_unread": "（{n}）{title}",
    "link_online": "已连接到 {server}",
    "link_connecting": "正在连接……",
    "link_logging_in": "正在登录……",
    "link_reconnecting": "{seconds} 秒后重新连接（{reason}）",
    "link_offline": "离线",
    "link_offline_reason": "离线：{reason}",
    "password_too_short": "密码太短（至少 {n} 个字符）。",
    "server_unreachable": "无法连接服务器 {host}:{port}（{reason}）。"
                          "服务器是否已启动？地址和端口是否正确？",
    "servers_unreachable": "无法连接任何一台服务器（{reasons}）。"
                           "服务器是否已启动？地址和端口是否正确？",
    "server_reason": "{server}：{reason}",
    "login_failed": "登录失败：{message}",
    "side_chats": "会话",
    "side_new_room": "加入或创建聊天室",
    "side_people": "用户：{online} 人在线，共 {total} 人",
    "side_private": "私聊",
    "side_offline": "离线",
    "side_guest": "（访客）",
    "side_yesterday": "昨天 {time}",
    "main_title": "{app} - {user}",
    "main_room_header": "#{room}",
    "main_private_header": "与 {user} 私聊",
    "main_no_topic": "无主题",
    "main_menu_chat": "聊天(&C)",
    "main_menu_history": "本会话历史记录(&H)……",
    "main_menu_settings": "设置(&S)……",
    "main_menu_admin": "管理面板(&A)……",
    "main_menu_logout": "注销(&L)",
    "main_menu_quit": "退出(&Q)",
    "main_menu_leave": "离开此聊天室",
    "main_new_room_title": "加入或创建聊天室",
    "main_new_room_prompt": "聊天室名称（新名称将创建聊天室）：",
    "main_policy_monitoring": "本服务器的管理员可以实时查看所有会话，包括私聊。",
    "main_policy_log": "本服务器保存所有消息（包括私聊），服务器管理者可以阅读。",
    "main_kicked": "你已被管理员断开连接：{message}",
    "main_server_notice": "来自 {user} 的公告",
    "main_shutdown": "服务器将在 {seconds} 秒后关闭。{message}",
    "main_error": "错误",
    "main_file_failed": "文件 {name} 未能发送：{message}",
    "main_file_already_saved": "{name} 已经保存过了，在 {folder}",
    "main_folder_not_sent": "只能发送文件，不能发送文件夹：{names}",
    "reason_lost": "连接已断开",
    "reason_refused": "连接被拒绝",
    "reason_unknown_host": "未知主机",
    "reason_timed_out": "连接超时",
    "reason_no_route": "无法到达主机",
    "reason_closed": "已关闭",
    "reason_logged_out": "已注销",
    "reason_silent": "服务器 {seconds} 秒无响应",
}

from chat.qtclient import strings_messages as _messages, strings_windows as _windows  # noqa: E402
from chat.qtclient import strings_errors as _errors  # noqa: E402

EN.update(_messages.EN)
EN.update(_windows.EN)
ZH.update(_messages.ZH)
ZH.update(_windows.ZH)
EN.update(_errors.EN)
ZH.update(_errors.ZH)

from chat.qtclient import strings_media as _media  # noqa: E402

EN.update(_media.EN)
ZH.update(_media.ZH)

CATALOGUES = {"en": EN, "zh": ZH}

from chat.qtclient import strings_navigation as _navigation  # noqa: E402

EN.update(_navigation.EN)
ZH.update(_navigation.ZH)
