// Fixed-width time buckets for the console's charts (sends per minute, plan per hour). UTC
// instants only: an hour bucket is the same real hour in every zone (the half-hour and
// 45-minute zones included), so a chart stacks zones without converting anything.
export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;

/** The start of the bucket of `width` ms holding `instant`. */
export function bucketStart(instant: number, width: number): number {
  return Math.floor(instant / width) * width;
}

/** Every bucket start from the one holding `from` to the one holding `to`, both included. */
export function bucketRange(from: number, to: number, width: number): number[] {
  const out: number[] = [];
  for (let at = bucketStart(from, width); at <= to; at += width) out.push(at);
  return out;
}
