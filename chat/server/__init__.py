"""The chat server: connections, command handlers, presence, storage and the twistd plugin."""
