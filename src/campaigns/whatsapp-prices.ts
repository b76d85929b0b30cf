// The operator's WhatsApp price table (docs/whatsapp.md, "Pricing"): config/whatsapp-prices.yaml
// in the working directory (where `.env` is read from), optional. A currency, and per country
// calling code (`33`, `1`, `44` …, or `default`) a price per message for each of Meta's pricing
// categories. Validated with a schema: a bad file is refused, every problem named, before the
// command that reads it does anything. Prices are held in millionths of the currency unit, so
// that counts × prices add up exactly.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { getCountries, getCountryCallingCode, parsePhoneNumberWithError } from 'libphonenumber-js/max';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { InvalidInput } from '../shared/errors.ts';
import { sortByDocumentOrder, yamlProblems, zodProblems } from './input-problems.ts';

/** Where the table is looked for, from the working directory. */
export const PRICE_FILE = 'config/whatsapp-prices.yaml';
/** The example shipped next to it (figures invented, not Meta's). */
export const PRICE_EXAMPLE_FILE = 'config/whatsapp-prices.example.yaml';

/** Meta's pricing categories, as status webhooks' `pricing.category` names them. */
export const PRICING_CATEGORIES = [
  'marketing',
  'marketing_lite',
  'utility',
  'authentication',
  'authentication_international',
  'service',
  'referral_conversion',
] as const;

const MICROS = 1_000_000;

/** Every country calling code libphonenumber knows ("1", "33", "44" …). */
const CALLING_CODES = new Set(getCountries().map((country) => getCountryCallingCode(country)));

const price = z
  .number({ message: 'must be a price: a number such as 0.0305' })
  .nonnegative('must be 0 or more')
  .max(1000, 'must be at most 1000 (a price per message)')
  .refine((v) => Math.abs(v * MICROS - Math.round(v * MICROS)) < 1e-6, {
    message: 'must have at most 6 decimals',
  });

const categoryPrices = z.strictObject(
  Object.fromEntries(PRICING_CATEGORIES.map((c) => [c, price.optional()])) as Record<
    (typeof PRICING_CATEGORIES)[number],
    z.ZodOptional<typeof price>
  >,
);

export const priceFileSchema = z.strictObject({
  currency: z
    .string({ message: 'must be a currency code such as EUR' })
    .regex(/^[A-Z]{3}$/, 'must be a three-letter ISO 4217 currency code in capitals, such as EUR or USD'),
  prices: z
    .record(
      z.string().refine((key) => key === 'default' || CALLING_CODES.has(key)),
      categoryPrices,
      {
        error: (issue) =>
          issue.code === 'invalid_key'
            ? 'must be a country calling code without + (33, 1, 44 …) or default'
            : 'must map calling codes (33, 1, 44 …) or default to prices',
      },
    )
    .refine((table) => Object.keys(table).length > 0, {
      message: 'must name at least one calling code or default',
    }),
});

export interface PriceTable {
  /** The file it was read from. */
  readonly file: string;
  readonly currency: string;
  /** Millionths of the currency per message, by calling code ("33", "default") then category. */
  readonly micros: ReadonlyMap<string, ReadonlyMap<string, number>>;
}

/** The table from `cwd`/config/whatsapp-prices.yaml; undefined when there is no such file. */
export function loadPriceTable(cwd = process.cwd()): PriceTable | undefined {
  const file = resolve(cwd, PRICE_FILE);
  if (!existsSync(file)) return undefined;
  return parsePriceTable(readFileSync(file, 'utf8'), file);
}

export function parsePriceTable(text: string, file: string): PriceTable {
  const summary = `WhatsApp price table ${file} is not valid`;
  const doc = parseDocument(text.replace(/^\uFEFF/, ''), { prettyErrors: true });
  if (doc.errors.length > 0) throw new InvalidInput(`${summary} YAML`, yamlProblems(doc));
  const raw: unknown = doc.toJS();
  const parsed = priceFileSchema.safeParse(raw);
  if (!parsed.success)
    throw new InvalidInput(
      summary,
      sortByDocumentOrder(zodProblems(priceFileSchema, parsed.error, raw), raw),
    );
  const micros = new Map<string, ReadonlyMap<string, number>>();
  for (const [code, prices] of Object.entries(parsed.data.prices))
    micros.set(
      code,
      new Map(
        Object.entries(prices).flatMap(([category, v]) =>
          v === undefined ? [] : [[category, Math.round(v * MICROS)] as const],
        ),
      ),
    );
  return { file, currency: parsed.data.currency, micros };
}

/** The price of one message (millionths), for the calling code, else `default`; undefined: none. */
export function priceOf(table: PriceTable, callingCode: string, category: string): number | undefined {
  return table.micros.get(callingCode)?.get(category) ?? table.micros.get('default')?.get(category);
}

/** An amount in millionths as a decimal: 2 decimals at least, no trailing zeros past them. */
export function formatAmount(micros: number): string {
  const sign = micros < 0 ? '-' : '';
  const abs = Math.abs(micros);
  const whole = Math.floor(abs / MICROS);
  const fraction = String(abs % MICROS)
    .padStart(6, '0')
    .replace(/0{1,4}$/, '');
  return `${sign}${whole}.${fraction}`;
}

/** A priced amount for JSON: the decimal as a number (exact to the millionth). */
export function amountNumber(micros: number): number {
  return Number(formatAmount(micros));
}

/** The country calling code of an E.164 phone ("33"), '' when it cannot be told. */
export function callingCodeOf(phone: string | null | undefined): string {
  if (!phone) return '';
  try {
    return parsePhoneNumberWithError(phone).countryCallingCode;
  } catch {
    return '';
  }
}

/** What to tell an operator who has no table. */
export const NO_PRICE_TABLE = `no price table: copy ${PRICE_EXAMPLE_FILE} to ${PRICE_FILE}, put your own prices in it, for an estimated cost (docs/whatsapp.md)`;
