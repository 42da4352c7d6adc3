"""Strings of finding one's way between conversations (see strings.py): the last message
under each name in the conversation list, drafts, and the quick switcher (Ctrl+K). Keys
start with ``side_`` or ``switch_``."""

EN = {
    # the last message under a conversation's name
    "side_you": "You: {text}",
    "side_from": "{user}: {text}",
    "side_photo": "[Photo]",
    "side_sticker": "[Sticker]",
    "side_file": "[File] {name}",
    "side_burning": "[Burns after reading]",
    "side_draft": "Draft: {text}",
    # the quick switcher
    "switch_title": "Go to a conversation",
    "switch_hint": "Type a name: a room, or a person for a private chat",
    "switch_person": "private chat",
    "switch_none": "No conversation or person is called that",
}

ZH = {
    "side_you": "我：{text}",
    "side_from": "{user}：{text}",
    "side_photo": "[图片]",
    "side_sticker": "[贴纸]",
    "side_file": "[文件] {name}",
    "side_burning": "[阅后即焚消息]",
    "side_draft": "[草稿] {text}",
    "switch_title": "转到会话",
    "switch_hint": "输入名字：聊天室，或要私聊的人",
    "switch_person": "私聊",
    "switch_none": "没有叫这个名字的会话或用户",
}
