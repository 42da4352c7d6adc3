"""The IRC gateway: existing IRC clients (irssi, weechat, HexChat, ...) in the same rooms and
private chats as native users.

Sans-IO pieces (bytes in, lines out, no sockets): :mod:`.lines` (the line codec with IRCv3
message tags and a bounded input buffer), :mod:`.numerics` (reply codes), :mod:`.casemap`
(nicks and channels to the server's name keys), :mod:`.isupport` (the 005 tokens),
:mod:`.caps` (CAP negotiation), :mod:`.sasl` (SASL PLAIN), :mod:`.registration` (the
registration state machine). docs/IRC.md lists what the gateway supports.
"""
