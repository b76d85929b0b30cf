import { describe, expect, it } from 'vitest';
import { safeUrl } from './request-log.ts';

describe('safeUrl', () => {
  it('shortens link tokens and drops every query parameter but lang', () => {
    expect(safeUrl('/confirm/eyJhIjoiY29uZmlybSJ9.c2lnbmF0dXJl')).toBe('/confirm/eyJhIjoi…');
    expect(safeUrl('/unsubscribe/abcdefghijkl?lang=fr')).toBe('/unsubscribe/abcdefgh…?lang=fr');
    expect(safeUrl('/done/abc')).toBe('/done/abc');
    expect(safeUrl('/subscribe?email=someone@example.org')).toBe('/subscribe?…');
    expect(safeUrl('/subscribe?lang=<script>')).toBe('/subscribe?…');
    expect(safeUrl('/subscribe')).toBe('/subscribe');
  });
});
