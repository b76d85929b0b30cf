// How an operator names one subscriber on the command line (`subscribers show|forget KEY`): by
// id, by phone (E.164, spaces allowed) or by email. The three cannot be confused: ids never
// hold "+" or "@". Errors never repeat the key: it is usually someone's phone or address.
import { parsePhoneNumberWithError } from 'libphonenumber-js/max';
import { z } from 'zod';
import { InvalidInput, NotFound } from '../shared/errors.ts';
import type { Sql } from '../store/pool.ts';
import { SUBSCRIBER_ID } from './subscriber.schema.ts';

export type SubscriberKey =
  | { readonly kind: 'id'; readonly value: string }
  | { readonly kind: 'phone'; readonly value: string }
  | { readonly kind: 'email'; readonly value: string };

const KEY_RULE = 'must be a subscriber id, a phone number in E.164 form (+33612345678) or an email address';

export function parseSubscriberKey(text: string): SubscriberKey {
  const key = text.trim();
  if (key.includes('@')) {
    const email = key.toLowerCase();
    if (!z.email().safeParse(email).success)
      throw new InvalidInput('Invalid KEY', [
        { path: 'KEY', rule: `looks like an email address but is not one; ${KEY_RULE}` },
      ]);
    return { kind: 'email', value: email };
  }
  if (key.startsWith('+')) {
    let phone: string | undefined;
    try {
      const parsed = parsePhoneNumberWithError(key);
      phone = parsed.isValid() ? parsed.number : undefined;
    } catch {
      phone = undefined;
    }
    if (phone === undefined)
      throw new InvalidInput('Invalid KEY', [
        { path: 'KEY', rule: `starts with + but is not a valid phone number; ${KEY_RULE}` },
      ]);
    return { kind: 'phone', value: phone };
  }
  if (!SUBSCRIBER_ID.test(key)) throw new InvalidInput('Invalid KEY', [{ path: 'KEY', rule: KEY_RULE }]);
  return { kind: 'id', value: key };
}

/** "id s001", "this phone number", "this email address": what a message may say about a key. */
/** No subscriber has that key. The key itself stays out of the error: it may be a phone or email. */
export function subscriberNotFound(
  key: SubscriberKey,
  message = `no subscriber with ${describeKey(key)}`,
): NotFound {
  return new NotFound('subscriber', describeKey(key), message);
}

export function describeKey(key: SubscriberKey): string {
  if (key.kind === 'id') return `id ${key.value}`;
  return key.kind === 'phone' ? 'this phone number' : 'this email address';
}

export interface KeyedSubscriber {
  readonly id: string;
  readonly phone: string | null;
  readonly email: string | null;
}

/** The subscriber a key names, or undefined. `lock` takes the row lock (erasure). */
export function findByKey(sql: Sql, key: SubscriberKey, lock = false): Promise<KeyedSubscriber | undefined> {
  return sql.one<KeyedSubscriber>(
    `SELECT id, phone, email FROM subscribers WHERE ${key.kind} = $1${lock ? ' FOR UPDATE' : ''}`,
    [key.value],
  );
}
