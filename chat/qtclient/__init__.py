"""The PyQt6 desktop client: a session (client core events as Qt signals), Qt models, widgets.

Widgets render models and call the session; they never touch the protocol or the network.
"""
