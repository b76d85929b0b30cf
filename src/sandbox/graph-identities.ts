// Who is who on the sandbox's WhatsApp: every phone number has a business-scoped user id (BSUID),
// as Meta gives each user one per business portfolio since 2026, and a person may "adopt a
// username". From then on the webhooks about them carry only the BSUID (no `from`, no `wa_id`),
// and a message for them must name the BSUID in `recipient` (docs/whatsapp.md).
import { createHash } from 'node:crypto';

/** Calling code → ISO country, for the BSUID's prefix; anything else is `ZZ` (unknown). */
const COUNTRIES: ReadonlyArray<readonly [string, string]> = [
  ['351', 'PT'],
  ['352', 'LU'],
  ['212', 'MA'],
  ['213', 'DZ'],
  ['216', 'TN'],
  ['221', 'SN'],
  ['225', 'CI'],
  ['237', 'CM'],
  ['32', 'BE'],
  ['33', 'FR'],
  ['34', 'ES'],
  ['39', 'IT'],
  ['41', 'CH'],
  ['44', 'GB'],
  ['49', 'DE'],
  ['1', 'US'],
];

/** A BSUID in Meta's form (`FR.1349120865530274191`): the same number always gets the same one. */
export function sandboxUserId(digits: string): string {
  const country = COUNTRIES.find(([code]) => digits.startsWith(code))?.[1] ?? 'ZZ';
  const hash = createHash('sha256').update(`lastcall-sandbox:${digits}`).digest();
  const id = (hash.readBigUInt64BE(0) % 10n ** 19n).toString().padStart(19, '0');
  return `${country}.${id}`;
}

export interface SandboxIdentity {
  readonly digits: string;
  readonly userId: string;
  /** Set once the person adopted a username: their webhooks then carry no phone. */
  readonly username: string | undefined;
}

export class IdentityBook {
  readonly #usernames = new Map<string, string>();
  readonly #byUserId = new Map<string, string>();

  /** The identity of a phone number (digits without "+"). */
  of(digits: string): SandboxIdentity {
    const userId = sandboxUserId(digits);
    this.#byUserId.set(userId, digits);
    return { digits, userId, username: this.#usernames.get(digits) };
  }

  /** The phone number behind a BSUID this sandbox handed out, if any. */
  byUserId(userId: string): SandboxIdentity | undefined {
    const digits = this.#byUserId.get(userId);
    return digits === undefined ? undefined : this.of(digits);
  }

  /** The person behind `digits` adopts `username` (letters, digits, `.` and `_`, 3 to 35). */
  adoptUsername(digits: string, username: string): SandboxIdentity {
    if (!/^[a-z0-9._]{3,35}$/i.test(username))
      throw new Error('username: 3 to 35 letters, digits, "." or "_"');
    this.#usernames.set(digits, username);
    return this.of(digits);
  }
}
