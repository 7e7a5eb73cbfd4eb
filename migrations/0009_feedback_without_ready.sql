-- The feedback queue without its `ready` state: a rate-limit slot is taken when an agent claims a message, so
-- claims take due pending messages directly. The states are described in edge-api/src/feedback/queue/index.ts.
UPDATE feedback SET status = 'pending', updated_at = now() WHERE status = 'ready';

ALTER TABLE feedback DROP CONSTRAINT feedback_status_check;
ALTER TABLE feedback ADD CONSTRAINT feedback_status_check
  CHECK (status IN ('pending', 'claimed', 'sent', 'failed', 'cancelled'));

DROP INDEX feedback_ready_idx;
ALTER TABLE feedback DROP COLUMN ready_at;

-- A review cancels a drop's unsent message before it schedules the next, so a drop never has two; the claim
-- relies on it (one message per drop at a time) instead of checking it. Should an older database hold two
-- anyway, the newer one stands, as a review would have left it.
UPDATE feedback f SET status = 'cancelled', claimed_until = NULL, error = 'superseded by a newer message',
                      updated_at = now()
WHERE f.status IN ('pending', 'claimed')
  AND EXISTS (SELECT 1 FROM feedback n
              WHERE n.drop_number = f.drop_number AND n.status IN ('pending', 'claimed') AND n.id > f.id);
CREATE UNIQUE INDEX feedback_unsent_drop_key ON feedback (drop_number) WHERE status IN ('pending', 'claimed');
