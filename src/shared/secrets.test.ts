import { describe, expect, it } from 'vitest';
import { sameSecret } from './secrets.ts';

describe('sameSecret', () => {
  it('compares whatever the lengths', () => {
    expect(sameSecret('token-abc', 'token-abc')).toBe(true);
    expect(sameSecret('token-ab', 'token-abc')).toBe(false);
    expect(sameSecret('', 'token-abc')).toBe(false);
  });
});
