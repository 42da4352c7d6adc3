"""The full-screen terminal interface of ``chat-cli``, used when stdin and stdout are a terminal.

Built on urwid, on Twisted's reactor (``urwid.TwistedEventLoop``): urwid reads the keys
(arrows, Alt+digit, Ctrl keys, pasted text), keeps the screen in step with the window size,
and measures text by terminal columns (through ``wcwidth``), so Chinese and emoji take their two
columns both in the lines shown and on the input line while it is edited. twisted.conch's
line editing (``insults`` / ``HistoricRecvLine``) hands over bytes and counts one column per
character, so wide characters and the screen layout would have been ours to write.

The screen, top to bottom: the lines of the current window (one window per conversation,
like irssi; the newest line at the bottom, PageUp/PageDown scroll), the status line (the link:
connected / reconnecting in N s; the windows with unread messages and how many, mentions
marked, like irssi's activity list), and the input line with the conversation as its prompt
(``[#lobby] ``). What is typed stays on the input line until Enter, whatever arrives
meanwhile; the line sent shows up once, when the server has it, formatted like everyone
else's. ``TuiApp`` is :class:`chat.cli.app.CliApp` with its output sent to the windows.
"""

import math
import os
import re
import sys
import zlib

import urwid

from chat.cli.app import LOBBY, CliApp
from chat.cli.parse import _HANDLERS
from chat.cli.windows import InputHistory, Windows, complete, mentions
from chat.client.core import LinkState

WINDOW_LINES = 2000
"""Lines kept per window; older ones are dropped (the server keeps the history)."""

NAME_COLOURS = ("light cyan", "light green", "yellow", "light magenta", "light blue",
                "light red", "dark cyan", "brown")

# name, foreground, background, what a terminal without colours shows
PALETTE = [
    ("time", "dark gray", "", ""),
    ("system", "dark cyan", "", ""),
    ("error", "light red", "", "bold"),
    ("me", "white,bold", "", "bold"),
    ("mention", "yellow,bold", "", "standout"),
    ("prompt", "light green,bold", "", "bold"),
    ("status", "white", "dark blue", "standout"),
    ("status_act", "yellow,bold", "dark blue", "standout"),
    ("status_mention", "light magenta,bold", "dark blue", "standout,underline"),
    ("status_down", "light red,bold", "dark blue", "standout,bold"),
] + [(f"name{i}", colour, "", "") for i, colour in enumerate(NAME_COLOURS)]

COMMANDS = sorted(set(_HANDLERS) | {"win"})
_ROOM_WORD = re.compile(r"(?:^|\s)#\S*$")
_WIN = re.compile(r"/win(?:dow)?(?:\s+(\S+))?\s*", re.IGNORECASE)


def name_attr(name: str) -> str:
    """A colour per name, the same in every run (Python's own hash changes per process)."""
    return f"name{zlib.crc32(name.casefold().encode()) % len(NAME_COLOURS)}"


def colours_wanted(no_color: bool, environ=os.environ) -> bool:
    """Colours unless ``--no-color`` or ``NO_COLOR`` (https://no-color.org: any value)."""
    return not no_color and not environ.get("NO_COLOR")


