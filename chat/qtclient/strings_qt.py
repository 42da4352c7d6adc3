"""Chinese for the few strings of Qt itself that Qt's own catalogue (qtbase_zh_CN, shipped
with PyQt6) leaves in English, found by tests/qt/test_chinese_everywhere.py walking the file
dialog. Keyed by Qt's (context, source text); English needs nothing (the source is English).
"""

ZH = {
    ("QFileDialog", "&Look in:"): "查找范围(&L)：",
    ("QFileDialog", "Files of &type:"): "文件类型(&T)：",
    ("QFileSystemModel", "Drive"): "驱动器",
}
