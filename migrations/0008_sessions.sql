-- "Session" is the one word for a WhatsApp number linked to an agent; the schema said "bridge" as well. Renames
-- only: each is a catalog change, instant whatever the size of submissions.
ALTER TABLE bridges RENAME TO sessions;
ALTER INDEX bridges_pkey RENAME TO sessions_pkey;
ALTER TABLE submissions RENAME COLUMN bridge TO session;
ALTER INDEX submissions_bridge_idx RENAME TO submissions_session_idx;