class InputLine(urwid.Edit):
    """The input line: urwid's editing plus history, Tab, Enter and readline's Ctrl keys."""

    def __init__(self, ui):
        super().__init__("")
        self.ui = ui
        self.history = InputHistory()

    def keypress(self, size, key):
        text, pos = self.edit_text, self.edit_pos
        if key == "enter":
            self.set_edit_text("")
            self.history.add(text)
            self.ui.typed(text)
        elif key in ("up", "down"):
            line = self.history.older(text) if key == "up" else self.history.newer()
            if line is not None:
                self.set_edit_text(line)
                self.set_edit_pos(len(line))
        elif key == "tab":
            self.ui.tab()
        elif key in ("ctrl a", "home"):
            self.set_edit_pos(0)
        elif key in ("ctrl e", "end"):
            self.set_edit_pos(len(text))
        elif key == "ctrl u":
            self.set_edit_text(text[pos:])
            self.set_edit_pos(0)
        elif key == "ctrl k":
            self.set_edit_text(text[:pos])
        elif key == "ctrl w":
            start = len(text[:pos].rstrip()) - len(text[:pos].rstrip().split(" ")[-1])
            self.set_edit_text(text[:start] + text[pos:])
            self.set_edit_pos(start)
        elif key == "ctrl d":
            if not text:
                self.ui.end_of_input()
            else:
                self.set_edit_text(text[:pos] + text[pos + 1:])
        else:
            return super().keypress(size, key)
        return None


class TerminalUI:
    """The urwid screen: the message list, the status line and the input line."""

    def __init__(self, reactor, colours: bool = True, screen=None):
        self.reactor = reactor
        self.app = None
        self.started = False
        self._draw_call = None
        self.list = urwid.ListBox(urwid.SimpleFocusListWalker([]))
        self.status = urwid.Text("", wrap="clip")
        self.input = InputLine(self)
        self.footer = urwid.Pile([urwid.AttrMap(self.status, "status"), self.input])
        self.footer.focus_position = 1
        self.frame = urwid.Frame(self.list, footer=self.footer, focus_part="footer")
        self.screen = screen or urwid.display.raw.Screen()
        if not colours:
            self.screen.set_terminal_properties(colors=1)
        self.loop = urwid.MainLoop(
            self.frame, PALETTE, screen=self.screen, handle_mouse=False,
            event_loop=urwid.TwistedEventLoop(reactor=reactor, manage_reactor=False),
            unhandled_input=self._key)

    # ------------------------------------------------------------------ life
    def start(self) -> None:
        self.loop.start()
        self.started = True
        self.redraw()

    def stop(self) -> None:
        if self.started:
            self.started = False
            self.loop.stop()

    def redraw(self) -> None:
        """Draw once this reactor turn is over (network events are no urwid callbacks, so
        urwid would not know to draw; many lines in one turn cost one draw)."""
        if self._draw_call is None:
            self._draw_call = self.reactor.callLater(0, self._draw)

    def _draw(self) -> None:
        self._draw_call = None
        if self.started:
            self.loop.draw_screen()

    # ------------------------------------------------------------------ content
    def walker(self, window):
        if not isinstance(window.lines, urwid.SimpleFocusListWalker):
            window.lines = urwid.SimpleFocusListWalker([])
        return window.lines

    def add(self, window, markup) -> None:
        """A line at the bottom of ``window``; the shown window follows its newest line
        unless the user scrolled up."""
        walker = self.walker(window)
        follow = not walker or walker.focus == len(walker) - 1
        text = urwid.Text(markup)
        walker.append(text)
        if len(walker) > WINDOW_LINES:
            del walker[:len(walker) - WINDOW_LINES]
        if follow:
            walker.set_focus(len(walker) - 1)
        self.redraw()
        return text

    def show(self, window, prompt: str) -> None:
        self.list.body = self.walker(window)
        if len(self.list.body):
            self.list.body.set_focus(len(self.list.body) - 1)
        self.input.set_caption(("prompt", prompt))
        self.redraw()

    def set_status(self, markup) -> None:
        self.status.set_text(markup)
        self.redraw()

    # ------------------------------------------------------------------ keys
    def typed(self, text: str) -> None:
        self.app.typed(text)

    def end_of_input(self) -> None:
        self.app.input_ended()

    def tab(self) -> None:
        self.app.tab(self.input.edit_text, self.input.edit_pos)

    def set_input(self, line: str, cursor: int) -> None:
        self.input.set_edit_text(line)
        self.input.set_edit_pos(cursor)
        self.redraw()

    def _key(self, key) -> None:
        if isinstance(key, str) and re.fullmatch(r"meta [1-9]", key):
            self.app.switch(int(key[-1]))
        elif key in ("page up", "page down"):
            cols, rows = self.screen.get_cols_rows()
            self.list.keypress((cols, max(1, rows - self.footer.rows((cols,)))), key)


