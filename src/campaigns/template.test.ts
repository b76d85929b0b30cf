import { describe, expect, it } from 'vitest';
import { compileTemplate, escapeHtml, TemplateSyntaxError } from './template.ts';

const render = (source: string, vars: Record<string, string | number | boolean>) =>
  compileTemplate(source).render(vars);

describe('compileTemplate', () => {
  it('substitutes values, with or without spaces in the braces', () => {
    expect(render('Hello {{name}}, {{ days }} days', { name: 'Ana', days: 7 })).toBe('Hello Ana, 7 days');
  });

  it('shows #if sections for true flags and non-empty values, #unless for the others', () => {
    const source = '{{#if a}}A{{else}}not A{{/if}}/{{#unless a}}U{{/unless}}/{{#if t}}T{{/if}}';
    expect(render(source, { a: true, t: 'x' })).toBe('A//T');
    expect(render(source, { a: false, t: '' })).toBe('not A/U/');
  });

  it('nests sections', () => {
    const source = '{{#if a}}[{{#if b}}ab{{else}}a{{/if}}]{{/if}}';
    expect(render(source, { a: true, b: false })).toBe('[a]');
    expect(render(source, { a: true, b: true })).toBe('[ab]');
    expect(render(source, { a: false, b: true })).toBe('');
  });

  it('drops the line of a block tag that stands alone, leaving no blank lines', () => {
    const source = 'one\n  {{#if a}}\ntwo\n{{else}}\nthree\n{{/if}}  \nfour\n';
    expect(render(source, { a: true })).toBe('one\ntwo\nfour\n');
    expect(render(source, { a: false })).toBe('one\nthree\nfour\n');
  });

  it('refuses WhatsApp positional placeholders, which only Meta fills', () => {
    expect(() => compileTemplate('Hi {{1}}')).toThrow('{{1}} is a WhatsApp placeholder');
  });

  it('lists the names it reads', () => {
    const compiled = compileTemplate('{{#if chatgpt}}{{name}}{{/if}}{{#unless both}}{{deadline}}{{/unless}}');
    expect([...compiled.values]).toEqual(['name', 'deadline']);
    expect([...compiled.flags]).toEqual(['chatgpt', 'both']);
  });

  it('reads attributes, empty when missing, and chooses sections by their value', () => {
    const source =
      '{{#if attr.plan is pro|"pro plus"}}P{{else}}F{{/if}}{{#unless attr.city is Lyon}}!{{/unless}}[{{attr.city}}]';
    expect(render(source, { 'attr.plan': 'pro plus', 'attr.city': 'Lyon' })).toBe('P[Lyon]');
    expect(render(source, { 'attr.plan': 'free' })).toBe('F![]');
    const compiled = compileTemplate(source);
    expect([...compiled.attributes]).toEqual(['plan', 'city']);
    expect(() => compileTemplate('{{#if attr.plan is}}x{{/if}}')).toThrow(/unsupported tag/);
  });

  it('escapes values, and only values, when asked', () => {
    const out = compileTemplate('<p title="{{name}}">{{name}}</p>').render(
      { name: '<script>"x" & \'y\'' },
      escapeHtml,
    );
    expect(out).toBe(
      '<p title="&lt;script&gt;&quot;x&quot; &amp; &#39;y&#39;">&lt;script&gt;&quot;x&quot; &amp; &#39;y&#39;</p>',
    );
  });

  it('refuses malformed templates with a reason', () => {
    const bad: [string, RegExp][] = [
      ['{{#if a}}open', /never closed/],
      ['{{/if}}', /does not close any section/],
      ['{{#if a}}x{{/unless}}', /does not close \{\{#if a\}\}/],
      ['{{else}}', /outside/],
      ['{{#each items}}x{{/each}}', /unsupported tag/],
      ['{{{name}}}', /unsupported tag/],
      ['{{a b c}}', /unsupported tag/],
      ['{{#if}}x{{/if}}', /unsupported tag/],
    ];
    for (const [source, reason] of bad) {
      expect(() => compileTemplate(source), source).toThrow(TemplateSyntaxError);
      expect(() => compileTemplate(source), source).toThrow(reason);
    }
  });

  it('refuses to render a missing variable or a flag as text', () => {
    expect(() => render('{{name}}', {})).toThrow('template variable "name" has no value');
    expect(() => render('{{both}}', { both: true })).toThrow('is a flag, not text');
    expect(() => render('{{toString}}', {})).toThrow('has no value');
  });
});
