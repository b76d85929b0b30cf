// What a request log line may say: method and path, with link tokens cut to a short prefix
// and query strings reduced to `lang`. No IP, no user agent, no body: they are personal data.
import type { FastifyRequest } from 'fastify';

const TOKEN_PATH = /^\/(confirm|unsubscribe|done)\/([^/?#]+)/;

export function safeUrl(url: string): string {
  const [path = '', query] = url.split('?', 2);
  const shortPath = path.replace(TOKEN_PATH, (_all, action: string, token: string) =>
    token.length > 8 ? `/${action}/${token.slice(0, 8)}…` : `/${action}/${token}`,
  );
  if (query === undefined) return shortPath;
  const lang = new URLSearchParams(query).get('lang');
  return lang !== null && /^[A-Za-z-]{1,20}$/.test(lang) ? `${shortPath}?lang=${lang}` : `${shortPath}?…`;
}

export function requestSerializer(req: FastifyRequest): Record<string, unknown> {
  return { method: req.method, url: safeUrl(req.url) };
}