class TuiApp(CliApp):
    """CliApp whose lines go to the conversations' windows; see the module docstring."""

    def __init__(self, settings, client, clock, ui: TerminalUI, on_exit=None):
        self.windows = Windows(LOBBY)
        self.ui = ui
        self.err_lines = []          # written to stderr once the screen is gone
        self._link = LinkState.CONNECTING
        self._retry_at = None
        self._progress = ""
        self._names = set()          # people seen, for Tab
        self._room_names = set()     # rooms on the server, as last listed, for Tab
        self._burning = {}           # message id -> (its lines on screen, msg, conv)
        self._tick = None
        super().__init__(settings, client, clock, out=self._out, err=self._err,
                         on_exit=on_exit, progress=self._show_progress)
        ui.app = self
        self._show_current()

    def _logged_in(self, data) -> None:
        # the screen comes up once logged in: until then the terminal is an ordinary one,
        # for whatever the login has to say or ask
        if not self.ui.started:
            self.ui.start()
        super()._logged_in(data)

    # the current conversation is the window shown
    @property
    def current(self) -> str:
        return self.windows.current.conv

    @current.setter
    def current(self, conv: str) -> None:
        window = self.windows.show(conv)
        if window.last_unread:
            self.client.mark_read(window.conv, window.last_unread)
            window.last_unread = 0
        self._show_current()

    def _show_current(self) -> None:
        self.ui.show(self.windows.current, f"[{self.windows.current.conv}] ")
        self.refresh_status()

    # ------------------------------------------------------------------ output
    def _out(self, line: str) -> None:
        attr = "system" if line.startswith(self.fmt.tr("system_prefix")) else None
        self.ui.add(self.windows.current, (attr, line) if attr else line)

    def _err(self, line: str) -> None:
        if not self.ui.started:          # before the login: an ordinary terminal still
            sys.__stderr__.write(line + "\n")
            sys.__stderr__.flush()
            return
        self.err_lines.append(line)
        self.ui.add(self.windows.current, ("error", line))

    def _show_progress(self, line: str) -> None:
        self._progress = line
        self.refresh_status()

    def message_markup(self, msg: dict, conv: str) -> list:
        """A message as ``Formatter.message`` writes it, coloured: the time dim, the sender
        in their colour (the user's own name bold), a line naming the user highlighted."""
        line = self.fmt.message(msg, conv)
        clock, rest = line[:11], line[11:]
        who, sep, body = rest.partition(": ")
        sender = msg.get("from", "")
        mine = self.fmt._is_me(sender)
        markup = [("time", clock), ("me" if mine else name_attr(sender), who + sep)]
        if not mine and mentions(msg.get("text", ""), self.fmt.me):
            markup.append(("mention", body))
        else:
            markup.append(body)
        return markup

    def refresh_status(self) -> None:
        tr = self.fmt.tr
        if self._link is LinkState.ONLINE:
            link = ("status", tr("tui_connected"))
        elif self._link is LinkState.RECONNECTING and self._retry_at is not None:
            left = max(0, math.ceil(self._retry_at - self.clock.seconds()))
            link = ("status_down", tr("tui_reconnecting", seconds=left))
        elif self._link in (LinkState.CONNECTING, LinkState.LOGGING_IN):
            link = ("status_down", tr("tui_connecting"))
        else:
            link = ("status_down", tr("tui_offline"))
        window = self.windows.current
        markup = [f" {self.fmt.me} ", "| ", link,
                  f" | [{self.windows.number(window)}:{window.conv}]"]
        activity = self.windows.activity()
        if activity:
            markup.append(" | " + tr("tui_activity") + " ")
            for i, (n, w) in enumerate(activity):
                attr = "status_mention" if w.mentioned else "status_act"
                markup += [" " if i else "", (attr, f"{n}:{w.conv}({w.unread}"
                                                    f"{'!' if w.mentioned else ''})")]
        if self._progress:
            markup.append(" | " + self._progress)
        self.ui.set_status(markup)

    # ------------------------------------------------------------------ input
    def typed(self, text: str) -> None:
        self.line(text)

    def _run(self, text: str):
        match = _WIN.fullmatch(text.strip())
        if match:
            return self._win(match.group(1))
        return super()._run(text)

    def _win(self, arg) -> None:
        if arg is None:
            listed = "  ".join(f"{i}:{w.conv}" + (f"({w.unread})" if w.unread else "")
                               for i, w in enumerate(self.windows.windows, 1))
            self.out(self.fmt.system("tui_windows", list=listed))
        elif not arg.isdigit() or self.windows.by_number(int(arg)) is None:
            self.out(self.fmt.system("usage", usage=f"/win 1-{len(self.windows.windows)}"))
        else:
            self.switch(int(arg))

    def switch(self, n: int) -> None:
        """Alt+n, /win n: show window n."""
        window = self.windows.by_number(n)
        if window is not None:
            self.current = window.conv

    def complete(self, line: str, cursor: int):
        names = self._names | set(self.client.model.online)
        names |= {w.conv[1:] for w in self.windows.windows if w.conv.startswith("@")}
        names.discard(self.fmt.me)
        rooms = self._room_names | {room.name for room in self.client.model.rooms.values()}
        return complete(line, cursor, COMMANDS, names, rooms)

    def tab(self, line: str, cursor: int, again: bool = True) -> None:
        """Tab: complete the word before the cursor. A ``#room`` not known here (rooms the
        user is not in) asks the server for the room list once, then completes."""
        new, new_cursor, found = self.complete(line, cursor)
        self.ui.set_input(new, new_cursor)
        if len(found) > 1 and new == line:
            self.show_candidates(found)
        elif not found and again and _ROOM_WORD.search(line[:cursor]):
            def listed(data):
                self._room_names = {room["name"] for room in data["rooms"]}
                if (self.ui.input.edit_text, self.ui.input.edit_pos) == (line, cursor):
                    self.tab(line, cursor, again=False)
            self.client.rooms().addCallbacks(listed, lambda _: None)

    def show_candidates(self, found) -> None:
        self.out(self.fmt.system("tui_candidates", list="  ".join(found)))

    def do_help(self, command):
        super().do_help(command)
        self.out(self.fmt.tr("help_tui"))

    # ------------------------------------------------------------------ client events
    def on_state(self, state, reason=None, retry_in=None) -> None:
        self._link = state
        self._retry_at = (self.clock.seconds() + retry_in) if retry_in is not None else None
        self.refresh_status()
        if state is LinkState.RECONNECTING:
            self._start_tick()
        super().on_state(state, reason, retry_in)

    def _start_tick(self) -> None:
        """Count the reconnect down on the status line, once a second."""
        if self._tick is not None and self._tick.active():
            return

        def tick():
            self._tick = None
            self.refresh_status()
            if self._link is LinkState.RECONNECTING:
                self._tick = self.clock.callLater(1, tick)
        self._tick = self.clock.callLater(1, tick)

    def on_message(self, msg, live) -> None:
        conv = msg["conv"]
        sender = msg.get("from", "")
        mine = self.fmt._is_me(sender)
        if not mine and sender:
            self._names.add(sender)
        window = self.windows.get(conv)
        shown = [(self.ui.add(window, self.message_markup(msg, window.conv)), window.conv)]
        if mine:
            if window is not self.windows.current:   # a /msg from here: show it here too
                shown.append((self.ui.add(self.windows.current,
                                          self.message_markup(msg, self.current)),
                              self.current))
        elif window is self.windows.current:
            self.client.mark_read(conv, msg["id"])
        else:
            self.windows.arrived(conv, msg["id"], mentions(msg.get("text", ""), self.fmt.me))
        if msg.get("burn") and not msg.get("burned"):
            self._burning[msg["id"]] = (shown, msg)
        self.refresh_status()

    def _print_history(self, data, conv, header, count) -> None:
        if header == "history_header":
            return super()._print_history(data, conv, header, count)
        # what came while away goes to its conversation's window, unread until shown
        messages = data["messages"]
        window = self.windows.get(conv)
        self.ui.add(window, ("system", self.fmt.system(header, conv=conv, n=count)))
        for msg in messages:
            self.ui.add(window, self.message_markup(msg, window.conv))
        if window is self.windows.current:
            self.client.mark_read(conv, messages[-1]["id"])
        else:
            window.unread += count
            window.last_unread = max(window.last_unread, messages[-1]["id"])
            window.mentioned = window.mentioned or any(
                mentions(m.get("text", ""), self.fmt.me) for m in messages)
        self.refresh_status()

    def on_burned(self, event) -> None:
        """Burned messages leave the screen too: their lines say "(burned)"."""
        for msg_id in event["ids"]:
            shown, msg = self._burning.pop(msg_id, ((), None))
            for text, conv in shown:
                text.set_text(self.message_markup({**msg, "burned": True}, conv))
        self.ui.redraw()
        super().on_burned(event)

    def on_left(self, event) -> None:
        if event["user"] == self.fmt.me:
            self.windows.close("#" + event["room"])
            self._show_current()
        super().on_left(event)

    def on_transfer(self, transfer) -> None:
        if transfer.state.value not in ("sending", "receiving") and self._progress:
            self._progress = ""
            self.refresh_status()
        super().on_transfer(transfer)


