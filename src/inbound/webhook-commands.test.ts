import { describe, expect, it } from 'vitest';
import { commandOf, normaliseReply, replyLocale, replyText } from './webhook-commands.ts';

describe('normaliseReply', () => {
  it('trims, uppercases, strips accents, punctuation and emoji', () => {
    expect(normaliseReply('  ArrÊt ! ')).toBe('ARRET');
    expect(normaliseReply('Fait ✅')).toBe('FAIT');
    expect(normaliseReply('désabonner.')).toBe('DESABONNER');
    expect(normaliseReply('Exporté 👍👍')).toBe('EXPORTE');
    expect(normaliseReply("don't  stop")).toBe('DON T STOP');
  });
});

describe('commandOf', () => {
  it.each([
    ['STOP', 'stop'],
    ['stop.', 'stop'],
    ['ARRET', 'stop'],
    ['Arrêt', 'stop'],
    ['UNSUBSCRIBE', 'stop'],
    ['DESABONNER', 'stop'],
    ['Désabonner', 'stop'],
    ['start', 'start'],
    ['FAIT', 'done'],
    ['Fait ✅', 'done'],
    ['done!', 'done'],
    ['EXPORTE', 'done'],
    ['exporté', 'done'],
  ])('%s → %s', (text, command) => {
    expect(commandOf([text])).toBe(command);
  });

  it('needs the whole message to be the keyword', () => {
    expect(commandOf(['please do not stop'])).toBeUndefined();
    expect(commandOf(['STOPPER'])).toBeUndefined();
    expect(commandOf(['Bonjour'])).toBeUndefined();
    expect(commandOf([])).toBeUndefined();
  });

  it('looks at a button’s text, then its payload', () => {
    expect(commandOf(['Arrêter les promotions', 'STOP'])).toBe('stop');
  });
});

describe('replies', () => {
  it('answers in French or English, English for anything else', () => {
    expect(replyText('stop', 'fr')).toMatch(/ne recevrez plus/);
    expect(replyText('stop', 'en')).toMatch(/no longer/);
    expect(replyText('done', 'fr-CA')).toMatch(/Merci/);
    expect(replyLocale('de')).toBe('en');
    expect(replyLocale(undefined)).toBe('en');
  });
});
