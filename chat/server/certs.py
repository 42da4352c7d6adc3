"""TLS for the server: a self-signed certificate (``twistd chatserver --make-cert``) and the
``--port ssl:...`` endpoints (TLS 1.2 or newer, forward-secret AEAD suites only).

The certificate is an EC P-256 key and a self-signed *leaf* certificate valid for ten years
(``CA:FALSE``, ``serverAuth``), whose subject alternative names are this machine's host name,
``localhost``, ``127.0.0.1`` and whatever ``--cert-names`` adds (host names or IP addresses).
Clients pin its SHA-256 fingerprint on first use, or trust the certificate itself as their
CA file: OpenSSL accepts a self-signed leaf that is itself in the trust store, and because it
is no CA, trusting it trusts nothing else its key might sign.
"""

import datetime
import ipaddress
import os
import socket

from twisted.internet import endpoints

TLS_DIR = "tls"
KEY_FILE = "key.pem"
CERT_FILE = "cert.pem"
VALID_DAYS = 3650
DEFAULT_TLS_PORT = 5443


def default_names() -> list[str]:
    names = []
    for name in (socket.gethostname(), "localhost", "127.0.0.1"):
        if name and name not in names:
            names.append(name)
    return names


def parse_names(text: str) -> list[str]:
    """``host1,10.0.0.5`` -> ``["host1", "10.0.0.5"]``; raises ValueError on a bad one."""
    names = []
    for raw in (text or "").split(","):
        name = raw.strip()
        if not name:
            continue
        try:
            ipaddress.ip_address(name)
        except ValueError:
            try:
                ascii_name = name.encode("idna").decode("ascii")
            except UnicodeError:
                raise ValueError(f"{name!r} is neither a host name nor an IP address") from None
            if not all(part and len(part) <= 63 and all(c.isalnum() or c in "-*" for c in part)
                       for part in ascii_name.split(".")):
                raise ValueError(f"{name!r} is neither a host name nor an IP address")
        names.append(name)
    return names


def make_certificate(folder: str, names: list[str], days: int = VALID_DAYS,
                     now: datetime.datetime = None) -> tuple[str, str, str]:
    """Write ``key.pem`` (mode 0600) and ``cert.pem`` into ``folder``; returns their paths
    and the certificate's SHA-256 fingerprint. Existing files are never overwritten
    (FileExistsError): a new certificate breaks every client's pin."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    from chat.client.tls import fingerprint

    key_path = os.path.join(folder, KEY_FILE)
    cert_path = os.path.join(folder, CERT_FILE)
    for path in (key_path, cert_path):
        if os.path.exists(path):
            raise FileExistsError(path)
    alt_names = []
    for name in names:
        try:
            alt_names.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alt_names.append(x509.DNSName(name.encode("idna").decode("ascii")))
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0][:64])])
    now = now or datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        # a leaf, not a CA: a client that names this file as its --ca-file trusts this
        # certificate and nothing else the key could sign
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, key_cert_sign=False, content_commitment=False,
            key_encipherment=False, data_encipherment=False, key_agreement=False,
            crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                       critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                       critical=False)
        .sign(key, hashes.SHA256())
    )
    os.makedirs(folder, exist_ok=True)
    key_pem = key.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key_pem)
    with open(cert_path, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path, fingerprint(cert.public_bytes(serialization.Encoding.DER))


def ssl_port_string(key_path: str, cert_path: str, port: int = DEFAULT_TLS_PORT) -> str:
    """The ``--port`` value that listens with this key and certificate."""
    return (f"ssl:{port}:privateKey={endpoints.quoteStringArgument(key_path)}"
            f":certKey={endpoints.quoteStringArgument(cert_path)}")


# TLS 1.2 suites: ECDHE key exchange with AES-GCM or ChaCha20-Poly1305 only (no CBC, no SHA-1
# MACs, no static RSA); TLS 1.3's suites are all AEAD and are configured by OpenSSL apart.
TLS12_CIPHERS = "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL:!eNULL"

# what ``ssl:`` takes, as Twisted's own parser does (port first, then key=value)
_SSL_KEYS = {"port", "privatekey", "certkey", "sslmethod", "interface", "backlog",
             "extracertchain", "dhparameters"}


def _split_description(description: str) -> list[str]:
    """``ssl:5443:privateKey=a\\:b`` -> ``["ssl", "5443", "privateKey=a:b"]``: colons split,
    a backslash escapes the next character (what ``endpoints.quoteStringArgument`` writes)."""
    parts, current, chars = [], [], iter(description)
    for char in chars:
        if char == "\\":
            current.append(next(chars, ""))
        elif char == ":":
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _ssl_arguments(description: str) -> dict:
    fields = _split_description(description)[1:]
    args = {}
    for position, field in enumerate(fields):
        key, sep, value = field.partition("=")
        if not sep:
            if position:
                raise ValueError(f"unexpected {field!r}")
            key, value = "port", field
        key = key.lower()
        if key not in _SSL_KEYS:
            raise ValueError(f"unknown option {key!r}")
        args[key] = value
    if "port" not in args or not args["port"].isdigit():
        raise ValueError("a port number is needed")
    if "privatekey" not in args:
        raise ValueError("privateKey= is needed")
    if args.get("sslmethod", "TLS_METHOD") != "TLS_METHOD":
        raise ValueError("sslmethod= is not supported: TLS 1.2 or newer is always used")
    return args


def tls_server_options(key_path: str, cert_path: str, chain_path: str = None,
                       dh_path: str = None):
    """The server's TLS settings: TLS 1.2 minimum, :data:`TLS12_CIPHERS`, the key and
    certificate as ``cryptography`` objects (pyOpenSSL's own are deprecated)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from twisted.internet import ssl
    from twisted.python.filepath import FilePath
    with open(key_path, "rb") as f:
        key_pem = f.read()
    with open(cert_path, "rb") as f:
        cert_pem = f.read()
    key = serialization.load_pem_private_key(key_pem, password=None)
    certificate = x509.load_pem_x509_certificate(cert_pem)
    chain = None
    if chain_path:
        with open(chain_path, "rb") as f:
            chain = x509.load_pem_x509_certificates(f.read())
    dh = ssl.DiffieHellmanParameters.fromFile(FilePath(dh_path)) if dh_path else None
    return ssl.CertificateOptions(
        privateKey=key, certificate=certificate, extraCertChain=chain, dhParameters=dh,
        raiseMinimumTo=ssl.TLSVersion.TLSv1_2,
        acceptableCiphers=ssl.AcceptableCiphers.fromOpenSSLCipherString(TLS12_CIPHERS))


def server_endpoint(reactor, description: str):
    """The endpoint a ``--port`` value names. ``ssl:`` ones are built here with
    :func:`tls_server_options` (Twisted's parser would build its own, weaker, settings);
    the rest go to ``endpoints.serverFromString``. Raises ValueError/OSError on a bad one."""
    if not description.lstrip().lower().startswith("ssl:"):
        return endpoints.serverFromString(reactor, description)
    args = _ssl_arguments(description.lstrip())
    key_path = args["privatekey"]
    options = tls_server_options(key_path, args.get("certkey", key_path),
                                 args.get("extracertchain"), args.get("dhparameters"))
    # the context is made now, so that a key that does not match its certificate is an
    # error at start and not at the first connection
    options.getContext()
    return endpoints.SSL4ServerEndpoint(reactor, int(args["port"]), options,
                                        backlog=int(args.get("backlog", 50)),
                                        interface=args.get("interface", ""))
