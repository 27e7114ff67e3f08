// Session metadata (core): what a session records of itself beside its values — when it
// was created, last authenticated and last seen, its user agent and (opted in) its client
// address — and the compact JSON the manager hands the store as `SessionRecord.meta`.
// Never the session id.

/**
 * What a session records of itself, as `SessionManager.listOwnerSessions` gives it.
 */
export interface SessionMetadata {
  /** When the session was created. */
  readonly createdAt: Date;
  /** When the session was last renewed (`renew()`, at log-in); `undefined` if never. */
  readonly authenticatedAt: Date | undefined;
  /**
   * When the session last came back with a request, to within the manager's
   * `idleTouchInterval` (it is written no more often, so reads stay cheap).
   */
  readonly lastSeen: Date | undefined;
  /** The `User-Agent` of the request that last wrote the session, cut to 256 characters. */
  readonly userAgent: string | undefined;
  /** The client address, when the manager's `clientAddress` option records it. */
  readonly clientAddress: string | undefined;
}

/**
 * @internal The metadata as numbers and strings, in the session and on the wire:
 * `c` created, `a` authenticated, `s` last seen (ms since the epoch), `u` user agent,
 * `i` client address, `g` the owner's generation when the cookie was sealed.
 */
export interface MetaFields {
  c: number;
  a?: number | undefined;
  s?: number | undefined;
  u?: string | undefined;
  i?: string | undefined;
  g?: number | undefined;
  /** When the id was last renewed by the manager's `renewalInterval` (ms since the epoch). */
  r?: number | undefined;
  /** The session's own persistence choice (`Session.setPersistent`): 1 persistent, 0 not. */
  p?: 0 | 1 | undefined;
}

/** The longest user agent or client address kept. */
export const MAX_META_TEXT = 256;

function time(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value.slice(0, MAX_META_TEXT) : undefined;
}

/**
 * @internal Reads metadata text a store gave back; anything malformed reads as none.
 *
 * @param meta - The text, or `undefined`.
 * @returns The fields, or `undefined`.
 */
export function decodeMeta(meta: string | undefined): MetaFields | undefined {
  if (meta === undefined) {
    return undefined;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(meta);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) {
    return undefined;
  }
  const fields = parsed as Record<string, unknown>;
  const created = time(fields.c);
  if (created === undefined) {
    return undefined;
  }
  return { c: created, a: time(fields.a), s: time(fields.s), u: text(fields.u), i: text(fields.i), g: time(fields.g), r: time(fields.r), p: fields.p === 0 || fields.p === 1 ? fields.p : undefined };
}

/**
 * @internal Writes the fields as the compact JSON the stores keep (fields left
 * undefined are left out).
 *
 * @param fields - The fields.
 * @returns The text.
 */
export function encodeMeta(fields: MetaFields): string {
  return JSON.stringify(fields);
}

/**
 * @internal The public form of the fields.
 *
 * @param fields - The fields.
 * @returns The metadata, with dates.
 */
export function metadataOf(fields: MetaFields): SessionMetadata {
  const date = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms));
  return {
    createdAt: new Date(fields.c),
    authenticatedAt: date(fields.a),
    lastSeen: date(fields.s),
    userAgent: fields.u,
    clientAddress: fields.i,
  };
}

/**
 * One session of an owner, as `SessionManager.listOwnerSessions` gives it: its metadata,
 * its handle, and whether it is the caller's own.
 */
export interface OwnerSession extends SessionMetadata {
  /**
   * The session's public handle (the SHA-256 of its id): pass it to
   * `destroySessionByHandle`. It is not the id and does not work as a cookie.
   */
  readonly handle: string;
  /** Whether this is the session of the request that asked (the context given). */
  readonly current: boolean;
  /** When the session ends unless activity extends it. */
  readonly expiresAt: Date;
  /** The session's absolute end. */
  readonly deadline: Date;
}
