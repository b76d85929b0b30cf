// Graph API error bodies as Meta returns them, for the fake Cloud API.
// Shape (Meta "Error codes" page): { error: { message, type, code, error_data: { messaging_product,
// details }, error_subcode?, fbtrace_id } }. Titles live in `message` as "(#code) Title"; clients are
// told to branch on `code` + `error_data.details`. Plain Graph errors (OAuth 190, generic 1/2, 100
// on a missing object) carry no `error_data`, and transient ones say `is_transient: true`.
import { randomBytes } from 'node:crypto';

export interface GraphErrorBody {
  error: {
    message: string;
    type: string;
    code: number;
    error_data?: { messaging_product: 'whatsapp'; details: string };
    error_subcode?: number;
    is_transient?: boolean;
    error_user_title?: string;
    error_user_msg?: string;
    fbtrace_id: string;
  };
}

export interface GraphErrorReply {
  status: number;
  body: GraphErrorBody;
}

interface Entry {
  title: string;
  details: string;
  status: number;
  /** Graph-level error (no WhatsApp error_data), message without the "(#code)" prefix. */
  plain?: boolean;
  transient?: boolean;
  subcode?: number;
}

const CATALOGUE: Record<number, Entry> = {
  1: { title: 'An unknown error occurred', details: '', status: 500, plain: true, transient: true },
  2: {
    title: 'An unexpected error has occurred. Please retry your request later.',
    details: '',
    status: 503,
    plain: true,
    transient: true,
  },
  4: { title: 'Application request limit reached', details: 'Too many API calls', status: 400 },
  100: { title: 'Invalid parameter', details: 'Invalid parameter', status: 400 },
  190: {
    title: 'Invalid OAuth access token - Cannot parse access token',
    details: '',
    status: 401,
    plain: true,
  },
  368: { title: 'Temporarily blocked for policies violations', details: 'Policy violation', status: 400 },
  80007: {
    title: 'Rate limit issues',
    details: 'The WhatsApp Business Account reached its rate limit',
    status: 400,
  },
  130429: {
    title: 'Rate limit hit',
    details: 'Cloud API message throughput has been reached.',
    status: 429,
    subcode: 2494055,
  },
  131000: { title: 'Something went wrong', details: 'Something went wrong', status: 500 },
  131008: { title: 'Required parameter is missing', details: 'A required parameter is missing', status: 400 },
  131009: { title: 'Parameter value is not valid', details: 'A parameter value is not valid', status: 400 },
  131026: {
    title: 'Message undeliverable',
    details:
      'Unable to deliver message. Reasons can include: the recipient phone number is not a WhatsApp phone number; the recipient has not accepted the new Terms of Service.',
    status: 400,
  },
  131031: { title: 'Business Account locked', details: 'The business account has been locked', status: 400 },
  131047: {
    title: 'Re-engagement message',
    details: 'More than 24 hours have passed since the recipient last replied to the sender number.',
    status: 400,
  },
  131049: {
    title: 'This message was not delivered to maintain healthy ecosystem engagement.',
    details: 'In order to maintain a healthy ecosystem engagement, the message failed to be delivered.',
    status: 400,
  },
  131050: {
    title: 'Unable to deliver the message.',
    details: 'This recipient has chosen to stop receiving marketing messages on WhatsApp from your business.',
    status: 400,
  },
  131056: {
    title: '(Business Account, Consumer Account) pair rate limit hit',
    details:
      'Message failed to send because there were too many messages sent from this phone number to the same phone number in a short period of time.',
    status: 400,
  },
  131057: {
    title: 'Account in maintenance mode',
    details: 'Business account is in maintenance mode',
    status: 400,
  },
  131051: {
    title: 'Unsupported message type',
    details: 'Message type is not currently supported',
    status: 400,
  },
  132000: {
    title: 'Number of parameters does not match the expected number of params',
    details: 'Number of parameters does not match the expected number of params',
    status: 400,
  },
  132001: {
    title: 'Template name does not exist in the translation',
    details: 'Template name does not exist in the translation',
    status: 404,
  },
  132005: { title: 'Translated text too long', details: 'Translated text is too long', status: 400 },
  132007: {
    title: 'Template Format Character Policy Violated',
    details: 'Template content violates a WhatsApp policy',
    status: 400,
  },
  132012: {
    title: 'Parameter format does not match format in the created template',
    details: 'Parameter format does not match format in the created template',
    status: 400,
  },
  132015: { title: 'Template is Paused', details: 'Template is paused due to low quality', status: 400 },
  132016: { title: 'Template is Disabled', details: 'Template is disabled due to low quality', status: 400 },
  132018: {
    title: "There's an issue with the parameters in your template.",
    details: 'Param text cannot have new-line/tab characters or more than 4 consecutive spaces',
    status: 400,
  },
};

export function fbtraceId(): string {
  return `A${randomBytes(16).toString('base64url').slice(0, 22)}`;
}

/** Meta's title for a code ("Message undeliverable"), or a generic one for codes the fake doesn't know. */
export function graphErrorTitle(code: number): string {
  return CATALOGUE[code]?.title ?? `Error ${code}`;
}

/** The reply Meta gives for `code`; `details` replaces the stock explanation. */
export function graphError(code: number, details?: string, status?: number): GraphErrorReply {
  const e = CATALOGUE[code] ?? { title: `Error ${code}`, details: '', status: 400 };
  const body: GraphErrorBody = {
    error: {
      message: e.plain ? e.title : `(#${code}) ${e.title}`,
      type: 'OAuthException',
      code,
      fbtrace_id: fbtraceId(),
    },
  };
  if (!e.plain || details) {
    body.error.error_data = { messaging_product: 'whatsapp', details: details ?? e.details };
  }
  if (e.subcode !== undefined) body.error.error_subcode = e.subcode;
  if (e.transient) body.error.is_transient = true;
  return { status: status ?? e.status, body };
}

/** Graph's answer for an id that names nothing this token can see (code 100, subcode 33). */
export function unknownObject(id: string, method: string): GraphErrorReply {
  return {
    status: 400,
    body: {
      error: {
        message: `Unsupported ${method.toLowerCase()} request. Object with ID '${id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`,
        type: 'GraphMethodException',
        code: 100,
        error_subcode: 33,
        fbtrace_id: fbtraceId(),
      },
    },
  };
}

/** A template-management refusal (code 100 with a user-facing title and message, as Meta sends). */
export function invalidTemplate(userTitle: string, userMsg: string, subcode?: number): GraphErrorReply {
  const body: GraphErrorBody = {
    error: {
      message: 'Invalid parameter',
      type: 'OAuthException',
      code: 100,
      is_transient: false,
      error_user_title: userTitle,
      error_user_msg: userMsg,
      fbtrace_id: fbtraceId(),
    },
  };
  if (subcode !== undefined) body.error.error_subcode = subcode;
  return { status: 400, body };
}
