// The synchronous node:crypto sealer: the fast path of `createSealer` where node:crypto
// exists (Node, Bun, Deno), behind the same `Sealer` interface as the Web Crypto one
// and writing the same format.
//
// Why it answers without a promise (`seal` returns a string, `open` bytes), and the
// decorator skips the `await` when the answer is there: measured with the in-memory
// request benchmark, instructions per request under callgrind, on 4,096 distinct
// cookies (`node dist-bench/bench/instructions.js`, bench/README.md, "The speed work,
// A/B'd"), the same sealer answering with promises cost the session layer 4.0k more
// instructions per read (+6.7 %) and 5.0k more per write (+3.9 %).

import type * as NodeCrypto from 'node:crypto';
import { encodeBase64url } from '../core/base64url.js';
import { materialOf, type EncryptionKey } from './keys.js';
import { sealCountOf, type SealCount } from './sealCount.js';
import { concat, FORMAT_VERSION, header, HEADER, IV, keyHead, type KeyHead, keyMap, namesKey, NoncePool, OVERHEAD, parse, type Parsed, SealAad, TAG } from './sealedFormat.js';
import type { Sealer } from './Sealer.js';
import type { OtherOpener } from './SodiumSealer.js';


interface NodeKey {
  readonly algorithm: NodeCrypto.CipherGCMTypes;
  readonly key: NodeCrypto.KeyObject;
}

/** The same format through synchronous `node:crypto`: no promise and no thread hop per call.
 *
 * @internal
 */
export class NodeCryptoSealer implements Sealer {
  readonly aead = 'aes-gcm';
  readonly #crypto: typeof NodeCrypto;
  readonly #sealKeyId: number;
  /** How texts sealed under the first key start. */
  readonly #sealHead: KeyHead;
  readonly #sealKey: NodeKey;
  readonly #header: Uint8Array;
  readonly #keys: Map<number, NodeKey>;
  /** The process's count of seals under the sealing key (sealCount.ts). */
  readonly #sealCount: SealCount;
  /** Opens XChaCha20-Poly1305 (version 2) texts. */
  readonly #openOther: OtherOpener;
  readonly #ivs: NoncePool;
  readonly #aad: SealAad;

  /**
   * @param nodeCrypto - node:crypto.
   * @param keys - The keys; the first seals.
   * @param openOther - Opens texts of format version 2 (XChaCha20-Poly1305).
   */
  constructor(nodeCrypto: typeof NodeCrypto, keys: readonly EncryptionKey[], openOther: OtherOpener) {
    this.#crypto = nodeCrypto;
    this.#keys = keyMap(keys, (key) => {
      const { raw } = materialOf(key);
      return {
        algorithm: `aes-${raw.length * 8}-gcm` as NodeCrypto.CipherGCMTypes,
        key: nodeCrypto.createSecretKey(raw),
      };
    });
    this.#sealKeyId = keys[0]!.id;
    this.#sealHead = keyHead(this.#sealKeyId);
    this.#sealKey = this.#keys.get(this.#sealKeyId)!;
    this.#header = header(this.#sealKeyId);
    this.#ivs = new NoncePool(IV, (pool) => nodeCrypto.randomFillSync(pool));
    this.#aad = new SealAad(this.#header);
    this.#sealCount = sealCountOf(this.#sealKeyId);
    this.#openOther = openOther;
  }

  sealsCurrent(sealed: string): boolean {
    return namesKey(sealed, this.#sealHead);
  }

  seal(plaintext: Uint8Array, label: Uint8Array): string {
    // Every byte is written below: header, IV, ciphertext (as long as the plaintext for
    // GCM) and tag.
    const out = new Uint8Array(OVERHEAD + plaintext.length);
    out.set(this.#header);
    const iv = out.subarray(HEADER, HEADER + IV);
    this.#ivs.next(iv);
    const cipher = this.#crypto.createCipheriv(this.#sealKey.algorithm, this.#sealKey.key, iv, { authTagLength: TAG });
    cipher.setAAD(this.#aad.for(label));
    const body = cipher.update(plaintext);
    const final = cipher.final();
    out.set(body, HEADER + IV);
    out.set(final, HEADER + IV + body.length);
    out.set(cipher.getAuthTag(), HEADER + IV + plaintext.length);
    this.#sealCount.add();
    return encodeBase64url(out);
  }

  open(sealed: string, label: Uint8Array): Uint8Array | undefined {
    const parsed = parse(sealed);
    if (parsed === undefined) {
      return undefined;
    }
    return parsed.version === FORMAT_VERSION ? this.openParsed(parsed, label) : this.#openOther(parsed, label);
  }

  /** Opens a parsed text of format version 1: how the XChaCha20-Poly1305 sealer opens AES-GCM texts. */
  openParsed(parsed: Parsed, label: Uint8Array): Uint8Array | undefined {
    const key = this.#keys.get(parsed.keyId);
    if (key === undefined) {
      return undefined;
    }
    const { bytes } = parsed;
    const tagAt = bytes.length - TAG;
    try {
      const decipher = this.#crypto.createDecipheriv(key.algorithm, key.key, bytes.subarray(HEADER, HEADER + IV), {
        authTagLength: TAG,
      });
      // A token sealed under the first key has the header this sealer writes.
      decipher.setAAD(
        parsed.keyId === this.#sealKeyId ? this.#aad.for(label) : concat(bytes.subarray(0, HEADER), label),
      );
      decipher.setAuthTag(bytes.subarray(tagAt));
      const body = decipher.update(bytes.subarray(HEADER + IV, tagAt));
      const final = decipher.final();
      return final.length === 0 ? body : concat(body, final);
    } catch {
      return undefined;
    }
  }
}
