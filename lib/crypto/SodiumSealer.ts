// XChaCha20-Poly1305 through sodium-native (an optional peer dependency), the sealer of
// `aead: 'xchacha20-poly1305'`: one native call per seal or open where node:crypto's
// AES-GCM makes five and a JS object (issue 25; bench/README.md has the figures, from
// `node dist-bench/bench/instructions.js --aead xchacha20-poly1305` and
// bench/micro.bench.ts). It writes version 2 of sealedFormat.ts and opens version 1
// through the AES-GCM sealer it is given, so switching the AEAD logs nobody out.
//
// Key separation: the XChaCha20-Poly1305 key is HKDF-SHA256 of the listed key's bytes
// with a fixed info string, derived once per key; the same bytes never key two AEADs.
//
// sodium-native is CommonJS and native: it is loaded synchronously, at construction, with
// a `require` that node:module's `createRequire` makes from the app's entry script
// (`process.argv[1]`), else from the working directory. Not from this file's own
// `import.meta.url`: that syntax is an error in CommonJS, and Jest in its default
// CommonJS mode compiles kit-session's files to CommonJS (docs/deployment.md). An
// optional peer is a dependency the app installs itself, so it resolves from the app:
// from its node_modules, or a parent folder's (workspaces hoist there).

import type * as NodeCrypto from 'node:crypto';
import { encodeBase64url } from '../core/base64url.js';
import { materialOf, type EncryptionKey } from './keys.js';
import {
  concat,
  header,
  HEADER,
  keyHead,
  type KeyHead,
  keyMap,
  namesKey,
  NoncePool,
  parse,
  type Parsed,
  SealAad,
  XCHACHA_VERSION,
  XNONCE,
  XOVERHEAD,
} from './sealedFormat.js';
import type { Sealer } from './Sealer.js';

/** The few sodium-native functions the sealer calls. */
interface Sodium {
  crypto_aead_xchacha20poly1305_ietf_encrypt(
    c: Uint8Array,
    m: Uint8Array,
    ad: Uint8Array | null,
    nsec: null,
    npub: Uint8Array,
    k: Uint8Array,
  ): number;
  /** Throws when the text does not authenticate. */
  crypto_aead_xchacha20poly1305_ietf_decrypt(
    m: Uint8Array,
    nsec: null,
    c: Uint8Array,
    ad: Uint8Array | null,
    npub: Uint8Array,
    k: Uint8Array,
  ): number;
  randombytes_buf(buffer: Uint8Array): void;
}

/**
 * Opens a parsed sealed text of the other version than a sealer's own, or gives
 * `undefined`.
 *
 * @internal
 */
export type OtherOpener = (parsed: Parsed, label: Uint8Array) => Uint8Array | undefined;

/** HKDF-SHA256's info: what the derived key is for. Changing it changes every XChaCha key. */
const KEY_INFO = 'kit-session xchacha20-poly1305 key v1';

type Builtin = (id: string) => unknown;

function builtin(id: string): unknown {
  const getBuiltinModule = (globalThis as { process?: { getBuiltinModule?: Builtin } }).process?.getBuiltinModule;
  return typeof getBuiltinModule === 'function' ? getBuiltinModule(id) : undefined;
}

/**
 * Loads sodium-native as resolved from `base`, else from the app's entry script, else
 * from the working directory.
 *
 * @param base - Where resolution starts, when a test gives a place.
 * @returns The module.
 * @throws TypeError naming the `aead` option when the runtime has no node:module or
 *   sodium-native cannot be loaded (the loader's error is the `cause`).
 * @internal
 */
