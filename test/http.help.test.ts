// GET /help, the page every reminder links to: French by default, English on request or from
// the browser, served as HTML under the strict CSP (no inline script or style). Its facts from
// a campaign (deadline, reminders, a deadline passed) are in http.campaign-pages.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './support/http.ts';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

describe('GET /help', () => {
  it('is French by default, with the Android and iPhone export steps and no fixed date', async () => {
    const res = await h.app.inject({ url: '/help' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('<html lang="fr">');
    expect(res.body).not.toContain('2026');
    expect(res.body).toContain('Sur Android\u202f: touchez ⋮');
    expect(res.body).toContain('Exporter la discussion');
    expect(res.body).toContain('Sur iPhone\u202f: touchez le nom du contact');
    expect(res.body).toContain('répondez STOP');
    expect(res.body).toContain('href="/help?lang=en"');
  });

  it('is English with ?lang=en, whatever the browser says', async () => {
    const res = await h.app.inject({ url: '/help?lang=en', headers: { 'accept-language': 'fr-FR' } });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('<html lang="en">');
    expect(res.body).toContain('ChatGPT and Copilot leave WhatsApp');
    expect(res.body).toContain('On Android: tap ⋮');
    expect(res.body).toContain('On iPhone: tap the contact’s name');
    expect(res.body).not.toContain('janvier');
  });

  it('follows Accept-Language when no ?lang= is given', async () => {
    const en = await h.app.inject({ url: '/help', headers: { 'accept-language': 'en-US,en;q=0.9' } });
    expect(en.body).toContain('<html lang="en">');
    expect(en.headers.vary).toMatch(/accept-language/i);
    const fr = await h.app.inject({ url: '/help?lang=xx', headers: { 'accept-language': 'de-DE' } });
    expect(fr.body).toContain('<html lang="fr">');
  });

  it('is HTML under the strict CSP, with no inline script or style', async () => {
    const res = await h.app.inject({ url: '/help' });
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(res.body).not.toMatch(/<script(?![^>]*\bsrc=)/);
    expect(res.body).not.toMatch(/<style|\sstyle=/);
  });
});
