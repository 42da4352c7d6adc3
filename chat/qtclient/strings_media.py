"""Strings of themes, stickers, files saved on arrival and the history's pictures, in English
(``EN``) and Simplified Chinese (``ZH``); merged into :mod:`chat.qtclient.strings`."""

EN = {
    # settings: theme and files saved on arrival
    "settings_theme": "Theme:",
    "settings_theme_system": "Follow the system",
    "settings_theme_light": "Light",
    "settings_theme_dark": "Dark",
    "settings_auto_save": "Save incoming files automatically",
    "settings_auto_save_dir": "Save them in:",
    "settings_auto_save_choose": "Choose the folder for incoming files",
    "settings_auto_save_limit": "Only files up to:",
    "settings_auto_save_suffix": " MB",
    "settings_auto_save_note": "Pictures are always shown in the chat; bigger files wait for "
                               "a click on Download.",
    # stickers
    "input_sticker_tip": "Stickers",
    "sticker_add": "Add your own...",
    "sticker_add_title": "Choose pictures to use as stickers",
    "sticker_images": "Pictures (*.png *.jpg *.jpeg *.gif *.webp *.bmp)",
    "sticker_mine": "My stickers",
    "sticker_mine_empty": "Pictures you add here are kept on this computer.",
    "sticker_remove": "Remove this sticker",
    "sticker_not_added": "Could not add {name}: it is no picture this client can read.",
    "sticker_set_faces": "Faces",
    "sticker_set_animals": "Animals",
    "sticker_set_words": "Words",
    "msg_sticker": "Sticker",
    # history window
    "hist_open_tip": "Double-click to show this message in the conversation",
    "hist_sticker": "[sticker]",
}

ZH = {
    "settings_theme": "主题：",
    "settings_theme_system": "跟随系统",
    "settings_theme_light": "浅色",
    "settings_theme_dark": "深色",
    "settings_auto_save": "自动保存收到的文件",
    "settings_auto_save_dir": "保存到：",
    "settings_auto_save_choose": "选择保存收到文件的文件夹",
    "settings_auto_save_limit": "仅保存不超过：",
    "settings_auto_save_suffix": " MB 的文件",
    "settings_auto_save_note": "图片总是直接显示在聊天中；更大的文件需点击“下载”。",
    "input_sticker_tip": "表情贴纸",
    "sticker_add": "添加自己的……",
    "sticker_add_title": "选择要作为贴纸的图片",
    "sticker_images": "图片 (*.png *.jpg *.jpeg *.gif *.webp *.bmp)",
    "sticker_mine": "我的贴纸",
    "sticker_mine_empty": "在这里添加的图片保存在本机。",
    "sticker_remove": "删除此贴纸",
    "sticker_not_added": "无法添加 {name}：本客户端无法读取这张图片。",
    "sticker_set_faces": "表情",
    "sticker_set_animals": "动物",
    "sticker_set_words": "文字",
    "msg_sticker": "贴纸",
    "hist_open_tip": "双击在会话中显示这条消息",
    "hist_sticker": "[贴纸]",
}
