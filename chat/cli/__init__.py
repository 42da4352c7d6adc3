"""The terminal client ``chat-cli``.

``parse`` turns what the user typed into commands, ``text`` holds every user-visible string
in English and Chinese, ``format`` turns server events into lines. These three are pure code
(no I/O, no Twisted); ``app`` is the I/O glue around them.
"""
