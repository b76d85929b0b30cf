// Time is injected (docs/testing.md, "House rules for tests"): the tick, fan-out and send services
// take `now` from a Clock, so tests set the time and drive ticks themselves instead of sleeping.

export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that stands still until told to move: tests and benchmarks. */
export class ManualClock implements Clock {
  #now: number;

  constructor(start: number) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  set(instant: number): void {
    this.#now = instant;
  }

  advance(ms: number): number {
    this.#now += ms;
    return this.#now;
  }
}
