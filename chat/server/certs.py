"""TLS for the server: a self-signed certificate (``twistd chatserver --make-cert``) and the
TLS 1.2 minimum for ``--port ssl:...`` endpoints.

The certificate is an EC P-256 key and a self-signed certificate valid for ten years, whose
subject alternative names are this machine's host name, ``localhost``, ``127.0.0.1`` and
whatever ``--cert-names`` adds (host names or IP addresses). Clients pin its SHA-256
fingerprint on first use, or verify it with the certificate itself as their CA file.
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
        # a CA for itself, so that a client may also name this file as its --ca-file
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, key_cert_sign=True, content_commitment=False,
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


def require_modern_tls(endpoint):
    """Make an ``ssl:`` server endpoint speak TLS 1.2 or newer only, whatever Twisted's
    default minimum is; other endpoints are returned as they are. Raises ValueError for an
    ``sslmethod=`` in the description (it would pin one old protocol version)."""
    if not isinstance(endpoint, endpoints.SSL4ServerEndpoint):
        return endpoint
    from OpenSSL import SSL
    from twisted.internet.ssl import CertificateOptions, TLSVersion
    parsed = endpoint._sslContextFactory     # what the endpoint string parser built
    if getattr(parsed, "method", SSL.TLS_METHOD) != SSL.TLS_METHOD:
        raise ValueError("sslmethod= is not supported: TLS 1.2 or newer is always used")
    endpoint._sslContextFactory = CertificateOptions(
        privateKey=parsed.privateKey,
        certificate=parsed.certificate,
        extraCertChain=parsed.extraCertChain or None,
        dhParameters=parsed.dhParameters,
        raiseMinimumTo=TLSVersion.TLSv1_2,
    )
    return endpoint
