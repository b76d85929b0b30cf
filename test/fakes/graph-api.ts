// The fake WhatsApp Cloud API for tests. The server is shippable code (it doubles as the demo's
// WhatsApp sandbox), so it lives in src/sandbox; this module gathers what tests need.
export { type GraphErrorBody, graphError } from '../../src/sandbox/graph-errors.ts';
export { type FailureScope, failures, type GraphFailure } from '../../src/sandbox/graph-failures.ts';
export {
  type FakeGraphApi,
  type FakeGraphApiOptions,
  type RecordedRequest,
  startFakeGraphApi,
  type TemplateSeed,
} from '../../src/sandbox/graph-fake.ts';
export { IdentityBook, sandboxUserId } from '../../src/sandbox/graph-identities.ts';
export type { SentMessage } from '../../src/sandbox/graph-messages.ts';
export type { TemplateDef } from '../../src/sandbox/graph-templates.ts';
export {
  type InboundInput,
  messagesChange,
  numberChange,
  type StatusInput,
  statusesChange,
  templateStatusChange,
  userIdChange,
  userPreferencesChange,
  type WebhookChange,
  type WebhookMetadata,
  webhookPayload,
} from '../../src/sandbox/webhook-payloads.ts';
export {
  encodeWebhook,
  metaJson,
  postWebhook,
  signWebhook,
  type WebhookEncoding,
} from '../../src/sandbox/webhook-signing.ts';
