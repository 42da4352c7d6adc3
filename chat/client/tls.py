"""Connecting to the server over TLS: ``tls_connector(...)`` is a ``connect(factory)`` for
:class:`chat.client.core.ChatClient`, like a TCP endpoint's ``connect``.

The server's certificate is checked in one of two ways:

* against certificate authorities: the system's (``system_ca``) or those in a PEM file
  (``ca_file``), with the host name (or IP address) checked against the certificate;
* otherwise by trust on first use, like SSH: the first time a server is seen, the SHA-256
  fingerprint of its certificate is pinned in a known-servers file
  (``~/.config/chat/known_servers``); later connections must present the same certificate.
  A different one is refused with :class:`CertificateChanged`, which names both
  fingerprints and the line to remove once the new certificate is known to be genuine.

Either way only TLS 1.2 or newer is spoken, and the returned Deferred fires only once the
handshake has completed and the certificate has been accepted, so a refused certificate is
a failed connect (the client core reports it as ``CannotConnect``), never a half-open link.
"""

import hashlib
import ipaddress
import os
import re
from dataclasses import dataclass
from typing import Optional

from OpenSSL import SSL
from twisted.internet import defer, endpoints, error
from twisted.internet.interfaces import IHandshakeListener, IOpenSSLClientConnectionCreator
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.ssl import (
    Certificate, CertificateOptions, TLSVersion, optionsForClientTLS, platformTrust,
    trustRootFromCertificates)
from twisted.python.failure import Failure
from zope.interface import implementer

MINIMUM_TLS = TLSVersion.TLSv1_2
HANDSHAKE_TIMEOUT = 30.0
_PEM_CERT = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.DOTALL)


def default_known_servers() -> str:
    """``$XDG_CONFIG_HOME/chat/known_servers`` (``~/.config/chat/known_servers``)."""
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "chat", "known_servers")


def fingerprint(der: bytes) -> str:
    """SHA-256 of a DER certificate as ``AB:CD:...`` (what ``openssl x509 -fingerprint
    -sha256`` prints, and what ``twistd chatserver --make-cert`` shows)."""
    return ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())


def x509_fingerprint(cert) -> str:
    """The fingerprint of a pyOpenSSL ``X509``."""
    from cryptography.hazmat.primitives.serialization import Encoding
    return fingerprint(cert.to_cryptography().public_bytes(Encoding.DER))


def server_key(host: str, port: int) -> str:
    """How a server is named in the known-servers file: ``host:port``, ``[v6]:port``."""
    host = host.strip().lower()
    if ":" in host:
        host = f"[{host}]"
    return f"{host}:{port}"


@dataclass
class TLSOptions:
    """How to check the server: ``ca_file`` (PEM), ``system_ca``, or else pinning in
    ``known_servers`` (default :func:`default_known_servers`)."""

    ca_file: Optional[str] = None
    system_ca: bool = False
    known_servers: Optional[str] = None

    @property
    def pinning(self) -> bool:
        return self.ca_file is None and not self.system_ca

    @property
    def known_servers_path(self) -> str:
        return self.known_servers or default_known_servers()


PLAIN_SIGNS = ("wrong version number", "packet length too long", "record layer failure",
               "http request", "record too long", "unknown protocol")
"""OpenSSL's words for a peer whose first bytes are no TLS record: a plain chat server."""


class TLSFailed(Exception):
    """The TLS connection could not be set up; the message is one human line."""


class CertificateNotTrusted(TLSFailed):
    """The certificate did not verify against the certificate authorities."""


class CertificateChanged(TLSFailed):
    """The server presented a certificate other than the one pinned for it."""

    permanent = True        # the client core does not retry after it

    def __init__(self, server: str, pinned: str, presented: str, known_servers: str):
        self.server = server
        self.pinned = pinned
        self.presented = presented
        self.known_servers = known_servers
        super().__init__(
            f"the certificate of {server} has changed: pinned SHA-256 {pinned}, presented "
            f"SHA-256 {presented}. Someone may be intercepting the connection, or the "
            f"server has a new certificate; once its admin confirms the new fingerprint, "
            f"remove the line for {server} from {known_servers} and connect again")


