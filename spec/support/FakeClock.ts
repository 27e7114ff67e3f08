import type { Clock } from 'kit-session';

/** A clock that moves only when told to. */
export class FakeClock implements Clock {
  #now: number;

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  /** Moves the clock forward. */
  advance(ms: number): void {
    this.#now += ms;
  }
}
