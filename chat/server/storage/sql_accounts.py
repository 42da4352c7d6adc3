"""Account queries of the SQL storage (interaction functions: they take a Tx)."""

from typing import Optional

from . import Account, NameTaken
from .engine import Tx

_COLUMNS = ("id, name, key, password_hash, admin, created, last_seen, avatar_type, banned, "
            "ban_reason")


def _account(row) -> Optional[Account]:
    if row is None:
        return None
    (id, name, key, password_hash, admin, created, last_seen, avatar_type, banned,
     ban_reason) = row
    return Account(id, name, key, password_hash, bool(admin), created, last_seen, avatar_type,
                   bool(banned), ban_reason)


def create(tx: Tx, name, key, password_hash, now, admin, join, admin_if_first=False) -> Account:
    # "the first account is an admin" is decided by this one statement, inside the
    # transaction that creates the account: of many registrations racing on a new server
    # exactly one finds the table empty (SQLite runs one writer at a time; on PostgreSQL the
    # engine locks the table against other writers first, which also keeps the next id ours)
    tx.engine.lock_accounts(tx)
    try:
        # the id is above every id ever used, deleted accounts' too (see 004_deleted_accounts)
        tx.execute("INSERT INTO accounts (id, name, key, password_hash, admin, created) "
                   "SELECT 1 + (SELECT COALESCE(MAX(id), 0) FROM (SELECT id FROM accounts "
                   "UNION ALL SELECT id FROM deleted_accounts) AS used), "
                   "?, ?, ?, CASE WHEN ? <> 0 OR (? <> 0 AND NOT EXISTS (SELECT 1 FROM accounts)) "
                   "THEN 1 ELSE 0 END, ?",
                   (name, key, password_hash, int(bool(admin)), int(bool(admin_if_first)), now))
    except tx.engine.error as e:
        if tx.engine.is_unique_violation(e):
            raise NameTaken(key) from e
        raise
    account = by_key(tx, key)
    tx.executemany("INSERT INTO members (conv, account_id, joined) VALUES (?, ?, ?) "
                   "ON CONFLICT (conv, account_id) DO NOTHING",
                   [(conv, account.id, now) for conv in join])
    return account


def by_key(tx: Tx, key) -> Optional[Account]:
    return _account(tx.one(f"SELECT {_COLUMNS} FROM accounts WHERE key = ?", (key,)))


def by_id(tx: Tx, account_id) -> Optional[Account]:
    return _account(tx.one(f"SELECT {_COLUMNS} FROM accounts WHERE id = ?", (account_id,)))


def all_accounts(tx: Tx) -> list[Account]:
    return [_account(row) for row in tx.all(f"SELECT {_COLUMNS} FROM accounts ORDER BY key")]


def count(tx: Tx) -> int:
    return tx.value("SELECT COUNT(*) FROM accounts")


def set_password_hash(tx: Tx, account_id, password_hash) -> None:
    tx.execute("UPDATE accounts SET password_hash = ? WHERE id = ?", (password_hash, account_id))


def set_admin(tx: Tx, account_id, admin) -> None:
    tx.execute("UPDATE accounts SET admin = ? WHERE id = ?", (int(bool(admin)), account_id))


def set_last_seen(tx: Tx, account_id, now) -> None:
    tx.execute("UPDATE accounts SET last_seen = ? WHERE id = ?", (now, account_id))


def set_banned(tx: Tx, account_id, banned, reason) -> None:
    tx.execute("UPDATE accounts SET banned = ?, ban_reason = ? WHERE id = ?",
               (int(bool(banned)), reason if banned else None, account_id))


def set_avatar(tx: Tx, account_id, avatar_type, data) -> None:
    if avatar_type is None:
        data = None
    tx.execute("UPDATE accounts SET avatar_type = ?, avatar = ? WHERE id = ?",
               (avatar_type, None if data is None else bytes(data), account_id))


def avatar(tx: Tx, account_id) -> Optional[tuple[str, bytes]]:
    row = tx.one("SELECT avatar_type, avatar FROM accounts WHERE id = ?", (account_id,))
    if row is None or row[0] is None:
        return None
    return row[0], bytes(row[1] or b"")


def delete(tx: Tx, account_id, now) -> bool:
    """Forget the account, its memberships and read marks; its id is never used again. Its
    messages stay (they carry the sender's name), and so do its files' records."""
    tx.execute("INSERT INTO deleted_accounts (id, key, deleted) "
               "SELECT id, key, ? FROM accounts WHERE id = ?", (now, account_id))
    tx.execute("DELETE FROM members WHERE account_id = ?", (account_id,))
    tx.execute("DELETE FROM read_marks WHERE account_id = ?", (account_id,))
    return tx.execute("DELETE FROM accounts WHERE id = ?", (account_id,)).rowcount > 0
