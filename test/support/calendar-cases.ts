// What the calendar property tests (src/planning/planner.calendar.test.ts and
// planner.holidays.test.ts) draw their cases from: zones on both sides of the date line and
// around DST changes, the weekdays, the channel sets, and a sending window.
import fc from 'fast-check';
import type { Channel } from '../../src/shared/vocabulary.ts';

/** Kiritimati at UTC+14, Auckland, St John's at −3:30, Apia (skipped a whole day in 2011),
 *  Paris and New York with their DST, Lord Howe with its half-hour DST. */
export const CALENDAR_ZONES = [
  'Pacific/Kiritimati',
  'Pacific/Auckland',
  'America/St_Johns',
  'Pacific/Apia',
  'Europe/Paris',
  'America/New_York',
  'Australia/Lord_Howe',
];

/** `window.days` names, Monday first. */
export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

export const CHANNEL_SETS: Channel[][] = [['whatsapp'], ['email'], ['whatsapp', 'email']];

/** A window's [start, end] in local minutes of the day, start <= end. */
export const windowArb = fc
  .tuple(fc.integer({ min: 0, max: 1439 }), fc.integer({ min: 0, max: 1439 }))
  .map(([a, b]) => [Math.min(a, b), Math.max(a, b)] as const);
