// The DynamoDB store's item format (kit-session/dynamodb): attribute names, how a session
// and an owner item are written and read, and the condition and update expressions, in one
// place, as the Redis store keeps its scripts in scripts.ts.
//
// One table, one partition key `pk` (a string), no sort key, no index. Two kinds of item:
//
//   session item   pk = the session's handle (SHA-256 of the id, base64url, 43 characters)
//     v     M   the values: one entry per value, its name behind a `_` (a map key may not be
//               empty), its JSON text (S) as JSON.stringify wrote it
//     xp    N   expireTime (ms since the epoch)        dl   N   deadline (ms)
//     ttl   N   seconds since the epoch at which DynamoDB's TTL may delete the item
//     own   S   the owner item's key, when the session has an owner
//     meta  S   the manager's metadata text             wt   N   when the store last wrote it
//     succ  S   retired: the successor's handle        ge   N   retired: the end of its grace
//     so    S   retired: the successor's owner item key
//     rev   N   moved by every patch: the compare-and-set of a patch too large for one
//               expression (DynamoDB's 4 KB limit), which reads, merges and puts
//     gone  BOOL  a tombstone: the session was ended; no save writes over it (its TTL: a day)
//
//   owner item     pk = 'o.' + SHA-256 of the owner (base64url); the owner's text is never kept
//     ver   N   its version, moved by every change (compare-and-set of the bound)
//     h<handle>  M  one per session filed under the owner: { w: N when filed, p?: S the
//                   handle it was renewed from }
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { sessionKey } from '../policy.js';

/** An item as the low-level client gives and takes it. */
export type Item = Record<string, AttributeValue>;

/** The partition key's attribute name. */
export const PK = 'pk';
/** How long a tombstone stays before DynamoDB's TTL may delete it, in seconds. */
export const TOMBSTONE_SECONDS = 86_400;

/** The key of an owner's item: never the owner's text. */
export function ownerItemKey(owner: string): string {
  return `o.${sessionKey(owner)}`;
}

/** The attribute of an owner item that files one session. */
export function entryName(handle: string): string {
  return `h${handle}`;
}

/** A session item as the store reads it. */
export interface SessionItem {
  readonly values: Record<string, AttributeValue> | undefined;
  readonly expireTime: number;
  readonly deadline: number;
  readonly owner: string | undefined;
  readonly meta: string | undefined;
  readonly written: number;
  readonly successor: string | undefined;
  readonly graceEnd: number;
  readonly successorOwner: string | undefined;
  readonly gone: boolean;
}

/** One session filed under an owner. */
export interface OwnerEntry {
  readonly handle: string;
  /** When it was filed (the store's clock). */
  readonly filed: number;
  /** The handle it was renewed from, when filed by a renewal. */
  readonly predecessor: string | undefined;
}

/** An owner item as the store reads it: its version and entries. */
export interface OwnerItem {
  readonly version: number;
  readonly entries: readonly OwnerEntry[];
}

const n = (value: number): AttributeValue => ({ N: String(value) });
const s = (value: string): AttributeValue => ({ S: value });
const num = (value: AttributeValue | undefined): number => (value?.N === undefined ? Number.NaN : Number(value.N));
const str = (value: AttributeValue | undefined): string | undefined => value?.S;

/** The TTL attribute's value: whole seconds, at or after `ms`. */
export function ttlSeconds(ms: number): number {
  return Math.max(Math.ceil(ms / 1000), 0);
}

/** The values of a record, as the item's `v` map. */
export function valuesMap(values: object): Record<string, AttributeValue> {
  const map: Record<string, AttributeValue> = {};
  for (const [key, value] of Object.entries(JSON.parse(JSON.stringify(values)) as Record<string, unknown>)) {
    map[`_${key}`] = s(JSON.stringify(value));
  }
  return map;
}

/**
 * The values back from the item's `v` map, through JSON.parse of one text, so that a value
 * named `__proto__` stays an own key as JSON.parse makes it. `undefined` when a value is
 * not JSON (an item written by something else).
 */
