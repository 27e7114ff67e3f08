// Speed work, contained (internal to lib/core/SessionManager.ts): the session's
// Set-Cookie header, with the attributes `cookie`'s `stringifySetCookie` wrote once,
// when the manager was built, and only the token and Max-Age put in per write.
//
// Why: measured with the in-memory request benchmark, instructions per request under
// callgrind on 4,096 distinct cookies (`node dist-bench/bench/instructions.js --cases
// read,write --lib <build without it> --lib dist`; bench/README.md, "A/B of two builds"),
// calling `stringifySetCookie` on every write (an options object spread, the name,
// value, path and domain checked by regular expressions, the token passed through
// `encodeURIComponent`) cost the session layer's write several thousand instructions
// (row (f) of "The speed work, A/B'd": 5.5k, 4.4 %). The text is the same: `cookie`
// writes Max-Age first and the other attributes after it, in a fixed order, and leaves
// a base64url token as it is. Any other token goes through `stringifySetCookie`.
import { stringifySetCookie, type SetCookie } from 'cookie';

/** A token `encodeURIComponent` leaves as it is and `cookie` accepts as a value. */
const BASE64URL = /^[A-Za-z0-9_-]*$/;

/**
 * Writes one cookie's Set-Cookie header.
 *
 * @internal
 */
export class SetCookieWriter {
  readonly #name: string;
  readonly #attributes: Omit<SetCookie, 'name' | 'value' | 'maxAge' | 'expires'>;
  /** `name=` */
  readonly #prefix: string;
  /** Every attribute after Max-Age, as `cookie` writes them (`; Path=/; HttpOnly; …`). */
  readonly #suffix: string;

  /**
   * @param name - The cookie's name.
   * @param attributes - The attributes other than Max-Age and Expires.
   * @throws TypeError when `cookie` refuses the name or an attribute.
   */
  constructor(name: string, attributes: Omit<SetCookie, 'name' | 'value' | 'maxAge' | 'expires'>) {
    this.#name = name;
    this.#attributes = attributes;
    this.#prefix = `${name}=`;
    this.#suffix = stringifySetCookie({ name, value: '', ...attributes }).slice(this.#prefix.length);
  }

  /**
   * The header for a token.
   *
   * @param token - The cookie's value.
   * @param maxAge - Max-Age in seconds (a whole number), or `undefined` for a session cookie.
   * @returns The header's value, as `stringifySetCookie` writes it.
   */
  write(token: string, maxAge: number | undefined): string {
    if (!BASE64URL.test(token)) {
      return stringifySetCookie({ name: this.#name, value: token, ...(maxAge === undefined ? {} : { maxAge }), ...this.#attributes });
    }
    return maxAge === undefined
      ? this.#prefix + token + this.#suffix
      : `${this.#prefix}${token}; Max-Age=${maxAge}${this.#suffix}`;
  }
}
