"""Tests of the chat system; run with `make test` (pytest) or `trial tests`."""
