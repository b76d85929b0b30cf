import { describe, expect, it } from 'vitest';
import { InvalidInput, NotFound, StateConflict } from '../shared/errors.ts';
import { problemFor } from './problems.ts';

describe('problemFor', () => {
  it('maps invalid input to 422 with each field and its rule, in the CLI words', () => {
    const doc = problemFor(
      new InvalidInput('Campaign file x is invalid (1 problem)', [
        { path: 'steps[0].before', rule: 'an ISO 8601 duration', value: 'soon' },
      ]),
    );
    expect(doc).toMatchObject({
      status: 422,
      title: 'Invalid input',
      detail: 'Campaign file x is invalid (1 problem)',
      errors: [{ path: 'steps[0].before', message: 'an ISO 8601 duration' }],
    });
  });

  it('maps an unknown id to 404 and a state conflict to 409 with the state and what is allowed', () => {
    expect(problemFor(new NotFound('campaign', 'nope'))).toMatchObject({
      status: 404,
      detail: 'unknown campaign "nope"',
    });
    const conflict = new StateConflict(
      { resource: 'campaign', id: 'a', action: 'pause', state: 'draft', allowed: ['running'] },
      'campaign "a" cannot be paused: it is draft',
    );
    expect(problemFor(conflict)).toMatchObject({ status: 409, state: 'draft', allowed: ['running'] });
  });

  it('keeps Fastify client errors and leaves server faults to the caller', () => {
    const tooLarge = Object.assign(new Error('Request body is too large'), { statusCode: 413 });
    expect(problemFor(tooLarge)).toMatchObject({
      status: 413,
      type: 'https://lastcall.dev/problems/payload-too-large',
    });
    expect(problemFor(new Error('connection refused'))).toBeUndefined();
  });
});