export function requireSodium(base?: string): Sodium {
  const nodeModule = builtin('node:module') as { createRequire?: (from: string) => (id: string) => unknown } | undefined;
  const runtime = (globalThis as { process?: { argv?: readonly string[]; cwd?: () => string } }).process;
  if (typeof nodeModule?.createRequire !== 'function' || typeof runtime?.cwd !== 'function') {
    throw new TypeError(
      "aead 'xchacha20-poly1305' needs Node's node:module (process.getBuiltinModule) to load sodium-native: use aead 'aes-gcm' on this runtime",
    );
  }
  const entry = runtime.argv?.[1];
  const bases = base !== undefined ? [base] : [...(entry === undefined ? [] : [entry]), `${runtime.cwd()}/_`];
  let sodium: Partial<Sodium> | undefined;
  let cause: unknown;
  for (const from of bases) {
    try {
      sodium = nodeModule.createRequire(from)('sodium-native') as Partial<Sodium>;
      break;
    } catch (error) {
      cause ??= error;
    }
  }
  if (sodium === undefined) {
    throw new TypeError(
      "aead 'xchacha20-poly1305' needs the sodium-native package: install it in the app (npm install sodium-native), or use aead 'aes-gcm'",
      { cause },
    );
  }
  if (
    typeof sodium.crypto_aead_xchacha20poly1305_ietf_encrypt !== 'function' ||
    typeof sodium.crypto_aead_xchacha20poly1305_ietf_decrypt !== 'function' ||
    typeof sodium.randombytes_buf !== 'function'
  ) {
    throw new TypeError("aead 'xchacha20-poly1305' needs sodium-native 4 or later: it has no XChaCha20-Poly1305 here");
  }
  return sodium as Sodium;
}

/** sodium-native as the app resolves it, or the error loading it gave: tried once a process. */
let loaded: Sodium | TypeError | undefined;

/** sodium-native, loaded once. @throws TypeError as {@link requireSodium} does. */
function sodiumNative(): Sodium {
  if (loaded === undefined) {
    try {
      loaded = requireSodium();
    } catch (error) {
      loaded = error as TypeError;
    }
  }
  if (loaded instanceof TypeError) {
    throw loaded;
  }
  return loaded;
}

/** The XChaCha20-Poly1305 key of each listed key, derived once per key object. */
const derivedKeys = new WeakMap<EncryptionKey, Uint8Array>();

/** The XChaCha20-Poly1305 key derived from a 256-bit key's bytes. */
function xchachaKey(nodeCrypto: typeof NodeCrypto, key: EncryptionKey): Uint8Array {
  let derived = derivedKeys.get(key);
  if (derived === undefined) {
    derived = new Uint8Array(nodeCrypto.hkdfSync('sha256', materialOf(key).raw, new Uint8Array(0), KEY_INFO, 32));
    derivedKeys.set(key, derived);
  }
  return derived;
}

/** The derived keys of the listed 256-bit keys by id: only those can have sealed version 2. */
function xchachaKeys(nodeCrypto: typeof NodeCrypto, keys: readonly EncryptionKey[]): Map<number, Uint8Array | undefined> {
  return keyMap(keys, (key) => (key.bits === 256 ? xchachaKey(nodeCrypto, key) : undefined));
}

/** Opens a version-2 text's bytes under a key with the given additional data. */
function openWith(sodium: Sodium, bytes: Uint8Array, aad: Uint8Array, key: Uint8Array): Uint8Array | undefined {
  const plain = new Uint8Array(bytes.length - XOVERHEAD);
  try {
    sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
      plain,
      null,
      bytes.subarray(HEADER + XNONCE),
      aad,
      bytes.subarray(HEADER, HEADER + XNONCE),
      key,
    );
    return plain;
  } catch {
    return undefined;
  }
}

/**
 * For a sealer that seals AES-GCM: opens XChaCha20-Poly1305 texts (left by a time when
 * the app sealed with it) where sodium-native loads. It is loaded on the first such text,
 * once; where it is missing, such texts do not open (a fresh session).
 *
 * @internal
 */
