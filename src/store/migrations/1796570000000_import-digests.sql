-- Up Migration

-- The re-import fast path (docs/subscribers.md, "How an import works"): a subscriber left by an
-- import exactly as one CSV record makes it (profile, every listed channel active with that
-- record's evidence, no note) keeps that record's digest, so that the same record in a later
-- import is known unchanged without being validated again. 41 bytes: the record's 128-bit digest
-- (rules version, header and fields), then which of id, phone and email it has (one byte) and
-- their 64-bit hashes for the file's duplicate check (src/subscribers/import.digest.ts).
--
-- Anything else that changes the subscriber or its channels clears it, so that the next import
-- merges that row again by the ordinary rules. The import itself sets `lastcall.importing` in
-- its chunk transactions and writes the digests it means (src/subscribers/import.merge.ts).
-- The channel trigger updates the subscriber row even when it has no digest: the import, which
-- sets a digest on a row it found unchanged without locking it, sets it only on the row version
-- it looked at (xmin), and a channel change must make a new one. Every path that changes a
-- channel locks the subscriber row first (subscription.service.ts, bounce.service.ts), so this
-- takes no new lock order. Erasure deletes the row, and the digest with it.
ALTER TABLE subscribers ADD COLUMN import_digest bytea;

-- updated_at says when the person's data changed: not when only the digest did (set by an
-- import, or cleared by the triggers below), nor on an update that changes nothing (the
-- channel trigger's, on a row without a digest). The row comparison is cheap; the jsonb one
-- runs only when the digest changed.
DROP TRIGGER subscribers_touch ON subscribers;
CREATE TRIGGER subscribers_touch BEFORE UPDATE ON subscribers
  FOR EACH ROW
  WHEN (CASE WHEN OLD.import_digest IS NOT DISTINCT FROM NEW.import_digest THEN OLD.* IS DISTINCT FROM NEW.*
             ELSE to_jsonb(OLD) - 'import_digest' IS DISTINCT FROM to_jsonb(NEW) - 'import_digest' END)
  EXECUTE FUNCTION touch_updated_at();

CREATE FUNCTION subscribers_import_digest_clear() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.import_digest := NULL;
  RETURN NEW;
END $$;

CREATE TRIGGER subscribers_import_digest_clear BEFORE UPDATE ON subscribers
  FOR EACH ROW
  WHEN (OLD.import_digest IS NOT NULL AND NEW.import_digest IS NOT DISTINCT FROM OLD.import_digest
        AND current_setting('lastcall.importing', true) IS DISTINCT FROM 'on')
  EXECUTE FUNCTION subscribers_import_digest_clear();

CREATE FUNCTION subscriber_changes_clear_import_digest() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE subscribers SET import_digest = NULL WHERE id = NEW.subscriber_id;
  RETURN NULL;
END $$;

CREATE TRIGGER subscriber_channels_import_digest AFTER INSERT OR UPDATE OF state, consent_at
  ON subscriber_channels
  FOR EACH ROW
  WHEN (current_setting('lastcall.importing', true) IS DISTINCT FROM 'on')
  EXECUTE FUNCTION subscriber_changes_clear_import_digest();

CREATE TRIGGER consent_events_import_digest AFTER INSERT ON consent_events
  FOR EACH ROW
  WHEN (NEW.subscriber_id IS NOT NULL AND current_setting('lastcall.importing', true) IS DISTINCT FROM 'on')
  EXECUTE FUNCTION subscriber_changes_clear_import_digest();

-- Down Migration

DROP TRIGGER consent_events_import_digest ON consent_events;
DROP TRIGGER subscriber_channels_import_digest ON subscriber_channels;
DROP FUNCTION subscriber_changes_clear_import_digest();
DROP TRIGGER subscribers_import_digest_clear ON subscribers;
DROP FUNCTION subscribers_import_digest_clear();
DROP TRIGGER subscribers_touch ON subscribers;
CREATE TRIGGER subscribers_touch BEFORE UPDATE ON subscribers
  FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
ALTER TABLE subscribers DROP COLUMN import_digest;
