// Console sessions (docs/console.md, "Sign-in and sessions"): signing in with an API key
// (ADMIN_TOKEN or a key from `lastcall api-keys create`) gives a cookie that is a signed reference
// to that key, never the key itself:
//
//   v1.<ref>.<expires, unix s>.<HMAC-SHA256(SECRET_KEY, "console-session|ref|expires|keyHash")>
//
// `ref` is "admin" or the key's public id; `keyHash` is the SHA-256 the key is stored under
// (for ADMIN_TOKEN, its own SHA-256). Each request re-reads the key like a bearer key would be:
// a revoked key, a key made again under the same name, or a changed ADMIN_TOKEN no longer
// matches, so its sessions end at once. Nothing is stored server-side; signing out clears the
// cookie, and the expiry bounds a copied one.
// The CSRF token of a session is an HMAC of the cookie under another label: a form posted from
// elsewhere cannot know it (SameSite=Strict already keeps the cookie off cross-site requests).
import { createHash, createHmac } from 'node:crypto';
import type { ServeConfig } from '../config/config.ts';
import { sameSecret } from '../shared/secrets.ts';
import type { Sql } from '../store/pool.ts';
import { ADMIN_PRINCIPAL, type ApiKeyService, type Principal, type Scope } from './api-keys.ts';

export const SESSION_COOKIE = 'lastcall_console';
export const SESSION_TTL_MS = 8 * 3_600_000;

export interface ConsoleSession {
  readonly principal: Principal;
  readonly expiresAt: number;
  /** The value every state-changing form of this session must carry. */
  readonly csrf: string;
}

export interface SessionDeps {
  readonly sql: Sql;
  readonly keys: ApiKeyService;
  readonly config: Pick<ServeConfig, 'adminToken' | 'secretKey'>;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const COOKIE_SHAPE = /^v1\.(admin|[A-Za-z0-9]{12})\.(\d{1,12})\.([A-Za-z0-9_-]{43})$/;
const KEY_ID = /^lck_([A-Za-z0-9]{12})_/;

export function createSessionService(deps: SessionDeps) {
  const secret = deps.config.secretKey;
  const mac = (label: string, text: string) =>
    createHmac('sha256', secret).update(`${label}|${text}`).digest('base64url');

  /** The stored hash and principal a reference stands for now, or undefined. */
  async function keyOf(ref: string): Promise<{ hash: string; principal: Principal } | undefined> {
    if (ref === 'admin') {
      return { hash: sha256(deps.config.adminToken), principal: ADMIN_PRINCIPAL };
    }
    const row = await deps.sql.one<{ name: string; scope: Scope; key_hash: string }>(
      'SELECT name, scope, key_hash FROM api_keys WHERE key_id = $1 AND revoked_at IS NULL',
      [ref],
    );
    return row && { hash: row.key_hash, principal: { name: row.name, scope: row.scope } };
  }

  function sessionOf(cookie: string, principal: Principal, expiresAt: number): ConsoleSession {
    return { principal, expiresAt, csrf: mac('console-csrf', cookie) };
  }

  return {
    /** Checks a key as the API would; a cookie value and its session, or undefined. */
    async signIn(key: string, now: number): Promise<{ cookie: string; session: ConsoleSession } | undefined> {
      const principal = await deps.keys.resolve(key, deps.config, now);
      if (!principal) return undefined;
      const ref = principal === ADMIN_PRINCIPAL ? 'admin' : KEY_ID.exec(key)?.[1];
      if (ref === undefined) return undefined;
      const expires = Math.floor((now + SESSION_TTL_MS) / 1000);
      const signed = `${ref}|${expires}|${sha256(key)}`;
      const cookie = `v1.${ref}.${expires}.${mac('console-session', signed)}`;
      return { cookie, session: sessionOf(cookie, principal, expires * 1000) };
    },

    /** The session a cookie stands for at `now`, or undefined (forged, expired, key revoked). */
    async check(cookie: string | undefined, now: number): Promise<ConsoleSession | undefined> {
      const shape = cookie === undefined ? null : COOKIE_SHAPE.exec(cookie);
      if (!shape || cookie === undefined) return undefined;
      const [, ref, expiresText, signature] = shape as unknown as [string, string, string, string];
      const expires = Number(expiresText);
      if (expires * 1000 <= now) return undefined;
      const key = await keyOf(ref);
      if (!key) return undefined;
      if (!sameSecret(signature, mac('console-session', `${ref}|${expires}|${key.hash}`))) return undefined;
      return sessionOf(cookie, key.principal, expires * 1000);
    },

    /** Whether a form's token is this session's. */
    csrfMatches(session: ConsoleSession, token: unknown): boolean {
      return typeof token === 'string' && sameSecret(token, session.csrf);
    },
  };
}

export type SessionService = ReturnType<typeof createSessionService>;