export function valuesOf(map: Record<string, AttributeValue> | undefined): Record<string, unknown> | undefined {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(map ?? {})) {
    if (!key.startsWith('_') || value.S === undefined) {
      return undefined;
    }
    parts.push(`${JSON.stringify(key.slice(1))}:${value.S}`);
  }
  try {
    const values = JSON.parse(`{${parts.join(',')}}`) as unknown;
    return typeof values === 'object' && values !== null && !Array.isArray(values) ? (values as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** A whole session item, for a `PutItem`. */
export function sessionItem(
  handle: string,
  record: { readonly values: object; readonly expireTime: number; readonly deadline: number; readonly meta?: string | undefined },
  owner: string | undefined,
  now: number,
): Item {
  const item: Item = {
    [PK]: s(handle),
    v: { M: valuesMap(record.values) },
    xp: n(record.expireTime),
    dl: n(record.deadline),
    ttl: n(ttlSeconds(Math.min(record.expireTime, record.deadline))),
    wt: n(now),
  };
  if (owner !== undefined) {
    item.own = s(owner);
  }
  if (record.meta !== undefined) {
    item.meta = s(record.meta);
  }
  return item;
}

/** A tombstone: what an ended session's item becomes. */
export function tombstone(handle: string, now: number): Item {
  return { [PK]: s(handle), gone: { BOOL: true }, ttl: n(ttlSeconds(now) + TOMBSTONE_SECONDS) };
}

/** Reads a session item (or a tombstone). */
export function readSession(item: Item | undefined): SessionItem | undefined {
  if (item === undefined) {
    return undefined;
  }
  return {
    values: item.v?.M,
    expireTime: num(item.xp),
    deadline: num(item.dl),
    owner: str(item.own),
    meta: str(item.meta),
    written: num(item.wt),
    successor: str(item.succ),
    graceEnd: num(item.ge),
    successorOwner: str(item.so),
    gone: item.gone?.BOOL === true,
  };
}

/** Reads an owner item: version 0 and no entries when there is none. */
export function readOwner(item: Item | undefined): OwnerItem {
  if (item === undefined) {
    return { version: 0, entries: [] };
  }
  const entries: OwnerEntry[] = [];
  for (const [name, value] of Object.entries(item)) {
    if (name.startsWith('h') && value.M !== undefined) {
      entries.push({ handle: name.slice(1), filed: num(value.M.w), predecessor: str(value.M.p) });
    }
  }
  return { version: Number.isFinite(num(item.ver)) ? num(item.ver) : 0, entries };
}

/** An owner entry's value. */
export function entryValue(now: number, predecessor?: string): AttributeValue {
  return { M: { w: n(now), ...(predecessor === undefined ? {} : { p: s(predecessor) }) } };
}

/** Whether a read session item is a live session of its own (not ended, not retired). */
export function isLiveOwn(item: SessionItem | undefined, now: number): item is SessionItem {
  return item !== undefined && !item.gone && item.successor === undefined && item.expireTime > now && item.deadline > now;
}

/** The condition of every write into a session: live, of its own, not a tombstone. */
export const LIVE_CONDITION = 'attribute_not_exists(#gone) AND attribute_not_exists(#succ) AND #xp > :now AND #dl > :now';
/** The names {@link LIVE_CONDITION} uses. */
export const LIVE_NAMES = { '#gone': 'gone', '#succ': 'succ', '#xp': 'xp', '#dl': 'dl' } as const;

/**
 * A patch as one `UpdateItem`: each value set is its own map entry (`SET v.#k = :k`), each
 * unset one removed, the expiry moved, under {@link LIVE_CONDITION}. `owner`: a key to file
 * it under, `null` to drop the owner, `undefined` to keep it.
 */
export function patchUpdate(
  patch: { readonly set: object; readonly unset: readonly string[]; readonly expireTime: number; readonly deadline: number; readonly meta?: string | undefined },
  owner: string | null | undefined,
  now: number,
): { UpdateExpression: string; ExpressionAttributeNames: Record<string, string>; ExpressionAttributeValues: Record<string, AttributeValue> } {
  const names: Record<string, string> = { ...LIVE_NAMES, '#ttl': 'ttl', '#wt': 'wt', '#rev': 'rev' };
  const values: Record<string, AttributeValue> = {
    ':one': n(1),
    ':now': n(now),
    ':xp': n(patch.expireTime),
    ':dl': n(patch.deadline),
    ':ttl': n(ttlSeconds(Math.min(patch.expireTime, patch.deadline))),
  };
  const sets = ['#xp = :xp', '#dl = :dl', '#ttl = :ttl', '#wt = :now'];
  const removes: string[] = [];
  const changes = JSON.parse(JSON.stringify(patch.set)) as Record<string, unknown>;
  const unset = new Set(patch.unset);
  let i = 0;
  for (const [key, value] of Object.entries(changes)) {
    if (unset.has(key)) {
      continue;
    }
    names[`#k${i}`] = `_${key}`;
    values[`:k${i}`] = s(JSON.stringify(value));
    sets.push(`#v.#k${i} = :k${i}`);
    i++;
  }
  for (const key of unset) {
    names[`#k${i}`] = `_${key}`;
    removes.push(`#v.#k${i}`);
    i++;
  }
  if (i > 0) {
    names['#v'] = 'v';
  }
  if (patch.meta !== undefined) {
    names['#meta'] = 'meta';
    values[':meta'] = s(patch.meta);
    sets.push('#meta = :meta');
  }
  if (owner !== undefined) {
    names['#own'] = 'own';
    if (owner === null) {
      removes.push('#own');
    } else {
      values[':own'] = s(owner);
      sets.push('#own = :own');
    }
  }
  return {
    UpdateExpression: `SET ${sets.join(', ')}${removes.length > 0 ? ` REMOVE ${removes.join(', ')}` : ''} ADD #rev :one`,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}

export { n as numberValue, s as stringValue };

/** DynamoDB's longest expression, in bytes. */
export const MAX_EXPRESSION = 4096;

/**
 * The item a patch makes of the item read, for the compare-and-set of a patch too large
 * for one expression: the values merged (set, then unset), the expiry, metadata and owner
 * as the patch says, `rev` moved on.
 */
export function patchedItem(
  read: Item,
  patch: { readonly set: object; readonly unset: readonly string[]; readonly expireTime: number; readonly deadline: number; readonly meta?: string | undefined },
  owner: string | null | undefined,
  now: number,
): Item {
  const values: Record<string, AttributeValue> = { ...(read.v?.M ?? {}), ...valuesMap(patch.set) };
  for (const key of patch.unset) {
    delete values[`_${key}`];
  }
  const item: Item = {
    ...read,
    v: { M: values },
    xp: n(patch.expireTime),
    dl: n(patch.deadline),
    ttl: n(ttlSeconds(Math.min(patch.expireTime, patch.deadline))),
    wt: n(now),
    rev: n((read.rev?.N === undefined ? 0 : Number(read.rev.N)) + 1),
  };
  if (patch.meta !== undefined) {
    item.meta = s(patch.meta);
  }
  if (owner === null) {
    delete item.own;
  } else if (owner !== undefined) {
    item.own = s(owner);
  }
  return item;
}
