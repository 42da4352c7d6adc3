"""What all IRC connections of one server share: the server info, the nicks in use, the
IRC-only channel modes, and the one place that reads the server's state (rooms, members,
who is online) for IRC replies such as NAMES, WHO, WHOIS and LIST.

Everything an IRC user *does* goes through the server's handlers like a native request
(:meth:`IRCGateway.request`), so the same limits, bans and rules apply; only reads that
build IRC replies look at the server's in-memory state directly.
"""

import time

from twisted.internet import defer
from twisted.internet.protocol import Factory

from chat import __version__

from chat.protocol.names import name_key
from chat.server.conversations import LOBBY, room_conv
from chat.server.irc.casemap import room_channel
from chat.server.irc.channels import ChannelTable
from chat.server.irc.render import user_mask
from chat.server.irc.welcome import ServerInfo


class IRCGateway:
    """The IRC side of one ChatServer."""

    def __init__(self, server, info: ServerInfo):
        self.server = server
        self.info = info
        self.channels = ChannelTable()
        self.connections: set = set()          # every IRC connection
        self.by_key: dict = {}                 # nick key -> registered IRC connection(s)
        self._request_ids = 0
        # what the events of an IRC act must say that the server's events do not carry:
        # (room key, name key) -> (kicker's mask, reason) / a PART's reason
        self.kicks: dict = {}
        self.part_reasons: dict = {}
        self.client_tags: dict = {}            # cid of a message being sent -> its +tags
        self.notice_cids: set = set()          # cids of messages being sent as NOTICE
        self.idents: dict = {}                 # guest id -> the user name its USER gave

    # -- requests through the server's handlers
    def next_request_id(self) -> int:
        self._request_ids += 1
        return self._request_ids

    def request(self, peer, request, body=None):
        """Run ``request`` as ``peer`` through the server's handlers: a Deferred of the
        result, or a failure with the ProtocolError."""
        return defer.maybeDeferred(self.server.handle, peer, request, body)

    # -- who is who
    def account_id(self, name: str):
        return self.server.directory.id_for(name_key(name))

    def display_name(self, account_id: int) -> str:
        return self.server.directory.name(account_id)

    def is_account(self, name: str) -> bool:
        return self.account_id(name) is not None

    @staticmethod
    def is_guest(account_id) -> bool:
        """Guests' ids are below zero (chat.server.guests); accounts' are 1 and up."""
        return account_id is not None and account_id < 0

    def account_of_source(self, source):
        """The account name behind a line's ``nick!user@host`` source, or None (the server,
        a guest, nobody known)."""
        if not source or "!" not in source:
            return None
        try:
            account_id = self.account_id(source.split("!", 1)[0])
        except Exception:          # not a name at all
            return None
        if account_id is None or self.is_guest(account_id):
            return None
        return self.display_name(account_id)

    def is_online(self, account_id) -> bool:
        return self.server.presence.is_online(account_id)

    def is_admin(self, account_id) -> bool:
        for peer in self.server.presence.of(account_id):
            session = getattr(peer, "session", None)
            if session is not None:
                return session.admin
        return False

    def mask(self, name: str, account_id=None) -> str:
        if account_id is None:
            account_id = self.account_id(name)
        guest = account_id is not None and self.is_guest(account_id)
        return user_mask(name, guest, self.info.name,
                         self.idents.get(account_id) if guest else None)

    def is_invisible(self, account_id) -> bool:
        """User mode +i on one of its IRC connections: left out of WHO masks."""
        return any(peer.invisible for peer in self.irc_peers(account_id))

    def irc_peers(self, account_id):
        """The registered IRC connections of an account."""
        return [peer for peer in self.server.presence.of(account_id)
                if peer in self.connections and peer.registered]

    def realname(self, account_id) -> str:
        """What an IRC client said in USER for this account, else the account's name."""
        for peer in self.irc_peers(account_id):
            if peer.registration.realname:
                return peer.registration.realname
        return self.display_name(account_id)

    def away_of(self, account_id):
        """The away message of an account (from any of its IRC connections), or None."""
        for peer in self.irc_peers(account_id):
            if peer.away:
                return peer.away
        return None

    # -- rooms
    def room(self, name: str):
        return self.server.conversations.rooms.get(name_key(name))

    def rooms(self):
        return sorted(self.server.conversations.rooms.values(), key=lambda r: r.key)

    def member_ids(self, room_key: str):
        return self.server.conversations.members.get(room_conv(room_key), set())

    def online_member_ids(self, room_key: str):
        presence = self.server.presence
        return [i for i in self.member_ids(room_key) if presence.is_online(i)]

    def rooms_of(self, account_id) -> list:
        """The rooms an account is a member of (the lobby first)."""
        convs = self.server.conversations.convs_of.get(account_id, ())
        rooms = []
        for conv in convs:
            if conv.startswith("r:"):
                room = self.server.conversations.rooms.get(conv[2:])
                if room is not None:
                    rooms.append(room)
        rooms.sort(key=lambda r: (r.key != LOBBY, r.key))
        return rooms

    def shared_room_keys(self, a, b) -> set:
        convs = self.server.conversations.convs_of
        return {conv[2:] for conv in convs.get(a, set()) & convs.get(b, set())
                if conv.startswith("r:")}

    def modes_of(self, room):
        creator = None
        if room.created_by is not None:
            creator = name_key(self.display_name(room.created_by))
        return self.channels.get(room.key, creator)

    def channel_name(self, room) -> str:
        return room_channel(room.name)


def make_request(cls, **fields):
    """A request of the server's protocol, checked as if it came from a native client (the
    same field rules: name normalisation, text and password limits)."""
    return cls.parse({"id": 0, **fields})


class IRCFactory(Factory):
    """Builds an IRCConnection per accepted socket; all share one IRCGateway."""

    noisy = False

    def __init__(self, gateway: IRCGateway):
        self.gateway = gateway

    def buildProtocol(self, addr):
        from chat.server.irc.connection import IRCConnection
        connection = IRCConnection(self.gateway)
        connection.factory = self
        return connection


def irc_factory(server, server_name: str) -> IRCFactory:
    """The factory of every ``--irc-port`` of ``server``."""
    info = ServerInfo(name=server_name, network=server.config.name or server_name,
                      version=f"chat-{__version__}",
                      created=time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()))
    return IRCFactory(IRCGateway(server, info))
