-- Bans: an admin may ban an account; a banned account cannot log in until unbanned.
-- Applied once by chat.server.storage.migrate; older databases get the columns with defaults.

ALTER TABLE accounts ADD COLUMN banned INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN ban_reason TEXT;
