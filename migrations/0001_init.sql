-- Projects: one WhatsApp group each. The group JID is the stable identity; names may be edited.
CREATE TABLE projects (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name        text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 100),
  group_jid   text NOT NULL UNIQUE,
  enabled     boolean NOT NULL DEFAULT true,
  description text NOT NULL DEFAULT '',
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Drops: one row per drop number, holding the latest QA state.
CREATE TABLE drops (
  drop_number            text PRIMARY KEY CHECK (drop_number ~ '^[A-Z0-9]{2,40}$'),
  project_id             bigint NOT NULL REFERENCES projects (id),
  status                 text NOT NULL DEFAULT 'new'
                           CHECK (status IN ('new', 'resubmitted', 'complete', 'incomplete')),
  resubmitted            boolean NOT NULL DEFAULT false,
  first_submitted_at     timestamptz NOT NULL,
  last_submitted_at      timestamptz NOT NULL,
  submission_count       integer NOT NULL DEFAULT 1,
  house_photo            boolean NOT NULL DEFAULT false,
  cable_from_pole        boolean NOT NULL DEFAULT false,
  cable_entry_outside    boolean NOT NULL DEFAULT false,
  cable_entry_inside     boolean NOT NULL DEFAULT false,
  wall_for_installation  boolean NOT NULL DEFAULT false,
  ont_back_after_install boolean NOT NULL DEFAULT false,
  power_meter_reading    boolean NOT NULL DEFAULT false,
  ont_barcode            boolean NOT NULL DEFAULT false,
  ups_serial             boolean NOT NULL DEFAULT false,
  final_installation     boolean NOT NULL DEFAULT false,
  green_lights           boolean NOT NULL DEFAULT false,
  customer_signature     boolean NOT NULL DEFAULT false,
  comment                text,
  feedback_sent_at       timestamptz,
  reviewer               text,
  reviewed_at            timestamptz,
  created_at             timestamptz NOT NULL DEFAULT now(),
  updated_at             timestamptz NOT NULL DEFAULT now()
);

-- The feed: newest activity first, keyset-paginated on (last_submitted_at, drop_number), optionally per
-- project or status.
CREATE INDEX drops_feed_idx ON drops (last_submitted_at DESC, drop_number DESC);
CREATE INDEX drops_project_feed_idx ON drops (project_id, last_submitted_at DESC, drop_number DESC);
CREATE INDEX drops_status_feed_idx ON drops (status, last_submitted_at DESC, drop_number DESC);
-- Daily stats: new drops by first submission, reviews by review time.
CREATE INDEX drops_first_submitted_idx ON drops (first_submitted_at);
CREATE INDEX drops_reviewed_idx ON drops (reviewed_at) WHERE reviewed_at IS NOT NULL;

-- Submissions: one row per drop per WhatsApp message. The unique key makes retries and the backup bridge
-- seeing the same message harmless; `bridge` keeps whichever session delivered it first.
CREATE TABLE submissions (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  drop_number     text NOT NULL REFERENCES drops (drop_number) DEFERRABLE INITIALLY DEFERRED,
  project_id      bigint NOT NULL REFERENCES projects (id),
  chat_jid        text NOT NULL,
  message_id      text NOT NULL,
  bridge          text NOT NULL,
  sender_jid      text NOT NULL,
  sender_phone    text,
  sender_name     text,
  text            text NOT NULL,
  sent_at         timestamptz NOT NULL,
  received_at     timestamptz NOT NULL DEFAULT now(),
  is_resubmission boolean NOT NULL DEFAULT false,
  CONSTRAINT submissions_message_drop_key UNIQUE (chat_jid, message_id, drop_number)
);

CREATE INDEX submissions_drop_idx ON submissions (drop_number, sent_at DESC, id DESC);
CREATE INDEX submissions_resubmitted_idx ON submissions (sent_at) WHERE is_resubmission;
