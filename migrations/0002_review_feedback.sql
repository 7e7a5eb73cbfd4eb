-- Every QA review, kept; drops holds the latest.
CREATE TABLE reviews (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  drop_number text NOT NULL REFERENCES drops (drop_number),
  status      text NOT NULL CHECK (status IN ('complete', 'incomplete')),
  steps       jsonb NOT NULL,          -- the full 12-step map after this review
  comment     text,
  reviewer    text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reviews_drop_idx ON reviews (drop_number, created_at DESC);

-- Feedback messages to post in a project's group. pending → ready (the scheduler took a rate-limit slot for
-- it) → claimed (an agent holds it for a lease) → sent | failed; pending/ready/claimed → cancelled.
CREATE TABLE feedback (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  drop_number   text NOT NULL REFERENCES drops (drop_number),
  review_id     bigint REFERENCES reviews (id),
  group_jid     text NOT NULL,
  text          text NOT NULL,
  mentions      text[] NOT NULL DEFAULT '{}',
  status        text NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'ready', 'claimed', 'sent', 'failed', 'cancelled')),
  due_at        timestamptz NOT NULL,
  ready_at      timestamptz,
  attempts      integer NOT NULL DEFAULT 0,
  claimed_until timestamptz,
  wa_message_id text,
  sent_by       text,
  sent_at       timestamptz,
  error         text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX feedback_pending_idx ON feedback (due_at, id) WHERE status = 'pending';
CREATE INDEX feedback_ready_idx ON feedback (ready_at, id) WHERE status = 'ready';
CREATE INDEX feedback_claimed_idx ON feedback (claimed_until) WHERE status = 'claimed';
CREATE INDEX feedback_drop_idx ON feedback (drop_number, created_at DESC);

-- One row per rate-limit slot taken: the limits are counts over this ledger in sliding windows, per sending
-- number, and "not the same drop twice within an hour" is a look-up in it.
CREATE TABLE feedback_ledger (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  sender      text NOT NULL,
  feedback_id bigint NOT NULL REFERENCES feedback (id),
  drop_number text NOT NULL,
  taken_at    timestamptz NOT NULL
);
CREATE INDEX feedback_ledger_sender_idx ON feedback_ledger (sender, taken_at);
CREATE INDEX feedback_ledger_drop_idx ON feedback_ledger (drop_number, taken_at);

-- WhatsApp sessions as their agents last reported them.
CREATE TABLE bridges (
  agent             text NOT NULL,
  session           text NOT NULL,
  role              text NOT NULL,
  state             text NOT NULL,
  phone             text,
  last_event_at     timestamptz,
  last_heartbeat_at timestamptz NOT NULL,
  stale             boolean NOT NULL DEFAULT false,
  PRIMARY KEY (agent, session)
);

CREATE INDEX submissions_bridge_idx ON submissions (bridge, received_at DESC);