export function lazyXChaChaOpener(keys: readonly EncryptionKey[]): OtherOpener {
  let opener: { sodium: Sodium; keys: Map<number, Uint8Array | undefined> } | null | undefined;
  return (parsed, label) => {
    if (opener === undefined) {
      const nodeCrypto = builtin('node:crypto') as typeof NodeCrypto | undefined;
      try {
        opener = nodeCrypto === undefined ? null : { sodium: sodiumNative(), keys: xchachaKeys(nodeCrypto, keys) };
      } catch {
        opener = null;
      }
    }
    const key = opener?.keys.get(parsed.keyId);
    return key === undefined ? undefined : openWith(opener!.sodium, parsed.bytes, concat(parsed.bytes.subarray(0, HEADER), label), key);
  };
}

/**
 * Seals with XChaCha20-Poly1305 (format version 2) under the first key, opens version 2
 * under any listed 256-bit key and version 1 through the AES-GCM opener it is given.
 *
 * @internal
 */
export class SodiumSealer implements Sealer {
  readonly aead = 'xchacha20-poly1305';
  readonly #sodium: Sodium;
  readonly #sealKeyId: number;
  readonly #sealKey: Uint8Array;
  readonly #sealHead: KeyHead;
  readonly #header: Uint8Array;
  readonly #keys: Map<number, Uint8Array | undefined>;
  readonly #openAes: OtherOpener;
  readonly #nonces: NoncePool;
  readonly #aad: SealAad;

  /**
   * @param nodeCrypto - node:crypto, for the key derivation.
   * @param keys - The keys; the first seals and must be 256 bits.
   * @param openAes - Opens version-1 (AES-GCM) texts.
   * @throws TypeError naming the `aead` option when the first key is not 256 bits or
   *   sodium-native does not load.
   */
  constructor(nodeCrypto: typeof NodeCrypto, keys: readonly EncryptionKey[], openAes: OtherOpener) {
    if (keys[0]!.bits !== 256) {
      throw new TypeError(
        `aead 'xchacha20-poly1305' needs a 256-bit sealing key; the first key has ${keys[0]!.bits} bits (make one with openssl rand -base64 32)`,
      );
    }
    this.#sodium = sodiumNative();
    this.#keys = xchachaKeys(nodeCrypto, keys);
    this.#sealKeyId = keys[0]!.id;
    this.#sealKey = this.#keys.get(this.#sealKeyId)!;
    this.#sealHead = keyHead(this.#sealKeyId, XCHACHA_VERSION);
    this.#header = header(this.#sealKeyId, XCHACHA_VERSION);
    const sodium = this.#sodium;
    this.#nonces = new NoncePool(XNONCE, (pool) => sodium.randombytes_buf(pool));
    this.#aad = new SealAad(this.#header);
    this.#openAes = openAes;
  }

  sealsCurrent(sealed: string): boolean {
    return namesKey(sealed, this.#sealHead);
  }

  seal(plaintext: Uint8Array, label: Uint8Array): string {
    const out = new Uint8Array(XOVERHEAD + plaintext.length);
    out.set(this.#header);
    const nonce = out.subarray(HEADER, HEADER + XNONCE);
    this.#nonces.next(nonce);
    this.#sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
      out.subarray(HEADER + XNONCE),
      plaintext,
      this.#aad.for(label),
      null,
      nonce,
      this.#sealKey,
    );
    return encodeBase64url(out);
  }

  open(sealed: string, label: Uint8Array): Uint8Array | undefined {
    const parsed = parse(sealed);
    if (parsed === undefined) {
      return undefined;
    }
    if (parsed.version !== XCHACHA_VERSION) {
      return this.#openAes(parsed, label);
    }
    const key = this.#keys.get(parsed.keyId);
    if (key === undefined) {
      return undefined;
    }
    // A text sealed under the first key has the header this sealer writes.
    const aad = parsed.keyId === this.#sealKeyId ? this.#aad.for(label) : concat(parsed.bytes.subarray(0, HEADER), label);
    return openWith(this.#sodium, parsed.bytes, aad, key);
  }
}
