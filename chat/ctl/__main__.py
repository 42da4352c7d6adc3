"""``python -m chat.ctl``: the same as ``chatctl``."""

from chat.ctl.main import cli

cli()
