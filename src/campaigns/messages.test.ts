import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidInput } from '../shared/errors.ts';
import { loadCampaignFile, parseCampaign } from './campaign.loader.ts';
import { buildMessageVars, MESSAGE_LOCALES, resolveLocale, sampleMessageVars } from './message-vars.ts';
import {
  loadMessageTemplates,
  renderEmail,
  renderMessage,
  renderWhatsApp,
  SHIPPED_MESSAGES_DIR,
  validateCampaignTemplates,
} from './messages.ts';

const campaignFile = (name: string) => fileURLToPath(new URL(`../../${name}`, import.meta.url));
const SHIPPED = campaignFile('config/campaigns/ai-assistants-leave-whatsapp.yaml');
const TEMPLATES = ['first-notice', 'one-week', 'last-day', 'last-hours'];
const ASSISTANTS = ['chatgpt', 'copilot', 'both'] as const;
const HOSTILE_NAME = '<script>alert("x")</script> & Co';

describe('the shipped templates', () => {
  it('cover every step of the shipped campaign in every language', async () => {
    const campaign = await loadCampaignFile(SHIPPED);
    expect(campaign.steps.map((s) => s.template)).toEqual(TEMPLATES);
    expect(await validateCampaignTemplates(campaign)).toEqual([]);
  });

  for (const template of TEMPLATES) {
    for (const locale of MESSAGE_LOCALES) {
      for (const assistant of ASSISTANTS) {
        it(`${template} renders in ${locale} for ${assistant}`, async () => {
          const loaded = await loadMessageTemplates(SHIPPED_MESSAGES_DIR, locale, template);
          const vars = {
            ...sampleMessageVars(locale, { assistant }, HOSTILE_NAME),
            unsubscribeUrl: 'https://l.example/u/a?b=1&c=2',
          };
          const { email, whatsapp } = renderMessage(loaded, vars);
          if (email === undefined || whatsapp === undefined) throw new Error('both parts expected');

          // Every value in the HTML is escaped; the text part carries it as is.
          expect(email.html).not.toContain('<script>');
          expect(email.html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co');
          expect(email.html).toContain('href="https://l.example/u/a?b=1&amp;c=2"');
          expect(email.html).toContain(`href="${vars.doneUrl}"`);
          expect(email.text).toContain(HOSTILE_NAME);
          expect(email.text).toContain(vars.unsubscribeUrl);
          expect(email.text).toContain(vars.doneUrl);
          expect(email.subject).not.toMatch(/\n/);
          expect(email.subject).toContain(assistant === 'copilot' ? 'Copilot' : 'ChatGPT');
          for (const part of [email.subject, email.text, email.html, whatsapp.preview]) {
            expect(part).not.toMatch(/\{\{|\}\}/);
          }

          // The content fits the subscriber's assistant and no other.
          for (const part of [email.text, email.html, whatsapp.preview]) {
            if (assistant === 'chatgpt') expect(part).not.toContain('Copilot');
            if (assistant === 'copilot') expect(part).not.toContain('ChatGPT');
            if (assistant !== 'copilot')
              expect(part).toContain(locale === 'fr' ? 'compte ChatGPT' : 'ChatGPT account');
            if (assistant !== 'chatgpt') expect(part).toMatch(/Copilot/);
          }
          const exportWords = locale === 'fr' ? 'Exporter la discussion' : 'Export chat';
          expect(email.text).toContain(exportWords);
          expect(whatsapp.preview).toContain(exportWords);

          // WhatsApp: one parameter per {{n}}, one line each, no links, the done link on the button.
          const placeholders = new Set([...whatsapp.preview.matchAll(/\{\{(\d+)\}\}/g)].map((m) => m[1]));
          const bodyPlaceholders = new Set(
            [...(loaded.whatsapp?.body ?? '').matchAll(/\{\{(\d+)\}\}/g)].map((m) => m[1]),
          );
          expect(placeholders.size).toBe(0);
          expect(whatsapp.bodyParams).toHaveLength(bodyPlaceholders.size);
          expect([...bodyPlaceholders].sort()).toEqual(
            whatsapp.bodyParams.map((_, i) => String(i + 1)).sort(),
          );
          for (const param of whatsapp.bodyParams) {
            expect(param).not.toMatch(/[\n\t]| {5}/);
            expect(param.length).toBeGreaterThan(0);
          }
          expect(whatsapp.bodyParams[0]).toBe(HOSTILE_NAME); // Meta shows parameters as plain text
          expect(whatsapp.preview.length).toBeLessThanOrEqual(1024);
          expect(whatsapp.preview).not.toMatch(/https?:\/\//);
          expect(whatsapp.language).toBe(locale);
          expect(whatsapp.category).toBe('UTILITY');
          expect(whatsapp.button).toEqual({
            text: locale === 'fr' ? 'C’est fait' : 'I’ve done it',
            param: 'sample-token',
            url: vars.doneUrl,
          });
        });
      }
    }
  }

  it('use one WhatsApp template name per step for both languages', async () => {
    for (const template of TEMPLATES) {
      const [fr, en] = await Promise.all(
        MESSAGE_LOCALES.map((l) => loadMessageTemplates(SHIPPED_MESSAGES_DIR, l, template)),
      );
      expect(fr?.whatsapp?.name).toBe(en?.whatsapp?.name);
      expect(fr?.whatsapp?.params).toEqual(en?.whatsapp?.params);
    }
  });
});

describe('loadMessageTemplates', () => {
  it('falls back to English for an unknown locale and reads regional French as French', async () => {
    expect((await loadMessageTemplates(SHIPPED_MESSAGES_DIR, 'de-DE', 'one-week')).locale).toBe('en');
    expect((await loadMessageTemplates(SHIPPED_MESSAGES_DIR, 'fr-CA', 'one-week')).locale).toBe('fr');
    expect(resolveLocale('FR_fr')).toBe('fr');
    expect(resolveLocale('fry')).toBe('en');
    expect(resolveLocale('')).toBe('en');
  });

  it('names the path it searched when a template is missing', async () => {
    const error = await loadMessageTemplates(SHIPPED_MESSAGES_DIR, 'fr', 'no-such-step').catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(InvalidInput);
    expect((error as InvalidInput).problems).toEqual([
      { path: join(SHIPPED_MESSAGES_DIR, 'fr', 'no-such-step.yaml'), rule: 'file not found' },
    ]);
  });

  it('refuses a template name that could leave the folder', async () => {
    await expect(loadMessageTemplates(SHIPPED_MESSAGES_DIR, 'fr', '../fr/one-week')).rejects.toThrow(
      /must be a slug/,
    );
  });
});

describe('buildMessageVars', () => {
  const deadline = Date.parse('2026-01-15T00:00:00+01:00');
  const links = {
    unsubscribeUrl: 'https://x.example/u/t',
    doneUrl: 'https://x.example/done/t',
    helpUrl: 'https://x.example/help',
  };

  it('writes the deadline in the subscriber’s language and zone, and counts calendar days there', () => {
    // The d1 step in Montreal: 10:00 on 13 January, the deadline being 18:00 on the 14th there.
    const now = Date.parse('2026-01-13T10:00:00-05:00');
    const base = {
      name: '  Amélie \n Tremblay ',
      attributes: { assistant: 'both' },
      deadline,
      now,
      links,
      publicUrl: 'https://x.example/',
    };
    const fr = buildMessageVars({ ...base, locale: 'fr-CA', timezone: 'America/Montreal' });
    expect(fr.deadline).toBe('mercredi 14 janvier 2026 à 18:00 (heure de Montreal)');
    expect(fr).toMatchObject({
      daysLeft: 1,
      timeLeft: 'demain',
      name: 'Amélie Tremblay',
      'attr.assistant': 'both',
      publicUrl: 'https://x.example',
    });
    const en = buildMessageVars({
      ...base,
      locale: 'en',
      timezone: 'Asia/Kathmandu',
      attributes: { assistant: 'copilot' },
    });
    expect(en.deadline).toBe('Thursday, 15 January 2026 at 04:45 (Kathmandu time)');
    expect(en).toMatchObject({
      daysLeft: 2,
      timeLeft: 'in 2 days',
      'attr.assistant': 'copilot',
    });
  });

  it('greets a subscriber without a name and never counts below zero days', () => {
    const late = {
      attributes: { assistant: 'chatgpt' },
      deadline,
      now: deadline + 86_400_000,
      links,
      publicUrl: 'https://x.example',
    };
    const fr = buildMessageVars({ ...late, name: ' ', locale: 'fr', timezone: 'Europe/Paris' });
    expect(fr).toMatchObject({ name: 'à vous', daysLeft: 0, timeLeft: 'aujourd’hui' });
    expect(buildMessageVars({ ...late, name: '', locale: 'en', timezone: 'Europe/Paris' }).name).toBe(
      'there',
    );
  });

  it('refuses a done link that does not match the WhatsApp button registered with Meta', async () => {
    const loaded = await loadMessageTemplates(SHIPPED_MESSAGES_DIR, 'en', 'one-week');
    const vars = { ...sampleMessageVars('en'), doneUrl: 'https://elsewhere.example/done/t' };
    expect(() => renderMessage(loaded, vars)).toThrow(/doneUrl does not start with the button's URL prefix/);
  });
});

describe('validateCampaignTemplates', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lastcall-messages-'));
    for (const locale of MESSAGE_LOCALES) await mkdir(join(dir, locale));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reports every broken and missing file of a campaign’s own messages folder', async () => {
    const campaign = await loadCampaignFile(campaignFile('test/fixtures/campaigns/broken-templates.yaml'));
    const problems = await validateCampaignTemplates(campaign);
    const fr = campaignFile('test/fixtures/campaigns/broken-messages/fr/notice.yaml');
    const en = campaignFile('test/fixtures/campaigns/broken-messages/en/notice.yaml');
    expect(problems).toEqual([
      expect.objectContaining({
        path: `${fr}: email.subject`,
        value: '{{nom}}',
        rule: expect.stringMatching(/^unknown variable/),
      }),
      { path: `${fr}: email.text`, rule: '{{#if chatgpt}} is never closed' },
      expect.objectContaining({
        path: `${fr}: whatsapp.params`,
        rule: expect.stringContaining('{{1}}, {{2}}, {{3}}'),
      }),
      { path: `${fr}: whatsapp.body`, rule: 'must not contain links: put the link in the URL button' },
      { path: en, rule: 'file not found' },
    ]);
  });

  it('reports a channel a step needs that its template lacks, and bad WhatsApp fields', async () => {
    const whatsappOnly = [
      'whatsapp:',
      '  name: Bad-Name',
      '  language: fr-FR',
      '  category: PROMO',
      '  body: "{{1}} bonjour"',
      '  params: [name, nickname]',
      '  button: { type: url, text: Ok, url: "http://x.example/{{1}}", param: doneUrl }',
    ].join('\n');
    const french =
      'whatsapp:\n  name: ok\n  language: fr\n  category: UTILITY\n  body: "Hi {{1}}."\n  params: [name]\n';
    await writeFile(join(dir, 'fr', 'notice.yaml'), whatsappOnly);
    await writeFile(join(dir, 'en', 'notice.yaml'), french);
    const campaign = parseCampaign(
      `id: c\nname: C\ndeadline: 2030-01-01T00:00:00Z\nsteps: [{ id: s, before: P1D, channels: [email, whatsapp], template: notice }]\n`,
      join(dir, 'campaign.yaml'),
    );
    const problems = await validateCampaignTemplates(campaign, dir);
    const fr = join(dir, 'fr', 'notice.yaml');
    expect(problems.map((p) => p.path)).toEqual([
      `${fr}: whatsapp.name`,
      `${fr}: whatsapp.language`,
      `${fr}: whatsapp.category`,
      `${fr}: whatsapp.button.url`,
      join(dir, 'en', 'notice.yaml'),
      `${join(dir, 'en', 'notice.yaml')}: whatsapp.language`,
    ]);
    expect(problems.slice(-2).map((p) => p.rule)).toEqual([
      'has no email part, but a step sends "notice" by email',
      'must be a language code for en',
    ]);
  });

  it('checks Meta’s body rules once the fields are valid', async () => {
    const body = (text: string, params: string) =>
      `whatsapp:\n  name: ok\n  language: fr\n  category: UTILITY\n  body: "${text}"\n  params: ${params}\n`;
    await writeFile(join(dir, 'fr', 'notice.yaml'), body('{{1}} et {{1}} {{name}}', '[name]'));
    const campaign = parseCampaign(
      `id: c\nname: C\ndeadline: 2030-01-01T00:00:00Z\nsteps: [{ id: s, before: P1D, channels: [whatsapp], template: notice }]\n`,
      join(dir, 'campaign.yaml'),
    );
    const rules = (await validateCampaignTemplates(campaign, dir))
      .filter((p) => p.path.includes('/fr/'))
      .map((p) => p.rule);
    expect(rules).toEqual([
      'must use each placeholder {{n}} once',
      'must use positional placeholders {{1}}…{{n}} only (Meta fills them from params)',
      'must not start or end with a placeholder (Meta refuses such templates)',
    ]);
  });
});

