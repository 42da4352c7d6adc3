"""``python -m chat.cli``: the terminal client."""

from chat.cli.main import cli

if __name__ == "__main__":
    cli()
