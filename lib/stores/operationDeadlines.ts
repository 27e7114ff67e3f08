// The deadlines of the server-side stores' operations (internal): one timer for every
// operation in flight with the same timeout, instead of a timer and a Promise.race per
// operation. Measured on the counter of bench/redis.bench.ts (RedisSessionStore, one
// request in flight) by instructions per request of the server under callgrind.
//
// Operations that share a timeout end in the order they start (a monotonic clock plus
// the same timeout), so each timeout keeps a queue in start order: adding is an append,
// settling marks the entry and drops settled entries from the head, and the one timer is
// armed for the head's deadline only. Under steady load the timer runs about once per
// `timeout` rather than being set and cleared on every operation. Settled entries behind
// an unsettled head wait to be dropped: at most the operations started within one
// `timeout`, each a small object holding nothing else.

/** The longest delay `setTimeout` takes; a longer one would fire at once. */
const MAX_DELAY = 2_147_483_647;

/**
 * One operation being watched. `expire` is cleared when the operation settles, so an
 * entry left in the queue holds nothing and only waits to be dropped.
 *
 * @internal
 */
export interface Deadline {
  /** When the operation counts as failed, on the `performance.now()` clock. */
  readonly at: number;
  /** Called once if the deadline passes first; `undefined` once settled. */
  expire: (() => void) | undefined;
  /** The entry started next with the same timeout. */
  next: Deadline | undefined;
  /** The queue it waits in. */
  readonly queue: DeadlineQueue;
}

/** The operations in flight with one timeout, in start order, and their one timer. */
class DeadlineQueue {
  #head: Deadline | undefined;
  #tail: Deadline | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /**
   * The `setTimeout` the timer was set with. When it is no longer the global one (a test
   * switched between fake and real timers), the timer may never fire: set a new one.
   */
  #armedWith: typeof setTimeout | undefined;
  readonly #timeout: number;
  readonly #fire = (): void => this.#expire();

  constructor(timeout: number) {
    this.#timeout = timeout;
  }

  add(expire: () => void): Deadline {
    const entry: Deadline = { at: performance.now() + this.#timeout, expire, next: undefined, queue: this };
    if (this.#tail === undefined) {
      this.#head = entry;
    } else {
      this.#tail.next = entry;
    }
    this.#tail = entry;
    if (this.#timer === undefined || this.#armedWith !== setTimeout) {
      // For the oldest operation's deadline, which may be nearer than this one's.
      this.#arm(Math.ceil(this.#head!.at - entry.at + this.#timeout));
    }
    return entry;
  }

  settle(): void {
    let head = this.#head;
    while (head !== undefined && head.expire === undefined) {
      head = head.next;
    }
    this.#head = head;
    if (head === undefined) {
      this.#tail = undefined;
    }
    // The timer stays as it is: when it fires on an empty queue it is not set again,
    // which costs less than clearing it here and setting it on the next operation.
  }

  #arm(delay: number): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
    }
    this.#armedWith = setTimeout;
    this.#timer = setTimeout(this.#fire, Math.min(Math.max(delay, 1), MAX_DELAY));
    this.#timer.unref?.();
  }

  #expire(): void {
    this.#timer = undefined;
    const now = performance.now();
    let head = this.#head;
    while (head !== undefined && (head.expire === undefined || head.at <= now)) {
      const expire = head.expire;
      head.expire = undefined;
      head = head.next;
      this.#head = head;
      expire?.();
    }
    if (head === undefined) {
      this.#tail = undefined;
      if (queues.get(this.#timeout) === this) {
        queues.delete(this.#timeout);
      }
    } else {
      this.#arm(Math.ceil(head.at - now));
    }
  }
}

/** One queue per timeout in use; a queue goes when its timer finds it empty. */
const queues = new Map<number, DeadlineQueue>();

/**
 * Calls `expire` once `timeout` milliseconds have passed, unless {@link settleDeadline}
 * is called with the entry first.
 *
 * @internal
 * @param timeout - Milliseconds from now.
 * @param expire - What to do when the time is up.
 * @returns The entry, for {@link settleDeadline}.
 */
export function watchDeadline(timeout: number, expire: () => void): Deadline {
  let queue = queues.get(timeout);
  if (queue === undefined) {
    queue = new DeadlineQueue(timeout);
    queues.set(timeout, queue);
  }
  return queue.add(expire);
}

/**
 * Stops watching an operation: its `expire` will not be called.
 *
 * @internal
 * @param entry - What {@link watchDeadline} returned.
 */
export function settleDeadline(entry: Deadline): void {
  entry.expire = undefined;
  entry.queue.settle();
}
