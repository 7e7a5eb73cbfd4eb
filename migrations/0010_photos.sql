-- The photos behind each drop. The bytes live in R2 under their SHA-256; this is each image message's record (one
-- per WhatsApp message, whichever session uploaded it first) and the drops it is linked to.
CREATE TABLE photos (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  project_id     bigint NOT NULL REFERENCES projects (id),
  chat_jid       text NOT NULL,
  message_id     text NOT NULL,
  session        text NOT NULL,
  sender_jid     text NOT NULL,
  sender_phone   text,
  sender_name    text,
  sent_at        timestamptz NOT NULL,
  received_at    timestamptz NOT NULL DEFAULT now(),
  kind           text NOT NULL CHECK (kind IN ('image', 'document')),
  state          text NOT NULL CHECK (state IN ('stored', 'too_large', 'unsupported', 'failed', 'skipped')),
  sha256         text CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  mimetype       text,
  bytes          integer,
  width          integer,
  height         integer,
  caption        text,
  quoted_id      text,
  caption_drops  text[] NOT NULL DEFAULT '{}',
  quoted_drops   text[] NOT NULL DEFAULT '{}',
  thumbnail      bytea,                     -- a small JPEG
  step           text,                      -- the QA step a reviewer tagged it with
  suggested_step text,                      -- the step its caption suggests
  -- A reviewer's link wins over the rules: manual_link true means manual_drop (NULL: unlinked by hand) is final.
  manual_link    boolean NOT NULL DEFAULT false,
  manual_drop    text,
  updated_at     timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT photos_message_key UNIQUE (chat_jid, message_id),
  CHECK (state <> 'stored' OR sha256 IS NOT NULL)
);
-- The sender-window rule looks up a sender's photos in a group around a drop message's time.
CREATE INDEX photos_sender_idx ON photos (chat_jid, sender_jid, sent_at);
CREATE INDEX photos_project_idx ON photos (project_id, sent_at DESC, id DESC);
CREATE INDEX photos_sha256_idx ON photos (sha256) WHERE sha256 IS NOT NULL;

-- Which drops each photo belongs to, and by which rule: recomputed whenever a photo or a drop message arrives,
-- never edited by hand (a manual link is on the photo itself).
CREATE TABLE photo_links (
  photo_id    bigint NOT NULL REFERENCES photos (id),
  drop_number text NOT NULL REFERENCES drops (drop_number),
  linked_by   text NOT NULL CHECK (linked_by IN ('caption', 'reply', 'sender_window', 'manual')),
  PRIMARY KEY (photo_id, drop_number)
);
CREATE INDEX photo_links_drop_idx ON photo_links (drop_number);
