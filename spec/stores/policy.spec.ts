import { SessionStoreError } from '../../lib/core/SessionError.js';
import { ExpiredCleanup, storeOperation } from '../../lib/stores/policy.js';

// Fake timers (they fake performance.now too): the deadlines are watched by one timer
// shared by the operations of a timeout, and these tests pin what each operation sees.

/** An operation that settles when the test says so. */
function pending<R>(): { work: () => Promise<R>; resolve: (value: R) => void; reject: (error: unknown) => void } {
  let resolve!: (value: R) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<R>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { work: () => promise, resolve, reject };
}

const keep = (error: unknown) => error;

/** What a promise has come to so far. */
function outcome<R>(promise: Promise<R>): { settled: boolean; value?: R; error?: unknown } {
  const state: { settled: boolean; value?: R; error?: unknown } = { settled: false };
  promise.then(
    (value) => Object.assign(state, { settled: true, value }),
    (error: unknown) => Object.assign(state, { settled: true, error }),
  );
  return state;
}

describe(storeOperation, () => {
  beforeEach(() => {
    jest.useFakeTimers();
  });

  afterEach(() => {
    jest.useRealTimers();
  });

  it('resolves to what the operation resolves to', async () => {
    expect(await storeOperation('test: load', 1_000, () => Promise.resolve(42), keep)).toBe(42);
  });

  it('when the operation rejects, rejects with SessionStoreError whose cause went through scrub', async () => {
    const failure = await storeOperation('test: load', 1_000, () => Promise.reject(new Error('boom')), () => 'scrubbed').catch(
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(SessionStoreError);
    expect((failure as SessionStoreError).code).toBe('ERR_SESSION_STORE');
    expect((failure as SessionStoreError).cause).toBe('scrubbed');
  });

  it('when the operation throws before it returns a promise, rejects with SessionStoreError', async () => {
    const work = (): Promise<never> => {
      throw new Error('boom');
    };
    await expect(async () => storeOperation('test: load', 1_000, work, keep)).rejects.toBeInstanceOf(SessionStoreError);
  });

  it('passes a SessionStoreError of the operation on as it is', async () => {
    const own = new SessionStoreError('inner');
    await expect(async () => storeOperation('test: load', 1_000, () => Promise.reject(own), keep)).rejects.toBe(own);
  });

  it('when the operation takes longer than timeout, rejects with SessionStoreError (cause TimeoutError), not before', async () => {
    const op = pending<number>();
    const state = outcome(storeOperation('test: load', 1_000, op.work, keep));
    await jest.advanceTimersByTimeAsync(999);
    expect(state.settled).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    expect(state.error).toBeInstanceOf(SessionStoreError);
    expect(((state.error as SessionStoreError).cause as Error).name).toBe('TimeoutError');
    op.resolve(1); // an answer after the timeout changes nothing
    await jest.advanceTimersByTimeAsync(0);
    expect(state.value).toBeUndefined();
  });

  it('times each of several overlapping operations from its own start, settled ones left alone', async () => {
    const first = pending<number>();
    const second = pending<number>();
    const third = pending<number>();
    const a = outcome(storeOperation('test: a', 1_000, first.work, keep));
    await jest.advanceTimersByTimeAsync(300);
    const b = outcome(storeOperation('test: b', 1_000, second.work, keep));
    await jest.advanceTimersByTimeAsync(300);
    const c = outcome(storeOperation('test: c', 1_000, third.work, keep));
    first.resolve(1);
    await jest.advanceTimersByTimeAsync(0);
    expect(a.value).toBe(1);
    // 1,000 ms after the first started: only the first's deadline has come, and it answered.
    await jest.advanceTimersByTimeAsync(400);
    expect([a.error, b.settled, c.settled]).toEqual([undefined, false, false]);
    await jest.advanceTimersByTimeAsync(300);
    expect(b.error).toBeInstanceOf(SessionStoreError);
    expect(c.settled).toBe(false);
    await jest.advanceTimersByTimeAsync(299);
    expect(c.settled).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    expect(c.error).toBeInstanceOf(SessionStoreError);
  });

  it('keeps operations with different timeouts apart', async () => {
    const long = pending<number>();
    const short = pending<number>();
    const l = outcome(storeOperation('test: long', 2_000, long.work, keep));
    const s = outcome(storeOperation('test: short', 500, short.work, keep));
    await jest.advanceTimersByTimeAsync(500);
    expect([l.settled, s.error instanceof SessionStoreError]).toEqual([false, true]);
    await jest.advanceTimersByTimeAsync(1_500);
    expect(l.error).toBeInstanceOf(SessionStoreError);
  });

  it('times out an operation that starts after an idle spell in which the timer ran out', async () => {
    await storeOperation('test: quick', 1_000, () => Promise.resolve(1), keep);
    await jest.advanceTimersByTimeAsync(5_000);
    const op = pending<number>();
    const state = outcome(storeOperation('test: later', 1_000, op.work, keep));
    await jest.advanceTimersByTimeAsync(999);
    expect(state.settled).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    expect(state.error).toBeInstanceOf(SessionStoreError);
  });

  it('a newer operation that answered stays answered when an older one times out', async () => {
    const older = pending<number>();
    const newer = pending<number>();
    const o = outcome(storeOperation('test: older', 1_000, older.work, keep));
    await jest.advanceTimersByTimeAsync(100);
    const n = outcome(storeOperation('test: newer', 1_000, newer.work, keep));
    newer.resolve(2);
    await jest.advanceTimersByTimeAsync(900);
    expect(o.error).toBeInstanceOf(SessionStoreError);
    expect(n).toEqual({ settled: true, value: 2 });
    await jest.advanceTimersByTimeAsync(1_000);
    expect(n).toEqual({ settled: true, value: 2 });
  });

  it('leaves no timer behind once every operation has settled and its timeout has passed', async () => {
    const ops = Array.from({ length: 5 }, () => pending<number>());
    const states = ops.map((op, i) => outcome(storeOperation(`test: ${i}`, 1_000, op.work, keep)));
    ops.forEach((op, i) => op.resolve(i));
    await jest.advanceTimersByTimeAsync(0);
    expect(states.map((state) => state.value)).toEqual([0, 1, 2, 3, 4]);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(jest.getTimerCount()).toBe(0);
  });
});

describe('ExpiredCleanup', () => {
  const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it('sweeps on its timer, never two at once, until stopped', async () => {
    let running = 0;
    let most = 0;
    let sweeps = 0;
    const cleanup = new ExpiredCleanup({ cleanupInterval: 5 }, async () => {
      running += 1;
      most = Math.max(most, running);
      sweeps += 1;
      await wait(30);
      running -= 1;
    });
    await wait(100);
    cleanup.stop();
    const stoppedAt = sweeps;
    await wait(60);
    expect(sweeps).toBeGreaterThanOrEqual(2);
    expect(most).toBe(1);
    expect(sweeps).toBe(stoppedAt);
  });

  it('tells a failed sweep to onCleanupError, and a throwing callback becomes no unhandled rejection', async () => {
    const told: unknown[] = [];
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const failure = new SessionStoreError('sweep failed');
      const first = new ExpiredCleanup({ cleanupInterval: 5, onCleanupError: (error) => told.push(error) }, () => {
        throw failure;
      });
      const second = new ExpiredCleanup(
        {
          cleanupInterval: 5,
          onCleanupError: () => {
            throw new Error('the callback failed');
          },
        },
        () => Promise.reject(failure),
      );
      await wait(40);
      first.stop();
      second.stop();
      await wait(10);
      expect(told.length).toBeGreaterThanOrEqual(1);
      expect(told.every((error) => error === failure)).toBe(true);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('refuses an invalid cleanupInterval or onCleanupError, naming it, and starts no timer without an interval', () => {
    expect(() => new ExpiredCleanup({ cleanupInterval: 0 }, () => undefined)).toThrow(/cleanupInterval/);
    expect(() => new ExpiredCleanup({ cleanupInterval: 2 ** 31 }, () => undefined)).toThrow(/cleanupInterval/);
    expect(() => new ExpiredCleanup({ onCleanupError: 'log' as never }, () => undefined)).toThrow(/onCleanupError/);
    let sweeps = 0;
    new ExpiredCleanup({}, () => (sweeps += 1)).stop();
    expect(sweeps).toBe(0);
  });
});
