// The memory store's entry (internal to lib/stores/MemorySessionStore.ts), laid out for
// its footprint. Measured with `node dist-bench/bench/store.bench.js` (the memory
// store's heap bytes per session: 100,000 sessions of 200-byte values, heapUsed after
// two full collections; bench/README.md, "Targets"), an object literal of six fields
// (json, expireTime, deadline, owner, meta, written) holding `JSON.stringify`'s
// string as it came cost 460 bytes a session; this layout costs about 320:
//
// - V8's JSON.stringify builds a string of 200 bytes as a tree of three parts joined by
//   two cons strings (about 300 bytes in all). `flat` makes it one sequential string
//   (216 bytes), and the collector drops the emptied cons string that pointed at it.
// - The fields most sessions leave undefined (an owner, metadata, and the write time,
//   which only the owner bound reads) live in a second class, used only when there is
//   an owner or metadata to keep: a plain session is three fields.

/**
 * One session, kept under the hash of its id.
 *
 * @internal
 */
export class Entry {
  /** The values as JSON, so later changes to the caller's objects do not leak in. */
  readonly json: string;
  readonly expireTime: number;
  readonly deadline: number;

  constructor(json: string, expireTime: number, deadline: number) {
    this.json = json;
    this.expireTime = expireTime;
    this.deadline = deadline;
  }

  /** The owner, if any. */
  get owner(): string | undefined {
    return undefined;
  }

  /** The metadata text, as the manager wrote it. */
  get meta(): string | undefined {
    return undefined;
  }

  /** When the store last wrote the entry, by its clock: the owner bound evicts the oldest. */
  get written(): number {
    return 0;
  }

  /** The key of the session this one was renewed into, when it is retired. */
  get successor(): string | undefined {
    return undefined;
  }
}

/**
 * A session with an owner or metadata: the fields a plain one does without.
 *
 * @internal
 */
class DetailedEntry extends Entry {
  readonly #owner: string | undefined;
  readonly #meta: string | undefined;
  readonly #written: number;

  constructor(json: string, expireTime: number, deadline: number, owner: string | undefined, meta: string | undefined, written: number) {
    super(json, expireTime, deadline);
    this.#owner = owner;
    this.#meta = meta;
    this.#written = written;
  }

  override get owner(): string | undefined {
    return this.#owner;
  }

  override get meta(): string | undefined {
    return this.#meta;
  }

  override get written(): number {
    return this.#written;
  }
}

/**
 * @internal A retired entry: a session renewed into another, kept read-only for the renewal's
 * grace window. It keeps its owner (to end its successor by its handle) but is filed
 * in no owner index.
 */
class RetiredEntry extends Entry {
  readonly #owner: string | undefined;
  readonly #meta: string | undefined;
  readonly #successor: string;

  constructor(entry: Entry, expireTime: number, successor: string) {
    super(entry.json, expireTime, entry.deadline);
    this.#owner = entry.owner;
    this.#meta = entry.meta;
    this.#successor = successor;
  }

  override get owner(): string | undefined {
    return this.#owner;
  }

  override get meta(): string | undefined {
    return this.#meta;
  }

  override get successor(): string {
    return this.#successor;
  }
}

/**
 * The entry of a session renewed into another, served read-only until `expireTime`.
 *
 * @internal
 * @param entry - The session's entry as it was.
 * @param expireTime - The end of its grace window.
 * @param successor - The key of its successor.
 * @returns The retired entry.
 */
export function retireEntry(entry: Entry, expireTime: number, successor: string): Entry {
  return new RetiredEntry(entry, Math.min(entry.expireTime, expireTime), successor);
}

/**
 * Makes the entry of a session: the plain form unless there is an owner or metadata.
 *
 * @internal
 * @param json - The values as JSON, as `JSON.stringify` gave them.
 * @param expireTime - When the session expires.
 * @param deadline - The session's absolute end.
 * @param owner - The owner, if any.
 * @param meta - The metadata text, if any.
 * @param written - Now, by the store's clock.
 * @returns The entry.
 */
export function makeEntry(
  json: string,
  expireTime: number,
  deadline: number,
  owner: string | undefined,
  meta: string | undefined,
  written: number,
): Entry {
  const text = flat(json);
  return owner === undefined && meta === undefined
    ? new Entry(text, expireTime, deadline)
    : new DetailedEntry(text, expireTime, deadline, owner, meta, written);
}

/**
 * The same string, made one sequential string in V8: converting a string to a number
 * flattens it in place (the well-known `flatstr` trick), and the collector then drops
 * the cons string that pointed at the flat copy. Does nothing to the text elsewhere.
 */
function flat(text: string): string {
  // eslint-disable-next-line @typescript-eslint/no-unused-expressions
  Number(text);
  return text;
}
