// How the API's routes validate with their zod schemas (fastify-type-provider-zod generates the
// OpenAPI document from the same schemas). Two differences from the library's own compiler:
// - a refusal is an InvalidInput whose problems come from `zodProblems`: the same paths
//   ("steps[1].before") and words as the CLI prints for a file;
// - a body passes on as it was sent: the service it goes to parses it (the one parser of a
//   campaign file or a subscriber row); params and querystrings pass on coerced. A streamed
//   body is not read here at all.
import { Readable } from 'node:stream';
import type { FastifySchemaCompiler } from 'fastify';
import type { z } from 'zod';
import { zodProblems } from '../../campaigns/input-problems.ts';
import { InvalidInput } from '../../shared/errors.ts';

const PARTS: Record<string, string> = {
  body: 'body',
  querystring: 'query string',
  params: 'path',
  headers: 'headers',
};

export const apiValidatorCompiler: FastifySchemaCompiler<z.ZodType> =
  ({ schema, httpPart }) =>
  (data) => {
    // A streamed body (the CSV import) is read by its service as it arrives.
    if (data instanceof Readable) return { value: data };
    const result = schema.safeParse(data);
    if (result.success) return { value: httpPart === 'body' || httpPart === 'headers' ? data : result.data };
    const part = PARTS[httpPart ?? 'body'] ?? httpPart;
    return {
      error: new InvalidInput(`the request ${part} is invalid`, zodProblems(schema, result.error, data)),
    };
  };
