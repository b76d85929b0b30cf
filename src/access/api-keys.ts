// API keys (docs/api.md, "Authentication"): made by `lastcall api-keys create`, shown once, stored
// as a hash. A key reads `lck_<keyId>_<secret>`: the key id finds the row, the SHA-256 of the whole
// key is compared in constant time (sameSecret), so a wrong key and a wrong secret take the same
// path. ADMIN_TOKEN is a key with every right; its name is "admin".
import { createHash, randomBytes } from 'node:crypto';
import type { ServeConfig } from '../config/config.ts';
import { InvalidInput, NotFound } from '../shared/errors.ts';
import { sameSecret } from '../shared/secrets.ts';
import type { Sql } from '../store/pool.ts';

export const SCOPES = ['read', 'write'] as const;
export type Scope = (typeof SCOPES)[number];

/** Who is calling and what they may do; `name` scopes idempotency keys and rate limits. */
export interface Principal {
  readonly name: string;
  readonly scope: Scope | 'admin';
}

export interface ApiKeyRow {
  readonly name: string;
  readonly scope: Scope;
  readonly createdAt: string;
  readonly lastUsedAt: string | null;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const KEY_SHAPE = /^lck_([A-Za-z0-9]{12})_([A-Za-z0-9_-]{43})$/;
export const ADMIN_PRINCIPAL: Principal = { name: 'admin', scope: 'admin' };

const digest = (key: string) => createHash('sha256').update(key).digest('hex');

export function mayWrite(principal: Principal): boolean {
  return principal.scope !== 'read';
}

export function createApiKeyService(sql: Sql) {
  return {
    /** A new key; the only time its text exists outside the caller's hands. */
    async create(
      name: string,
      scope: string,
      now: number,
    ): Promise<{ name: string; scope: Scope; key: string }> {
      const problems = [];
      if (!NAME.test(name) || name === ADMIN_PRINCIPAL.name)
        problems.push({
          path: 'name',
          value: JSON.stringify(name),
          rule: 'must be 1–63 letters, digits, dots, hyphens or underscores, and not "admin"',
        });
      if (!SCOPES.includes(scope as Scope))
        problems.push({ path: 'scope', value: JSON.stringify(scope), rule: 'must be read or write' });
      if (problems.length > 0) throw new InvalidInput('the API key cannot be made', problems);
      const keyId = randomBytes(9).toString('base64url').replace(/[-_]/g, 'x').slice(0, 12);
      const key = `lck_${keyId}_${randomBytes(32).toString('base64url')}`;
      const inserted = await sql.one(
        `INSERT INTO api_keys (name, scope, key_id, key_hash, created_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) WHERE revoked_at IS NULL DO NOTHING RETURNING id`,
        [name, scope, keyId, digest(key), new Date(now)],
      );
      if (!inserted)
        throw new InvalidInput('the API key cannot be made', [
          {
            path: 'name',
            value: JSON.stringify(name),
            rule: 'is already the name of a key in use (revoke it first)',
          },
        ]);
      return { name, scope: scope as Scope, key };
    },

    async list(): Promise<ApiKeyRow[]> {
      const rows = await sql.query<{
        name: string;
        scope: Scope;
        created_at: Date;
        last_used_at: Date | null;
      }>(`SELECT name, scope, created_at, last_used_at FROM api_keys WHERE revoked_at IS NULL ORDER BY name`);
      return rows.map((r) => ({
        name: r.name,
        scope: r.scope,
        createdAt: r.created_at.toISOString(),
        lastUsedAt: r.last_used_at?.toISOString() ?? null,
      }));
    },

    async revoke(name: string, now: number): Promise<{ name: string; revokedAt: string }> {
      const n = await sql.exec(`UPDATE api_keys SET revoked_at = $2 WHERE name = $1 AND revoked_at IS NULL`, [
        name,
        new Date(now),
      ]);
      if (n === 0) throw new NotFound('API key', name);
      return { name, revokedAt: new Date(now).toISOString() };
    },

    /** The principal a bearer token stands for, or undefined for no such (live) key. */
    async resolve(
      token: string,
      config: Pick<ServeConfig, 'adminToken'>,
      now: number,
    ): Promise<Principal | undefined> {
      if (sameSecret(token, config.adminToken)) return ADMIN_PRINCIPAL;
      const shape = KEY_SHAPE.exec(token);
      if (!shape) return undefined;
      const row = await sql.one<{ name: string; scope: Scope; key_hash: string }>(
        `SELECT name, scope, key_hash FROM api_keys WHERE key_id = $1 AND revoked_at IS NULL`,
        [shape[1]],
      );
      if (!row || !sameSecret(digest(token), row.key_hash)) return undefined;
      // At most one write a minute per key: last use is for operators, not an audit trail.
      await sql.exec(
        `UPDATE api_keys SET last_used_at = $2 WHERE key_id = $1
           AND (last_used_at IS NULL OR last_used_at < $2::timestamptz - interval '1 minute')`,
        [shape[1], new Date(now)],
      );
      return { name: row.name, scope: row.scope };
    },
  };
}

export type ApiKeyService = ReturnType<typeof createApiKeyService>;
