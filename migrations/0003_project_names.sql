-- A project's name is a label, not an identity: a WhatsApp group recreated under the same project name (a new
-- group JID) or two projects swapping names must not make the agent's project sync fail. The group JID stays
-- unique; the feed's project filter matches every group of that name.
ALTER TABLE projects DROP CONSTRAINT projects_name_key;
CREATE INDEX projects_name_idx ON projects (name);
