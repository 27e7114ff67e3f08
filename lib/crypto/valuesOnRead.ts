// The values of a session loaded with `encryptValues` (EncryptingStoreDecorator), each
// opened on its first read rather than all at the load: a request pays one AES-GCM open
// per value it reads, not one per value the session holds, and a whole save under the
// same id and key seals again only the values that were read or set (the others keep
// the sealed text they were loaded with).
//
// Why: the AEAD calls per load and save, counted in
// spec/crypto/EncryptingStoreDecorator.counts.spec.ts, and the client's instructions per
// load + patch over Redis (bench/storeCount.ts `--case encrypt`, the store benchmark's
// `store-encrypt-get-patch`); the figures are in bench/README.md, "encryptValues, counted".
//
// The object is an ordinary object whose own properties start as accessors: reading one
// opens its sealed text and puts the value in its place as a data property; assigning
// one does the same with the new value; deleting one removes it. A value that does not
// open (tampered with, or moved from another session or name) is removed on its read
// and reads as absent: it is never given out.

/** What {@link OpenValue} gives for a sealed value that does not open. */
export const NOT_OPENED: unique symbol = Symbol('kit-session.notOpened');

/** Opens one sealed value, named `name`: its value, or {@link NOT_OPENED}. */
export type OpenValue = (name: string, sealed: string) => unknown;

/** A value not read since the load: its accessor and the sealed text it opens. */
interface Unread {
  readonly get: () => unknown;
  readonly sealed: string;
}

/** What a values object was loaded as. */
interface Loaded {
  /** The id its values are bound to. */
  readonly id: string;
  /** The binding (the decorator's values label) they were sealed under. */
  readonly binding: string;
  readonly unread: Map<string, Unread>;
}

/**
 * Where a values object keeps what it was loaded as: a non-enumerable symbol property
 * (not listed, spread, copied or serialised), not a WeakMap keyed by the object — a weak
 * map's entries keep their young keys through minor collections (see RequestSessions).
 */
const LOADED = Symbol('kit-session.loadedValues');

/** What `values` was loaded as, when it came from {@link valuesOpenedOnRead}. */
function loadedAs(values: object): Loaded | undefined {
  return (values as { [LOADED]?: Loaded })[LOADED];
}

/**
 * A values object whose values open on first read.
 *
 * @param id - The session id the values are bound to.
 * @param binding - What else binds them (the decorator's values label).
 * @param sealed - The sealed texts by name; only names listed in `names` are taken.
 * @param names - The names of the values to open on read.
 * @param opened - Values already opened (those sealed under an older key), as they go in.
 * @param open - Opens one value.
 * @returns The values.
 * @internal
 */
export function valuesOpenedOnRead<T>(
  id: string,
  binding: string,
  sealed: Readonly<Record<string, unknown>>,
  names: readonly string[],
  opened: readonly (readonly [string, unknown])[],
  open: OpenValue,
): Partial<T> {
  const values: Record<string, unknown> = {};
  const unread = new Map<string, Unread>();
  for (const name of names) {
    const text = sealed[name] as string;
    const get = (): unknown => {
      const value = open(name, text);
      if (value === NOT_OPENED) {
        delete values[name];
        return undefined;
      }
      Object.defineProperty(values, name, { value, writable: true, enumerable: true, configurable: true });
      return value;
    };
    const set = (value: unknown): void => {
      Object.defineProperty(values, name, { value, writable: true, enumerable: true, configurable: true });
    };
    Object.defineProperty(values, name, { get, set, enumerable: true, configurable: true });
    unread.set(name, { get, sealed: text });
  }
  for (const [name, value] of opened) {
    Object.defineProperty(values, name, { value, writable: true, enumerable: true, configurable: true });
  }
  Object.defineProperty(values, LOADED, { value: { id, binding, unread } satisfies Loaded });
  return values as Partial<T>;
}

/**
 * The sealed text a value was loaded with, when it is still that text: the values object
 * came from {@link valuesOpenedOnRead} for this id and binding, and the value has been
 * neither read nor set nor removed since.
 *
 * @param values - A session's values.
 * @param id - The id the save binds them to.
 * @param binding - The binding the save seals under.
 * @param name - The value's name.
 * @returns The sealed text, or `undefined`.
 * @internal
 */
export function unreadSealedText(values: object, id: string, binding: string, name: string): string | undefined {
  const loaded = loadedAs(values);
  if (loaded === undefined || loaded.id !== id || loaded.binding !== binding) {
    return undefined;
  }
  const entry = loaded.unread.get(name);
  return entry !== undefined && Object.getOwnPropertyDescriptor(values, name)?.get === entry.get ? entry.sealed : undefined;
}

/**
 * Whether a values object came from {@link valuesOpenedOnRead} for this id and binding.
 *
 * @internal
 */
export function loadedOnRead(values: object, id: string, binding: string): boolean {
  const loaded = loadedAs(values);
  return loaded !== undefined && loaded.id === id && loaded.binding === binding;
}
