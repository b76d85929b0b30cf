// `templates push | status`: submit the message files' WhatsApp templates to Meta for review and
// read back where each one stands (PENDING, APPROVED, REJECTED, PAUSED…, or MISSING when Meta
// has no such name × language). Statuses are stored in `template_statuses`.
//
// Meta does not let a template be edited through `create`: one that already exists is reported
// as it is (with a note when its text differs from the file), never an error.
import type { GraphApiError, TemplateDefinition, TemplateInfo } from '../delivery/channels/graph-admin.ts';
import type { Sql } from '../store/pool.ts';
import type { LocalTemplate } from './whatsapp-templates.ts';

export interface TemplateApi {
  listTemplates(): Promise<TemplateInfo[]>;
  createTemplate(def: TemplateDefinition): Promise<{ id: string; status: string; category: string }>;
}

export interface PushResult {
  readonly name: string;
  readonly language: string;
  readonly file: string;
  readonly outcome: 'created' | 'exists' | 'would-create' | 'refused';
  /** Meta's status (created or existing). */
  readonly status?: string;
  /** An existing template whose text differs from the file. */
  readonly differs?: boolean;
  /** Why Meta refused it. */
  readonly error?: { readonly code: string; readonly message: string };
}

export interface StatusRow {
  readonly name: string;
  readonly language: string;
  readonly file: string;
  readonly status: string;
  readonly category?: string;
  /** Meta's quality rating of the template (GREEN, YELLOW, RED, UNKNOWN). */
  readonly quality?: string;
  readonly reason?: string;
}

export const MISSING = 'MISSING';
const key = (t: { name: string; language: string }) => `${t.name}\u0000${t.language}`;

export async function pushTemplates(
  api: TemplateApi,
  local: readonly LocalTemplate[],
  options: { dryRun: boolean },
): Promise<PushResult[]> {
  const remote = new Map((await api.listTemplates()).map((t) => [key(t), t]));
  const results: PushResult[] = [];
  for (const t of local) {
    const base = { name: t.name, language: t.language, file: t.file };
    const existing = remote.get(key(t));
    if (existing) {
      const differs = !sameText(existing, t.definition);
      results.push({ ...base, outcome: 'exists', status: existing.status, ...(differs ? { differs } : {}) });
      continue;
    }
    if (options.dryRun) {
      results.push({ ...base, outcome: 'would-create' });
      continue;
    }
    try {
      const created = await api.createTemplate(t.definition);
      results.push({ ...base, outcome: 'created', status: created.status });
    } catch (error) {
      const e = error as GraphApiError;
      // Created meanwhile by someone else (Meta: "Content in This Language Already Exists").
      if (/already exists/i.test(e.message)) results.push({ ...base, outcome: 'exists' });
      else if (e.name === 'GraphApiError' && e.code !== 'network' && e.status !== undefined && e.status < 500)
        results.push({ ...base, outcome: 'refused', error: { code: e.code, message: e.message } });
      else throw error; // the API is down or the token is wrong: the rest would fail the same way
    }
  }
  return results;
}

export async function templateStatuses(
  api: TemplateApi,
  local: readonly LocalTemplate[],
): Promise<StatusRow[]> {
  const remote = new Map((await api.listTemplates()).map((t) => [key(t), t]));
  return local.map((t) => {
    const r = remote.get(key(t));
    return {
      name: t.name,
      language: t.language,
      file: t.file,
      status: r?.status ?? MISSING,
      ...(r ? { category: r.category } : {}),
      ...(r?.quality ? { quality: r.quality } : {}),
      ...(r?.rejectedReason ? { reason: r.rejectedReason } : {}),
    };
  });
}

/** Upserts what Meta said about each template (MISSING included: it was deleted or never sent). */
export async function storeStatuses(
  sql: Sql,
  rows: readonly { name: string; language: string; status?: string; reason?: string }[],
  now: number,
): Promise<void> {
  const known = rows.filter((r) => r.status !== undefined);
  if (known.length === 0) return;
  await sql.exec(
    `INSERT INTO template_statuses (name, language, status, reason, updated_at)
     SELECT * , $5::timestamptz FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
     ON CONFLICT (name, language) DO UPDATE
       SET status = EXCLUDED.status, reason = EXCLUDED.reason, updated_at = EXCLUDED.updated_at`,
    [
      known.map((r) => r.name),
      known.map((r) => r.language),
      known.map((r) => r.status),
      known.map((r) => r.reason ?? null),
      new Date(now),
    ],
  );
}

interface Component {
  type?: string;
  text?: string;
  buttons?: { type?: string; text?: string; url?: string }[];
}

/** Body, footer and buttons as Meta holds them vs as the file says (examples aside). */
function sameText(remote: TemplateInfo, def: TemplateDefinition): boolean {
  const shape = (components: unknown[]) =>
    JSON.stringify(
      (components as Component[])
        .map((c) => ({
          type: String(c.type ?? '').toUpperCase(),
          text: c.text ?? null,
          buttons: (c.buttons ?? []).map((b) => ({ type: b.type, text: b.text, url: b.url ?? null })),
        }))
        .sort((a, b) => a.type.localeCompare(b.type)),
    );
  return shape(remote.components) === shape(def.components);
}
