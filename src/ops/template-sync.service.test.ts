import { describe, expect, it } from 'vitest';
import {
  GraphApiError,
  type TemplateDefinition,
  type TemplateInfo,
} from '../delivery/channels/graph-admin.ts';
import { pushTemplates, type TemplateApi, templateStatuses } from './template-sync.service.ts';
import type { LocalTemplate } from './whatsapp-templates.ts';

function local(name: string, language: string, body = `Hello {{1}}, from ${name}.`): LocalTemplate {
  const definition: TemplateDefinition = {
    name,
    language,
    category: 'UTILITY',
    parameter_format: 'POSITIONAL',
    components: [{ type: 'BODY', text: body, example: { body_text: [['Sam']] } }],
  };
  return { name, language, category: 'UTILITY', file: `${language}/${name}.yaml`, definition };
}

/** An in-memory account: what Meta holds, and what create does (or throws). */
function account(
  held: TemplateInfo[],
  create: (def: TemplateDefinition) => Promise<{ status: string }>,
): TemplateApi {
  return {
    listTemplates: async () => held,
    createTemplate: async (def) => ({ id: '1', category: def.category, ...(await create(def)) }),
  };
}

const held = (t: LocalTemplate, status: string, body?: string): TemplateInfo => ({
  id: '9',
  name: t.name,
  language: t.language,
  status,
  category: 'UTILITY',
  components: [{ type: 'BODY', text: body ?? (t.definition.components[0] as { text: string }).text }],
});

describe('pushTemplates', () => {
  const a = local('a', 'fr');
  const b = local('b', 'fr');
  const c = local('c', 'en');

  it('creates what is missing, reports what exists (and whether its text differs), records refusals', async () => {
    const api = account([held(a, 'APPROVED'), held(b, 'PENDING', 'Old text {{1}}.')], async (def) => {
      if (def.name === 'c')
        throw new GraphApiError('create template c (en): Invalid parameter (code 100)', '100', 400);
      return { status: 'PENDING' };
    });
    const d = local('d', 'en');
    expect(await pushTemplates(api, [a, b, c, d], { dryRun: false })).toEqual([
      { name: 'a', language: 'fr', file: 'fr/a.yaml', outcome: 'exists', status: 'APPROVED' },
      { name: 'b', language: 'fr', file: 'fr/b.yaml', outcome: 'exists', status: 'PENDING', differs: true },
      {
        name: 'c',
        language: 'en',
        file: 'en/c.yaml',
        outcome: 'refused',
        error: { code: '100', message: 'create template c (en): Invalid parameter (code 100)' },
      },
      { name: 'd', language: 'en', file: 'en/d.yaml', outcome: 'created', status: 'PENDING' },
    ]);
  });

  it('creates nothing in a dry run', async () => {
    const api = account([], async () => {
      throw new Error('must not be called');
    });
    expect((await pushTemplates(api, [a], { dryRun: true }))[0]?.outcome).toBe('would-create');
  });

  it('stops at an unreachable API or a broken token instead of reporting every template refused', async () => {
    const api = account([], async () => {
      throw new GraphApiError('cannot reach the Graph API', 'network');
    });
    await expect(pushTemplates(api, [a, b], { dryRun: false })).rejects.toThrow('cannot reach the Graph API');
  });
});

describe('templateStatuses', () => {
  it("gives Meta's status, its rejection reason, or MISSING", async () => {
    const a = local('a', 'fr');
    const b = local('b', 'en');
    const api = account([{ ...held(a, 'REJECTED'), rejectedReason: 'INVALID_FORMAT' }], async () => ({
      status: 'x',
    }));
    expect(await templateStatuses(api, [a, b])).toEqual([
      {
        name: 'a',
        language: 'fr',
        file: 'fr/a.yaml',
        status: 'REJECTED',
        category: 'UTILITY',
        reason: 'INVALID_FORMAT',
      },
      { name: 'b', language: 'en', file: 'en/b.yaml', status: 'MISSING' },
    ]);
  });
});
