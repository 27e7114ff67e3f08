// Counts AES-GCM seals per key id in this process, and says once when a key nears the
// bound of random 96-bit IVs (NIST SP 800-38D: at most 2^32 seals under one key). The
// count is one integer increment per seal, shared by every sealer in the process that
// seals under the key id. A process cannot see other servers' seals: it warns at 2^30,
// a quarter of the bound, so that a fleet of a few servers hears of it in time
// (docs/security.md, "How many seals a key takes").
//
// XChaCha20-Poly1305's 192-bit random nonces have no bound a process can reach, so its
// seals are not counted.

/**
 * How many AES-GCM seals under one key id this process makes before it warns.
 *
 * @internal
 */
export const AES_GCM_WARN_AT = 2 ** 30;

/**
 * The AES-GCM seals this process made under one key id.
 *
 * @internal
 */
export class SealCount {
  readonly #keyId: number;
  #count = 0;

  constructor(keyId: number) {
    this.#keyId = keyId;
  }

  /** How many seals were counted. */
  get count(): number {
    return this.#count;
  }

  /** Counts one seal; the one that reaches {@link AES_GCM_WARN_AT} warns. */
  add(): void {
    if (++this.#count === AES_GCM_WARN_AT) {
      warnNearBound(this.#keyId);
    }
  }

  /**
   * Counts `seals` seals at once, with no warning of its own: the tests start a count
   * near the threshold with it rather than sealing 2^30 times.
   */
  skip(seals: number): void {
    this.#count += seals;
  }
}

const counts = new Map<number, SealCount>();

/**
 * The count of AES-GCM seals under a key id, shared by every sealer of this process.
 *
 * @internal
 */
export function sealCountOf(keyId: number): SealCount {
  let count = counts.get(keyId);
  if (count === undefined) {
    count = new SealCount(keyId);
    counts.set(keyId, count);
  }
  return count;
}

/** Says, through the process's warnings where there are any (else the console), that a key nears its bound. */
function warnNearBound(keyId: number): void {
  const message =
    `kit-session: this process has sealed 2^30 values with AES-GCM under the key with id ${keyId}. ` +
    'AES-GCM with random IVs is good for 2^32 seals per key, counted over every server that uses it. ' +
    'Rotate: put a new key first in the list (the old one stays listed and keeps opening what it sealed), ' +
    "or seal with aead: 'xchacha20-poly1305'. See docs/security.md.";
  const runtime = (globalThis as { process?: { emitWarning?: (message: string, options: object) => void } }).process;
  if (typeof runtime?.emitWarning === 'function') {
    runtime.emitWarning(message, { type: 'KitSessionWarning', code: 'KIT_SESSION_KEY_NEAR_BOUND' });
  } else {
    console.warn(message);
  }
}
