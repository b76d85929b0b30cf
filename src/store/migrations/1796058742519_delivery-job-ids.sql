-- Up Migration

-- The BullMQ job that carries each delivery: a page of a fan-out (`batch-…`) or the delivery's
-- own job (`delivery-<id>`, for retries and re-queues). Fan-out writes it with the row, a claim
-- overwrites it with the claimer's id, a retry or a channel-down hand-back sets the row's own.
-- Recovery reads it: a `sending` row whose job is no longer active was interrupted mid-send
-- (→ `unknown`), and a `queued` row whose job is gone is queued again under the same id, so a
-- page of a million-row campaign waiting its turn is not mistaken for an orphan. Adding a
-- nullable column rewrites nothing; rows from before it count as `delivery-<id>`.
ALTER TABLE deliveries ADD COLUMN job_id text;

-- Down Migration

ALTER TABLE deliveries DROP COLUMN job_id;
