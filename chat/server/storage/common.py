"""Rules shared by the storage implementations, so that they agree to the millisecond."""

from typing import Optional


def burn_deadline(start: int, ttl: Optional[float]) -> int:
    """When a burn message read (or stored without recipients) at ``start`` ms is due."""
    # round(), not int(): 4.35 * 1000 is 4349.999... in floating point.
    return start + round((ttl or 0) * 1000)
