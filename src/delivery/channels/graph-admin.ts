// Graph API management calls whatsapp-api-js doesn't wrap: message templates (list, create) and the
// phone number's profile, for `lastcall templates` and `lastcall doctor`. They go through the
// library's authenticated `$$apiFetch$$`, hence through the same origin-rewriting, time-bounded
// fetch as sends. Failures throw a GraphApiError that says what to fix.
import type { WhatsAppAPI } from 'whatsapp-api-js';
import { GRAPH_ORIGIN } from './graph-fetch.ts';
import { describeGraphError, type GraphError } from './whatsapp-errors.ts';

export class GraphApiError extends Error {
  readonly code: string;
  readonly status: number | undefined;
  constructor(message: string, code: string, status?: number) {
    super(message);
    this.name = 'GraphApiError';
    this.code = code;
    this.status = status;
  }
}

export interface TemplateInfo {
  id: string;
  name: string;
  language: string;
  status: string;
  category: string;
  /** Meta's quality rating of the template (GREEN, YELLOW, RED, UNKNOWN), when it has one. */
  quality?: string;
  components: unknown[];
  rejectedReason?: string;
}

export interface TemplateDefinition {
  name: string;
  language: string;
  category: 'MARKETING' | 'UTILITY' | 'AUTHENTICATION';
  parameter_format?: 'POSITIONAL' | 'NAMED';
  components: unknown[];
}

export interface PhoneNumberInfo {
  id: string;
  displayPhoneNumber: string;
  verifiedName: string;
  qualityRating: string;
}

function hint(code: number): string {
  if (code === 190) return ' (check WHATSAPP_TOKEN: a valid system-user token is needed)';
  if (code === 100) return ' (check WHATSAPP_PHONE_NUMBER_ID / WHATSAPP_BUSINESS_ACCOUNT_ID and the request)';
  return '';
}

export async function graphJson(
  api: WhatsAppAPI,
  what: string,
  url: string,
  init?: RequestInit,
): Promise<unknown> {
  let res: Response;
  try {
    res = await api.$$apiFetch$$(url, init);
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    const reason = e.name === 'TimeoutError' ? 'timed out' : (e.cause?.code ?? e.message);
    throw new GraphApiError(
      `${what}: cannot reach the Graph API (${reason}); check WHATSAPP_API_URL`,
      'network',
    );
  }
  const text = await res.text();
  let body: { error?: GraphError } | undefined;
  try {
    body = JSON.parse(text) as { error?: GraphError };
  } catch {
    throw new GraphApiError(
      `${what}: HTTP ${res.status} with a non-JSON reply`,
      `http-${res.status}`,
      res.status,
    );
  }
  if (body?.error || !res.ok) {
    const e = body?.error ?? { code: res.status };
    throw new GraphApiError(
      `${what}: ${describeGraphError(e)} (code ${e.code})${hint(e.code)}`,
      String(e.code),
      res.status,
    );
  }
  return body;
}

export async function listTemplates(
  api: WhatsAppAPI,
  version: string,
  wabaId: string,
): Promise<TemplateInfo[]> {
  const fields = 'id,name,language,status,category,quality_score,components,rejected_reason';
  let url: string | undefined =
    `${GRAPH_ORIGIN}/${version}/${wabaId}/message_templates?fields=${fields}&limit=100`;
  const out: TemplateInfo[] = [];
  for (let page = 0; url && page < 100; page++) {
    const body = (await graphJson(api, 'list message templates', url)) as {
      data?: Record<string, unknown>[];
      paging?: { next?: string };
    };
    for (const t of body.data ?? []) {
      const info: TemplateInfo = {
        id: String(t.id),
        name: String(t.name),
        language: String(t.language),
        status: String(t.status),
        category: String(t.category),
        components: Array.isArray(t.components) ? t.components : [],
      };
      const quality = (t.quality_score as { score?: unknown } | undefined)?.score;
      if (typeof quality === 'string') info.quality = quality;
      if (typeof t.rejected_reason === 'string' && t.rejected_reason !== 'NONE')
        info.rejectedReason = t.rejected_reason;
      out.push(info);
    }
    url = body.paging?.next;
  }
  return out;
}

export async function createTemplate(
  api: WhatsAppAPI,
  version: string,
  wabaId: string,
  def: TemplateDefinition,
): Promise<{ id: string; status: string; category: string }> {
  const body = (await graphJson(
    api,
    `create template ${def.name} (${def.language})`,
    `${GRAPH_ORIGIN}/${version}/${wabaId}/message_templates`,
    {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(def),
    },
  )) as { id: unknown; status: unknown; category: unknown };
  return { id: String(body.id), status: String(body.status), category: String(body.category) };
}

/** What the number says about Meta's limits: the portfolio's messaging limit tier
 *  (`TIER_250` … `TIER_UNLIMITED`) and the number's throughput level (`STANDARD`, `HIGH`). */
export interface NumberLimits {
  messagingTier: string | undefined;
  throughputLevel: string | undefined;
}

export async function numberLimits(
  api: WhatsAppAPI,
  version: string,
  phoneNumberId: string,
): Promise<NumberLimits> {
  const b = (await graphJson(
    api,
    'read the messaging limit',
    `${GRAPH_ORIGIN}/${version}/${phoneNumberId}?fields=whatsapp_business_manager_messaging_limit,throughput`,
  )) as Record<string, unknown>;
  const tier = b.whatsapp_business_manager_messaging_limit;
  const level = (b.throughput as { level?: unknown } | undefined)?.level;
  return {
    messagingTier: typeof tier === 'string' ? tier : undefined,
    throughputLevel: typeof level === 'string' ? level : undefined,
  };
}

export async function phoneNumberInfo(
  api: WhatsAppAPI,
  version: string,
  phoneNumberId: string,
): Promise<PhoneNumberInfo> {
  const fields = 'id,display_phone_number,verified_name,quality_rating';
  const b = (await graphJson(
    api,
    'read the phone number',
    `${GRAPH_ORIGIN}/${version}/${phoneNumberId}?fields=${fields}`,
  )) as Record<string, unknown>;
  return {
    id: String(b.id),
    displayPhoneNumber: String(b.display_phone_number),
    verifiedName: String(b.verified_name),
    qualityRating: String(b.quality_rating),
  };
}