describe('vars and attributes in message files', () => {
  it('renders vars that choose text by an attribute, and names unknown variables and params', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lastcall-vars-'));
    await mkdir(join(dir, 'en'));
    await writeFile(
      join(dir, 'en', '_vars.yaml'),
      'vars:\n  greeting: "{{#if attr.plan is pro|\\"pro plus\\"}}Dear {{name}}{{else}}Hi {{name}}{{/if}}"\n',
    );
    const file = (params: string) =>
      [
        'vars:',
        '  city: "{{#if attr.city}}in {{attr.city}}{{else}}near you{{/if}}"',
        'email: { subject: "{{greeting}}", text: "{{greeting}}, {{city}}. {{attr.plan}}", html: "<p>{{city}}</p>" }',
        'whatsapp:',
        '  name: n',
        '  language: en',
        '  category: UTILITY',
        '  body: "Hello {{1}} and {{2}}."',
        `  params: [${params}]`,
      ].join('\n');
    await writeFile(join(dir, 'en', 'offer.yaml'), file('greeting, attr.city'));
    const loaded = await loadMessageTemplates(dir, 'en', 'offer');
    expect(loaded.attributes).toEqual(new Set(['plan', 'city']));
    const pro = renderMessage(loaded, sampleMessageVars('en', { plan: 'pro plus', city: 'Lyon <2>' }, 'Ana'));
    expect(pro.email).toMatchObject({ subject: 'Dear Ana', text: 'Dear Ana, in Lyon <2>. pro plus' });
    expect(pro.email?.html).toBe('<p>in Lyon &lt;2&gt;</p>');
    expect(pro.whatsapp?.bodyParams).toEqual(['Dear Ana', 'Lyon <2>']);
    const none = sampleMessageVars('en', {}, 'Ana');
    expect(renderEmail(loaded, none)).toMatchObject({ subject: 'Hi Ana', text: 'Hi Ana, near you. ' });
    // Meta refuses an empty parameter: `campaign validate` counts who lacks an attribute.
    expect(() => renderWhatsApp(loaded, none)).toThrow('WhatsApp parameter {{2}} (attr.city) is empty');

    await writeFile(
      join(dir, 'en', 'offer.yaml'),
      file('greeting, nickname').replace('{{city}}</p>', '{{town}}</p>'),
    );
    const refusal = await loadMessageTemplates(dir, 'en', 'offer').catch((e: InvalidInput) => e);
    expect(refusal).toBeInstanceOf(InvalidInput);
    expect((refusal as InvalidInput).problems.map((p) => [p.path, p.value])).toEqual([
      ['email.html', '{{town}}'],
      ['whatsapp.params[1]', 'nickname'],
    ]);
    await rm(dir, { recursive: true, force: true });
  });
});

