"""JSON encoding of control frames.

Encoding is compact UTF-8 (``ensure_ascii=False``: Chinese and emoji travel as themselves,
not as ``\\uXXXX`` escapes that would triple their size). Decoding accepts exactly one
JSON object and turns every kind of malformed input into ``ProtocolError(bad_request)``.
"""

import json

from chat.protocol.errors import BAD_REQUEST, ProtocolError
from chat.protocol.framing import encode_frame

_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def encode_object(obj: dict) -> bytes:
    """The UTF-8 JSON text of ``obj``."""
    return _encoder.encode(obj).encode("utf-8")


def control_frame(obj: dict) -> bytes:
    """A complete control frame (length prefix included) for ``obj``."""
    return encode_frame(encode_object(obj))


def decode_object(payload: bytes) -> dict:
    """Parse a control frame payload into a dict, or raise ``ProtocolError``."""
    try:
        text = payload.decode("utf-8")
        obj = json.loads(text, parse_constant=_reject_constant)
    except UnicodeDecodeError:
        raise ProtocolError(BAD_REQUEST, "control frame is not valid UTF-8") from None
    except RecursionError:
        raise ProtocolError(BAD_REQUEST, "JSON nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, NaN/Infinity, over-long integers
        raise ProtocolError(BAD_REQUEST, f"invalid JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise ProtocolError(BAD_REQUEST, "a control frame must be a JSON object")
    return obj
