-- Up Migration

-- The operator console's aggregates, answered from indexes rather than by reading every
-- delivery of a campaign on each refresh:
-- sends per minute of one campaign over the last hour (a range on sent_at);
CREATE INDEX deliveries_campaign_sent ON deliveries (campaign_id, sent_at) WHERE sent_at IS NOT NULL;
-- the campaign list's counts and the funnel's counts by status (index-only scans).
CREATE INDEX deliveries_campaign_status ON deliveries (campaign_id, status, step_id, channel)
  INCLUDE (error_code, skip_reason, kind);

-- Down Migration
DROP INDEX deliveries_campaign_status;
DROP INDEX deliveries_campaign_sent;
