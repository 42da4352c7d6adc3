"""Room and membership queries of the SQL storage (interaction functions: they take a Tx)."""

from collections import defaultdict

from . import NameTaken, Room
from .engine import Tx

_COLUMNS = "name, key, topic, created_by, created"


def create(tx: Tx, name, key, topic, created_by, now) -> Room:
    try:
        tx.execute(f"INSERT INTO rooms ({_COLUMNS}) VALUES (?, ?, ?, ?, ?)",
                   (name, key, topic, created_by, now))
    except tx.engine.error as e:
        if tx.engine.is_unique_violation(e):
            raise NameTaken(key) from e
        raise
    return Room(name, key, topic, created_by, now)


def all_rooms(tx: Tx) -> list[Room]:
    return [Room(*row) for row in tx.all(f"SELECT {_COLUMNS} FROM rooms ORDER BY key")]


def set_topic(tx: Tx, key, topic) -> None:
    tx.execute("UPDATE rooms SET topic = ? WHERE key = ?", (topic, key))


def add_member(tx: Tx, conv, account_id, now) -> None:
    tx.execute("INSERT INTO members (conv, account_id, joined) VALUES (?, ?, ?) "
               "ON CONFLICT (conv, account_id) DO NOTHING", (conv, account_id, now))


def remove_member(tx: Tx, conv, account_id) -> None:
    tx.execute("DELETE FROM members WHERE conv = ? AND account_id = ?", (conv, account_id))


def memberships(tx: Tx) -> dict[str, set[int]]:
    result = defaultdict(set)
    for conv, account_id in tx.all("SELECT conv, account_id FROM members"):
        result[conv].add(account_id)
    return dict(result)
