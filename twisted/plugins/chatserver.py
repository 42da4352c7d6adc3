"""twistd dropin: `twistd chatserver` runs the chat server (chat.server.tap)."""
from twisted.application.service import ServiceMaker

chatserver = ServiceMaker("chat server", "chat.server.tap", "A self-hosted chat server.", "chatserver")
