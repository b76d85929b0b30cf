// Schemas shared by the API's routes: the problem document every error answers with, keyset
// pages, and the security requirement. Each is registered with an id, so the OpenAPI document
// names it once under components.schemas.
import { z } from 'zod';

export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    state: z.string().optional(),
    allowed: z.array(z.string()).optional(),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details (application/problem+json)' });

const problemResponse = {
  description: 'RFC 9457 problem details',
  content: { 'application/problem+json': { schema: problemSchema } },
};

/** The problem answers a route may give (401 and 429 on every route), for its response schema. */
export function problems(...statuses: readonly number[]): Record<number, typeof problemResponse> {
  return Object.fromEntries([401, 429, ...statuses].map((s) => [s, problemResponse]));
}

export const pageQuery = z.object({
  cursor: z.string().min(1).max(200).optional().describe('the nextCursor of the previous page'),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

export function page<T extends z.ZodType>(item: T) {
  return z.object({
    items: z.array(item),
    nextCursor: z.string().nullable().describe('null on the last page'),
  });
}

export const idempotencyHeaders = z.object({
  'idempotency-key': z
    .string()
    .min(1)
    .max(200)
    .optional()
    .describe('replayed within 24 hours: the first answer again, nothing done twice'),
});