def run_terminal(settings, client, reactor) -> int:
    """Run ``chat-cli`` full screen until the session ends; the exit status."""
    from chat.cli.main import catch_ctrl_c

    codes = []
    ui = TerminalUI(reactor, colours=colours_wanted(getattr(settings, "no_color", False)))

    def finished(code):
        if not codes:
            codes.append(code)
            reactor.callLater(0, stop)

    app = TuiApp(settings, client, reactor, ui, on_exit=finished)
    real_stderr = sys.stderr

    def stop():
        ui.stop()
        sys.stderr = real_stderr
        for line in app.err_lines:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()
        if reactor.running:
            reactor.stop()

    # an internal error's line (main.start_logging) would scribble over the screen
    sys.stderr = _LinesTo(app._err)
    if getattr(settings, "password_typed", False):
        settings.ask_password = lambda: _ask_password_before_the_screen(settings, ui)
    reactor.callWhenRunning(app.start)
    reactor.callWhenRunning(catch_ctrl_c, reactor, app)
    try:
        reactor.run()
    finally:
        ui.stop()
        sys.stderr = real_stderr
    return codes[0] if codes else 130


def _ask_password_before_the_screen(settings, ui):
    """A wrong password typed at the terminal, asked again as the line mode does: the screen
    comes up only after the login, so until then the terminal is an ordinary one and stdin
    is not read (getpass runs in a thread). None once the screen is up (nothing to ask)."""
    if ui.started:
        return None
    import getpass

    from twisted.internet import threads

    from chat.cli.text import tr
    return threads.deferToThread(getpass.getpass, tr(settings.lang, "prompt_password") + ": ")


class _LinesTo:
    """A stand-in for sys.stderr that hands each complete line to ``show``."""

    def __init__(self, show):
        self.show = show
        self._partial = ""

    def write(self, text: str) -> int:
        *lines, self._partial = (self._partial + text).split("\n")
        for line in lines:
            self.show(line)
        return len(text)

    def flush(self) -> None:
        pass
