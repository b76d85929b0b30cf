import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { priceTableFinding } from '../ops/checks/config.check.ts';
import { formatProblem, InvalidInput } from '../shared/errors.ts';
import {
  callingCodeOf,
  formatAmount,
  loadPriceTable,
  PRICE_FILE,
  parsePriceTable,
  priceOf,
} from './whatsapp-prices.ts';

const EXAMPLE = fileURLToPath(new URL('../../config/whatsapp-prices.example.yaml', import.meta.url));

function refusal(text: string): string[] {
  try {
    parsePriceTable(text, 'prices.yaml');
  } catch (error) {
    if (error instanceof InvalidInput) return error.problems.map(formatProblem);
    throw error;
  }
  throw new Error('expected the price table to be refused');
}

describe('the WhatsApp price table', () => {
  it('the shipped example loads, and says it is an example', async () => {
    const { readFileSync } = await import('node:fs');
    const text = readFileSync(EXAMPLE, 'utf8');
    expect(text).toMatch(/^# EXAMPLE ONLY\. .*NOT Meta's price list/s);
    const table = parsePriceTable(text, EXAMPLE);
    expect(table.currency).toBe('EUR');
    expect(priceOf(table, '33', 'marketing')).toBe(100_000);
    expect(priceOf(table, '1', 'utility')).toBe(4_000);
  });

  it('a price is looked up by calling code, then default; a category in neither has none', () => {
    const table = parsePriceTable(
      `currency: USD
prices:
  "33": { utility: 0.0305 }
  default: { utility: 0.01, marketing: 0.07 }
`,
      'p.yaml',
    );
    expect(priceOf(table, '33', 'utility')).toBe(30_500);
    expect(priceOf(table, '33', 'marketing')).toBe(70_000);
    expect(priceOf(table, '44', 'utility')).toBe(10_000);
    expect(priceOf(table, '44', 'authentication')).toBeUndefined();
    const noDefault = parsePriceTable('currency: EUR\nprices:\n  33: { utility: 0.02 }\n', 'p.yaml');
    expect(priceOf(noDefault, '44', 'utility')).toBeUndefined();
    expect(priceOf(noDefault, '33', 'utility')).toBe(20_000);
  });

  it('refuses a bad file, naming each field and its rule', () => {
    expect(
      refusal(`currency: euro
prices:
  "33": { utility: -1, marketting: 0.1 }
  "999": { utility: 0.01 }
  default: { marketing: 0.1234567, service: cheap }
`),
    ).toEqual([
      'currency: must be a three-letter ISO 4217 currency code in capitals, such as EUR or USD (got "euro")',
      'prices["33"].utility: must be 0 or more (got -1)',
      'prices["33"].marketting: unknown key (allowed here: marketing, marketing_lite, utility, authentication, authentication_international, service, referral_conversion)',
      'prices["999"]: must be a country calling code without + (33, 1, 44 …) or default (got {"utility":0.01})',
      'prices.default.marketing: must have at most 6 decimals (got 0.1234567)',
      'prices.default.service: must be a price: a number such as 0.0305 (got "cheap")',
    ]);
    expect(refusal('prices: {}\n')).toEqual([
      'prices: must name at least one calling code or default (got {})',
      'currency: is required',
    ]);
    expect(refusal('currency: EUR\nprices: [1]\nextra: 1\n')).toEqual([
      'prices: must map calling codes (33, 1, 44 …) or default to prices (got [1])',
      'extra: unknown key (allowed here: currency, prices)',
    ]);
    expect(refusal('currency: EUR\nprices: {\n')[0]).toMatch(/^line 3, column 1: /);
  });

  it('is optional: no file, no table; a bad file is refused when read', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lastcall-prices-'));
    try {
      expect(loadPriceTable(dir)).toBeUndefined();
      mkdirSync(join(dir, 'config'));
      writeFileSync(join(dir, PRICE_FILE), 'currency: EUR\nprices:\n  default: { utility: 0.01 }\n');
      expect(loadPriceTable(dir)?.micros.get('default')?.get('utility')).toBe(10_000);
      writeFileSync(join(dir, PRICE_FILE), 'currency: EUR\n');
      expect(() => loadPriceTable(dir)).toThrow(
        /whatsapp-prices\.yaml is not valid\n {2}- prices: is required/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('doctor says whether there is a table, and what is wrong with a bad one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lastcall-prices-'));
    try {
      expect(priceTableFinding(dir)).toMatchObject({
        status: 'skip',
        detail: 'none (config/whatsapp-prices.yaml): no cost estimates',
      });
      mkdirSync(join(dir, 'config'));
      writeFileSync(
        join(dir, PRICE_FILE),
        'currency: EUR\nprices:\n  "33": { utility: 0.02 }\n  default: { utility: 0.01 }\n',
      );
      expect(priceTableFinding(dir)).toMatchObject({
        status: 'ok',
        detail: 'config/whatsapp-prices.yaml: EUR, 2 calling codes (33, default)',
      });
      writeFileSync(join(dir, PRICE_FILE), 'currency: EUR\nprices:\n  "33": { utility: -1 }\n');
      const bad = priceTableFinding(dir);
      expect(bad.status).toBe('fail');
      expect(bad.detail).toContain('prices["33"].utility: must be 0 or more (got -1)');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('amounts are exact decimals; calling codes come from libphonenumber', () => {
    expect(formatAmount(21_475_000)).toBe('21.475');
    expect(formatAmount(7_500_000)).toBe('7.50');
    expect(formatAmount(0)).toBe('0.00');
    expect(formatAmount(30_500)).toBe('0.0305');
    expect(formatAmount(1)).toBe('0.000001');
    expect(callingCodeOf('+33612345678')).toBe('33');
    expect(callingCodeOf('+14155550123')).toBe('1');
    expect(callingCodeOf('+447700900123')).toBe('44');
    expect(callingCodeOf('+3726123456')).toBe('372');
    expect(callingCodeOf(null)).toBe('');
    expect(callingCodeOf('+999')).toBe('');
  });
});