class KnownServers:
    """The known-servers file: ``host:port FINGERPRINT`` per line, ``#`` comments."""

    def __init__(self, path: str):
        self.path = path

    def _entries(self):
        try:
            with open(self.path, encoding="utf-8") as f:
                lines = f.read().splitlines()
        except FileNotFoundError:
            return
        for line in lines:
            parts = line.split()
            if len(parts) >= 2 and not parts[0].startswith("#"):
                yield parts[0], parts[1]

    def get(self, server: str) -> Optional[str]:
        for name, pinned in self._entries():
            if name == server:
                return pinned.upper()
        return None

    def add(self, server: str, fp: str) -> None:
        folder = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(folder, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(f"{server} {fp}\n")

    def remove(self, server: str) -> bool:
        """Forget ``server``'s pin; True if there was one."""
        try:
            with open(self.path, encoding="utf-8") as f:
                lines = f.read().splitlines()
        except FileNotFoundError:
            return False
        kept = [line for line in lines if not (line.split()[:1] == [server])]
        with open(self.path, "w", encoding="utf-8") as f:
            f.write("".join(line + "\n" for line in kept))
        return len(kept) != len(lines)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


@implementer(IOpenSSLClientConnectionCreator)
class PinningConnectionCreator:
    """TLS client connections that take any certificate chain during the handshake and
    then hold the server's certificate to the pin in ``known`` (when there is one): a
    different certificate fails the handshake with :class:`CertificateChanged`."""

    def __init__(self, host: str, server: str, known: KnownServers):
        self.host = host
        self.server = server
        self.known = known
        self._options = CertificateOptions(raiseMinimumTo=MINIMUM_TLS)

    def clientConnectionForTLS(self, tlsProtocol):
        connection = SSL.Connection(self._options.getContext(), None)
        connection.set_app_data(tlsProtocol)
        if not _is_ip(self.host):
            connection.set_tlsext_host_name(self.host.encode("idna"))
        connection.set_verify(SSL.VERIFY_PEER | SSL.VERIFY_FAIL_IF_NO_PEER_CERT,
                              self._verify_callback(tlsProtocol))
        return connection

    def _verify_callback(self, tls_protocol):
        pinned = self.known.get(self.server)

        def verify(connection, cert, errno, depth, ok):
            if depth != 0 or pinned is None:
                return True        # no chain to trust: the pin is the trust
            try:
                presented = x509_fingerprint(cert)
                if presented == pinned:
                    return True
                tls_protocol.failVerification(Failure(CertificateChanged(
                    self.server, pinned, presented, self.known.path)))
            except Exception:   # an exception must not escape into OpenSSL
                tls_protocol.failVerification(Failure())
            return False
        return verify

    def accepted(self, transport) -> None:
        """After the handshake: pin the certificate of a server seen for the first time
        (and check it once more, should the verify callback not have run)."""
        presented = x509_fingerprint(transport.getPeerCertificate())
        pinned = self.known.get(self.server)
        if pinned is None:
            self.known.add(self.server, presented)
        elif pinned != presented:
            raise CertificateChanged(self.server, pinned, presented, self.known.path)


def load_trust_root(ca_file: str):
    """The certificate authorities in a PEM file (one or more certificates)."""
    try:
        with open(ca_file, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise TLSFailed(f"cannot read the CA file {ca_file}: {exc.strerror}") from None
    blocks = _PEM_CERT.findall(data)
    if not blocks:
        raise TLSFailed(f"no PEM certificate in the CA file {ca_file}")
    try:
        return trustRootFromCertificates([Certificate.loadPEM(block) for block in blocks])
    except Exception as exc:
        raise TLSFailed(f"bad certificate in the CA file {ca_file}: {exc}") from None


def connection_creator(host: str, port: int, options: TLSOptions):
    """The IOpenSSLClientConnectionCreator for ``options``; a second value, if not None, is
    the :class:`PinningConnectionCreator` whose ``accepted`` runs after the handshake."""
    if options.pinning:
        creator = PinningConnectionCreator(host, server_key(host, port),
                                           KnownServers(options.known_servers_path))
        return creator, creator
    trust = load_trust_root(options.ca_file) if options.ca_file else platformTrust()
    creator = optionsForClientTLS(host, trustRoot=trust,
                                  extraCertificateOptions={"raiseMinimumTo": MINIMUM_TLS})
    return creator, None


class PortSpeaksPlain(TLSFailed):
    """The server does not speak TLS on this port (it answered the handshake in plain)."""


def describe_tls_error(exc: BaseException, host: str, port: int) -> TLSFailed:
    """A :class:`TLSFailed` for why a connection was lost before its handshake finished."""
    if isinstance(exc, TLSFailed):
        return exc
    if isinstance(exc, SSL.Error):
        reasons = [r[2] for r in (exc.args[0] if exc.args and isinstance(exc.args[0], list)
                                  else []) if len(r) >= 3 and r[2]]
        text = ", ".join(reasons) or str(exc) or "handshake failed"
        if any(sign in text for sign in PLAIN_SIGNS):
            return PortSpeaksPlain(f"{host}:{port} does not speak TLS: leave out --tls")
        if "certificate verify failed" in text:
            return CertificateNotTrusted(
                f"the server's certificate is not trusted ({text})")
        return TLSFailed(f"TLS handshake failed ({text}); is {host}:{port} a TLS port?")
    if type(exc).__name__ == "VerificationError":       # service_identity: wrong host name
        return CertificateNotTrusted(f"the server's certificate is not issued for {host}")
    if isinstance(exc, (error.TimeoutError, defer.TimeoutError)):
        return TLSFailed("timed out during the TLS handshake")
    return TLSFailed(f"the connection closed during the TLS handshake; is {host}:{port} "
                     f"a TLS port?")


@implementer(IHandshakeListener)
class _HandshakeGate(Protocol):
    """Sits between the TLS layer and the real protocol: builds and connects the real
    protocol only once the handshake has completed (and the pin is fine), and turns a
    connection lost before that into a :class:`TLSFailed`."""

    def __init__(self, factory, addr):
        self.factory = factory
        self.addr = addr
        self.inner = None
        self.ready = defer.Deferred()      # fires once: the inner protocol, or TLSFailed
        self._settled = False
        self._failure = None
        self._timeout = None

    def connectionMade(self):
        clock = self.factory.clock
        if clock is not None:
            self._timeout = clock.callLater(self.factory.handshake_timeout, self._timed_out)

    def _timed_out(self):
        self._timeout = None
        self._failure = TLSFailed("timed out during the TLS handshake")
        self.transport.abortConnection()

    def _stop_timeout(self):
        if self._timeout is not None and self._timeout.active():
            self._timeout.cancel()
        self._timeout = None

    def handshakeCompleted(self):
        self._stop_timeout()
        if self.factory.pinning is not None:
            try:
                self.factory.pinning.accepted(self.transport)
            except Exception as exc:
                self._failure = exc if isinstance(exc, TLSFailed) else TLSFailed(str(exc))
                self.transport.abortConnection()
                return
        self.inner = self.factory.wrapped.buildProtocol(self.addr)
        self.inner.makeConnection(self.transport)
        self._settled = True
        self.ready.callback(self.inner)

    def dataReceived(self, data):
        if self.inner is not None:
            self.inner.dataReceived(data)

    def connectionLost(self, reason=None):
        self._stop_timeout()
        if self.inner is not None:
            self.inner.connectionLost(reason)
            return
        if not self._settled:
            self._settled = True
            cause = self._failure or (reason.value if reason is not None else None)
            self.ready.errback(describe_tls_error(cause, self.factory.host, self.factory.port))


class _GateFactory(Factory):
    noisy = False
    protocol = _HandshakeGate

    def __init__(self, wrapped, host, port, pinning, clock, handshake_timeout):
        self.wrapped = wrapped
        self.host = host
        self.port = port
        self.pinning = pinning
        self.clock = clock
        self.handshake_timeout = handshake_timeout

    def buildProtocol(self, addr):
        return _HandshakeGate(self, addr)


def tls_connector(reactor, host: str, port: int, options: TLSOptions = None,
                  timeout: float = 10, handshake_timeout: float = HANDSHAKE_TIMEOUT):
    """``connect(factory)`` over TLS to ``host:port``; fires with the protocol ``factory``
    built, once the server's certificate has been accepted (see the module docstring)."""
    options = options or TLSOptions()

    def connect(factory):
        try:
            creator, pinning = connection_creator(host, port, options)
        except TLSFailed as exc:
            return defer.fail(exc)
        tcp = endpoints.HostnameEndpoint(reactor, host, port, timeout=timeout)
        endpoint = endpoints.wrapClientTLS(creator, tcp)
        gates = _GateFactory(factory, host, port, pinning, reactor, handshake_timeout)
        return endpoint.connect(gates).addCallback(lambda gate: gate.ready)

    return connect
