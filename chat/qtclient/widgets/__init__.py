"""Widgets of the desktop client: they render models and call the session or ChatState;
none of them touches the protocol or the network."""
