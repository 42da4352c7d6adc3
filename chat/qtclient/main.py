"""``chat-qt`` and ``python -m chat.qtclient``: start the desktop client."""

import argparse
import os
import sys


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="chat-qt", description="The chat desktop client.")
    parser.add_argument("--settings", metavar="FILE",
                        help="an INI file to keep the settings in (default: the user's)")
    parser.add_argument("--lang", choices=("zh", "en"),
                        help="the language of this run (also remembered)")
    args, qt_args = parser.parse_known_args(argv)
    os.environ["QT_API"] = "pyqt6"
    from PyQt6.QtWidgets import QApplication
    app = QApplication([sys.argv[0]] + qt_args)
    app.setApplicationName("chat-qt")
    app.setOrganizationName("chat")
    app.setQuitOnLastWindowClosed(True)
    from chat.qtclient import reactor as qt_reactor

    def install_reactor():
        reactor = qt_reactor.install()
        from twisted.logger import globalLogBeginner, textFileLogObserver
        globalLogBeginner.beginLoggingTo([textFileLogObserver(sys.stderr)],
                                         redirectStandardIO=False)
        return reactor

    from chat.qtclient.app import ChatApp
    from chat.qtclient.settings import Settings
    settings = Settings(args.settings)
    if args.lang:
        settings.language = args.lang
    # the login window first; the reactor and the client core (Twisted, TLS: about half of
    # the start-up) load once it is painted, while the user types
    chat = ChatApp(install_reactor, settings)
    chat.start()
    chat.after_first_paint(chat.ensure_reactor)
    code = app.exec()
    if chat.session is not None:
        chat.session.close()
    qt_reactor.shutdown(chat.reactor)
    settings.sync()
    return code


if __name__ == "__main__":
    sys.exit(main())