describe('the shipped campaign with assistant as an attribute', () => {
  // Every message as the code rendered it when `assistant` was a column and its texts were in
  // code (fixture written before the change, test/fixtures/messages/shipped-rendered.json).
  const before: Record<string, unknown> = JSON.parse(
    readFileSync(new URL('../../test/fixtures/messages/shipped-rendered.json', import.meta.url), 'utf8'),
  );

  it('sends exactly the messages it sent before, for every template, language and assistant', async () => {
    expect(Object.keys(before)).toHaveLength(TEMPLATES.length * MESSAGE_LOCALES.length * ASSISTANTS.length);
    for (const template of TEMPLATES)
      for (const locale of MESSAGE_LOCALES) {
        const loaded = await loadMessageTemplates(SHIPPED_MESSAGES_DIR, locale, template);
        expect(loaded.attributes).toEqual(new Set(['assistant']));
        for (const assistant of ASSISTANTS) {
          const now = renderMessage(
            loaded,
            sampleMessageVars(locale, { assistant }, 'Camille <Martin> & co'),
          );
          expect(JSON.parse(JSON.stringify(now)), `${template} ${locale} ${assistant}`).toEqual(
            before[`${template} ${locale} ${assistant}`],
          );
        }
        // Without the attribute, the text for both (the column's old default).
        const without = renderMessage(loaded, sampleMessageVars(locale, {}, 'Camille <Martin> & co'));
        expect(JSON.parse(JSON.stringify(without))).toEqual(before[`${template} ${locale} both`]);
      }
  });
});
