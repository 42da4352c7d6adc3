"""JSON encoding of control frames.

Encoding is compact UTF-8 (``ensure_ascii=False``: Chinese and emoji travel as themselves,
not as ``\\uXXXX`` escapes that would triple their size). Decoding accepts exactly one
JSON object and turns every kind of malformed input into ``ProtocolError(bad_request)``.
"""

import json
import re

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
    # UTF-8 cannot carry a lone surrogate, but a \ud800 escape in JSON can: such a string
    # would fail later, when it is stored or sent on (the scan is cheap; the walk is rare)
    if _SURROGATE_ESCAPE.search(text) and _has_lone_surrogate(obj):
        raise ProtocolError(BAD_REQUEST, "a string holds an invalid Unicode surrogate")
    return obj


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _has_lone_surrogate(value) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(v) for v in value)
    return False
