"""Helpers shared by the tests: a wire-protocol test client and a real-server process runner."""
