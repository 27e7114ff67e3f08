import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import {
  CookieTransport,
  DEFAULT_MAX_TOTAL_COOKIE_SIZE,
  SessionCookieTooLargeError,
  SessionManager,
  MemorySessionStore,
  type CookieTransportOptions,
  type RequestLike,
  type TokenExpiry,
  type TransportHeaders,
} from 'kit-session';
import { appendHeaders } from '../../../lib/core/headers.js';

// Cookies past 4 KB (`chunking`): a token too long for one cookie is written over
// `name`, `name.1`, …, read back only as one write's whole set, and never left behind
// by a save that shrinks it or a log-out.

const NAME = '__Host-session';
const NOW = Date.UTC(2026, 0, 1);
const EXPIRY: TokenExpiry = { expireTime: NOW + 86_400_000, now: NOW, persistent: undefined };

/** A random base64url token of exactly `length` characters (as the built-in stores make). */
function tokenOf(length: number): string {
  return randomBytes(Math.ceil((length * 3) / 4) + 1)
    .toString('base64url')
    .slice(0, length);
}

/** A request carrying exactly this Cookie header (or none). */
function requestWith(header?: string): RequestLike {
  return { headers: { get: (name) => (name.toLowerCase() === 'cookie' ? (header ?? null) : null) } };
}

function setCookies(out: TransportHeaders): string[] {
  return out.filter(([name]) => name === 'set-cookie').map(([, value]) => value);
}

/** The `name=value` pair of a Set-Cookie, as the browser sends it back (raw, not decoded). */
function pairOf(setCookie: string): [name: string, value: string] {
  const pair = setCookie.slice(0, setCookie.indexOf(';'));
  const eq = pair.indexOf('=');
  return [pair.slice(0, eq), pair.slice(eq + 1)];
}

function isExpiry(setCookie: string): boolean {
  return /; Max-Age=0(;|$)/.test(setCookie);
}

/** A browser's jar, raw values: keeps what a response sets, drops what it expires. */
class RawJar {
  readonly cookies = new Map<string, string>();

  apply(out: TransportHeaders): this {
    for (const line of setCookies(out)) {
      const [name, value] = pairOf(line);
      if (isExpiry(line)) {
        this.cookies.delete(name);
      } else {
        this.cookies.set(name, value);
      }
    }
    return this;
  }

  get header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  get request(): RequestLike {
    return requestWith(this.header);
  }

  /** The session's cookies held: `name` and `name.k`. */
  get sessionNames(): string[] {
    return [...this.cookies.keys()].filter((name) => name === NAME || name.startsWith(`${NAME}.`)).sort();
  }
}

function chunked(options: CookieTransportOptions = {}): CookieTransport {
  return new CookieTransport({ chunking: true, ...options });
}

/** Bytes the pairs of some Set-Cookies take in a Cookie header, `name=value; ` each. */
function headerBytes(lines: readonly string[]): number {
  return lines.reduce((sum, line) => sum + line.indexOf(';') + 2, 0);
}

/** The longest base64url token one cookie holds with these options. */
function longestPlain(options: CookieTransportOptions = {}): number {
  const plain = new CookieTransport({ ...options });
  let length = 1;
  while (true) {
    try {
      plain.checkTokenLength(length + 1, EXPIRY);
    } catch {
      return length;
    }
    length++;
  }
}

const PLAIN_MAX = longestPlain();

describe(CookieTransport, () => {
  describe('with chunking', () => {
    describe('.write then .read', () => {
      const lengths = [
        1,
        100,
        PLAIN_MAX - 1,
        PLAIN_MAX,
        PLAIN_MAX + 1,
        PLAIN_MAX + 2,
        4096,
        6000,
        7900,
        7950,
        8000,
        8100,
        10_000,
        10_240,
        11_000,
        11_800,
      ];

      it.each(lengths)('a token of %i characters comes back as it was written', (length) => {
        const transport = chunked();
        const token = tokenOf(length);
        const out = transport.write(token, EXPIRY, requestWith());
        const lines = setCookies(out);
        for (const line of lines) {
          expect(line.length).toBeLessThanOrEqual(4096);
          expect(isExpiry(line)).toBe(false);
        }
        expect(headerBytes(lines)).toBeLessThanOrEqual(DEFAULT_MAX_TOTAL_COOKIE_SIZE);
        expect(transport.read(new RawJar().apply(out).request)).toBe(token);
        // One cookie while one holds it; past that, every cookie but the last filled to maxSize.
        expect(lines.length === 1).toBe(length <= PLAIN_MAX);
        for (const line of lines.slice(0, -1)) {
          expect(line.length).toBe(4096);
        }
      });

      it('a token that fits in one cookie is written exactly as without chunking, and read by a transport without it', () => {
        for (const length of [1, 64, 1000, PLAIN_MAX]) {
          const token = tokenOf(length);
          const without = new CookieTransport().write(token, EXPIRY, requestWith());
          const withChunks = chunked().write(token, EXPIRY, requestWith());
          expect(withChunks).toEqual(without);
          // A session written before chunking was turned on still loads.
          expect(chunked().read(requestWith(`${NAME}=${token}`))).toBe(token);
        }
      });

      it('the first token one cookie cannot hold goes over two, each within maxSize and the pair within the budget', () => {
        const token = tokenOf(PLAIN_MAX + 1);
        const lines = setCookies(chunked().write(token, EXPIRY, requestWith()));
        expect(lines.map((line) => pairOf(line)[0])).toEqual([NAME, `${NAME}.1`]);
        // Every cookie keeps the attributes of the single cookie.
        for (const line of lines) {
          expect(line).toMatch(/; Max-Age=86400; Path=\/; HttpOnly; Secure; SameSite=Lax$/);
        }
      });

      it('fills each cookie up to maxSize: a 10 KB token takes 3 cookies, the first two exactly maxSize long', () => {
        const lines = setCookies(chunked().write(tokenOf(10_240), EXPIRY, requestWith()));
        expect(lines).toHaveLength(3);
        expect(lines.slice(0, 2).map((line) => line.length)).toEqual([4096, 4096]);
      });

      it('round-trips every length across the chunk boundaries (property)', () => {
        const transport = chunked();
        fc.assert(
          fc.property(fc.integer({ min: 1, max: 11_900 }), (length) => {
            const token = tokenOf(length);
            let out: TransportHeaders;
            try {
              out = transport.write(token, EXPIRY, requestWith());
            } catch (error) {
              // Only the budget refuses, and only near its end.
              expect(error).toBeInstanceOf(SessionCookieTooLargeError);
              expect(length).toBeGreaterThan(11_500);
              return;
            }
            const lines = setCookies(out);
            expect(Math.max(...lines.map((line) => line.length))).toBeLessThanOrEqual(4096);
            expect(headerBytes(lines)).toBeLessThanOrEqual(DEFAULT_MAX_TOTAL_COOKIE_SIZE);
            expect(transport.read(new RawJar().apply(out).request)).toBe(token);
          }),
          { numRuns: 300 },
        );
      });

      it('round-trips any text, cut only between whole characters (property)', () => {
        // Small cookies, so that short texts go over several and multi-byte characters meet the cuts.
        const transport = chunked({ name: 'sid', secure: false, maxSize: 160, maxTotalSize: 4096 });
        fc.assert(
          fc.property(fc.string({ unit: 'binary', minLength: 1, maxLength: 400 }), (token) => {
            let out: TransportHeaders;
            try {
              out = transport.write(token, EXPIRY, requestWith());
            } catch (error) {
              expect(error).toBeInstanceOf(SessionCookieTooLargeError);
              const { size, limit } = error as SessionCookieTooLargeError;
              expect(size).toBeGreaterThan(limit);
              return;
            }
            for (const line of setCookies(out)) {
              expect(line.length).toBeLessThanOrEqual(160);
            }
            expect(transport.read(new RawJar().apply(out).request)).toBe(token);
          }),
          { numRuns: 300 },
        );
      });

      it('a token that begins like a set (digits, then ~) is written as a set of one and read back as itself', () => {
        const transport = chunked();
        for (const token of ['3~whatever', '1~5~abcdefgh~x', '12~']) {
          const out = transport.write(token, EXPIRY, requestWith());
          const lines = setCookies(out);
          expect(lines).toHaveLength(1);
          expect(pairOf(lines[0]!)[1]).not.toBe(encodeURIComponent(token));
          expect(transport.read(new RawJar().apply(out).request)).toBe(token);
        }
      });
    });

    describe('.read', () => {
      /** The pairs of one write of a token of `length` characters. */
      function setOf(transport: CookieTransport, length: number): { token: string; pairs: [string, string][] } {
        const token = tokenOf(length);
        return { token, pairs: setCookies(transport.write(token, EXPIRY, requestWith())).map(pairOf) };
      }
      const header = (pairs: readonly (readonly [string, string])[]) => pairs.map(([name, value]) => `${name}=${value}`).join('; ');

      it('for any two writes, any mix of their cookies reads back only as a whole set of one of them (property)', () => {
        const transport = chunked();
        const write = fc.integer({ min: 1, max: 11_400 }).map((length) => setOf(transport, length));
        fc.assert(
          fc.property(
            write,
            write,
            fc.array(fc.nat(), { maxLength: 12 }),
            fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 6 }),
            fc.constantFrom('a', 'b', 'none'),
            fc.boolean(),
            (a, b, picks, noise, base, picksFirst) => {
              const all = [...a.pairs, ...b.pairs];
              // Any selection, in any order, with repeats, before or after one write's
              // whole set: the cookies a jar and the requests of two tabs could present.
              const picked = picks.map((pick) => all[pick % all.length]!);
              const whole = base === 'a' ? a.pairs : base === 'b' ? b.pairs : [];
              const mixed = picksFirst ? [...picked, ...whole] : [...whole, ...picked];
              // And cookies cut short or taken from one name to another.
              for (const [from, to] of noise) {
                const source = all[from % all.length]!;
                const target = all[to % all.length]!;
                mixed.splice(to % (mixed.length + 1), 0, [target[0], source[1].slice(0, source[1].length - (from % 7))]);
              }
              const read = transport.read(requestWith(header(mixed)));
              /** Whether the header's first cookie of each of a write's names is that write's. */
              const isWhole = (set: { pairs: [string, string][] }) =>
                set.pairs.every(([name, value]) => mixed.find(([n]) => n === name)?.[1] === value);
              // A first cookie that is no set is a plain token, read as it is (the store
              // judges it, as without chunking); one that begins as a set joins only whole.
              const first = mixed.find(([n]) => n === NAME)?.[1];
              const plain = first !== undefined && first !== '' && !/^\d+~/.test(first) ? first : undefined;
              const expected = isWhole(a) ? a.token : isWhole(b) ? b.token : plain;
              expect(read).toBe(expected);
              if (read !== undefined && read !== plain) {
                expect([a.token, b.token]).toContain(read);
              }
            },
          ),
          { numRuns: 500 },
        );
      });

      it('a whole set reads back in any order, with cookies of other names around it', () => {
        const transport = chunked();
        const { token, pairs } = setOf(transport, 10_000);
        expect(pairs).toHaveLength(3);
        const shuffled: [string, string][] = [['theme', 'dark'], pairs[2]!, ['other.1', 'x'], pairs[0]!, pairs[1]!];
        expect(transport.read(requestWith(header(shuffled)))).toBe(token);
      });

      it('a set missing a cookie reads as nothing', () => {
        const transport = chunked();
        const { pairs } = setOf(transport, 10_000);
        for (const left of [0, 1, 2]) {
          expect(transport.read(requestWith(header(pairs.filter((_, index) => index !== left))))).toBeUndefined();
        }
      });

      it('a set with a cookie cut short (a truncated header) reads as nothing', () => {
        const transport = chunked();
        const { pairs } = setOf(transport, 10_000);
        for (const index of [0, 1, 2]) {
          for (const cut of [1, 100]) {
            const truncated = pairs.map(([name, value], i): [string, string] => [name, i === index ? value.slice(0, -cut) : value]);
            expect(transport.read(requestWith(header(truncated)))).toBeUndefined();
          }
        }
        // The whole header cut anywhere inside the last cookie.
        const whole = header(pairs);
        for (const cut of [1, 50, 3000]) {
          expect(transport.read(requestWith(whole.slice(0, -cut)))).toBeUndefined();
        }
      });

      it('a chunk named twice: the first one counts, as for any cookie', () => {
        const transport = chunked();
        const a = setOf(transport, 10_000);
        const b = setOf(transport, 10_000);
        expect(transport.read(requestWith(header([...a.pairs, b.pairs[1]!])))).toBe(a.token);
        expect(transport.read(requestWith(header([a.pairs[0]!, b.pairs[1]!, ...a.pairs.slice(1)])))).toBeUndefined();
      });

      it('cookies past the count (an earlier, larger set left over) are not looked at', () => {
        const transport = chunked();
        const large = setOf(transport, 11_000);
        const small = setOf(transport, 6000);
        expect(large.pairs).toHaveLength(3);
        expect(small.pairs).toHaveLength(2);
        expect(transport.read(requestWith(header([...small.pairs, large.pairs[2]!])))).toBe(small.token);
      });

      it('a first cookie of another shape reads as nothing: count 0, a leading zero, past the budget, a bad set id, no part', () => {
        const transport = chunked();
        const { pairs } = setOf(transport, 6000);
        const [first, second] = pairs as [[string, string], [string, string]];
        const [count, length, setId] = first[1].split('~') as [string, string, string];
        const part = first[1].slice(count.length + length.length + setId.length + 3);
        const variants = [
          `0~${length}~${setId}~${part}`,
          `02~${length}~${setId}~${part}`,
          `9~${length}~${setId}~${part}`,
          `2~0${length}~${setId}~${part}`,
          `2~${Number(length) + 1}~${setId}~${part}`,
          `2~${length}~${setId.slice(1)}~${part}`,
          `2~${length}~${setId.slice(0, 7)}!~${part}`,
          `2~${length}~${setId}~`,
          `2~${length}~${setId}`,
          `2~${length}`,
          `2~`,
        ];
        expect(transport.read(requestWith(header([first, second])))).toBeDefined();
        for (const variant of variants) {
          expect(transport.read(requestWith(header([[NAME, variant], second])))).toBeUndefined();
        }
        // A second cookie without its set id's separator, or with nothing after it.
        expect(transport.read(requestWith(header([first, [second[0], second[1].replace('~', '')]])))).toBeUndefined();
        expect(transport.read(requestWith(header([first, [second[0], second[1].slice(0, 9)]])))).toBeUndefined();
      });

      it('a transport without chunking reads a set as a token the store will not open, never joined', () => {
        const { pairs } = setOf(chunked(), 6000);
        const read = new CookieTransport().read(requestWith(header(pairs)));
        expect(read).toBe(decodeURIComponent(pairs[0]![1]));
      });
    });

    describe('.write, stale cookies', () => {
      /** A jar holding a set of `length` characters, written as a browser keeps it. */
      function jarWith(transport: CookieTransport, length: number): RawJar {
        return new RawJar().apply(transport.write(tokenOf(length), EXPIRY, requestWith()));
      }

      it.each([
        ['3 cookies to 1', 11_000, 1000, [`${NAME}.1`, `${NAME}.2`]],
        ['3 cookies to 2', 11_000, 6000, [`${NAME}.2`]],
        ['2 cookies to 1', 6000, 2000, [`${NAME}.1`]],
        ['1 cookie to 3', 1000, 11_000, []],
        ['2 cookies to 3', 6000, 11_000, []],
      ])('from %s: expires in the same response exactly the cookies the new set does not use', (_name, before, after, expired) => {
        const transport = chunked();
        const jar = jarWith(transport, before);
        const token = tokenOf(after);
        const out = transport.write(token, EXPIRY, jar.request);
        const lines = setCookies(out);
        expect(lines.filter(isExpiry).map((line) => pairOf(line)[0]).sort()).toEqual(expired);
        // Expired with the cookie's own attributes, so the browser matches them.
        for (const line of lines.filter(isExpiry)) {
          expect(line).toMatch(/^__Host-session\.\d=; Max-Age=0; Path=\/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=Lax$/);
        }
        jar.apply(out);
        expect(jar.sessionNames).toHaveLength(Math.max(1, lines.length - expired.length));
        expect(transport.read(jar.request)).toBe(token);
      });

      it('a stale cookie the request carries past the budget (an earlier, larger budget) is expired too', () => {
        const transport = chunked();
        const out = transport.write(tokenOf(100), EXPIRY, requestWith(`${NAME}=x; ${NAME}.7=abc; ${NAME}.07=keep; ${NAME}.x=keep`));
        expect(setCookies(out).filter(isExpiry).map((line) => pairOf(line)[0])).toEqual([`${NAME}.7`]);
      });

      it('a second save in one response leaves only the last set: larger then smaller, smaller then larger', () => {
        const transport = chunked();
        for (const [first, second] of [
          [11_000, 1000],
          [11_000, 6000],
          [6000, 11_000],
          [1000, 11_000],
        ] as const) {
          const request = requestWith();
          const headers = new Headers();
          appendHeaders(headers, transport.write(tokenOf(first), EXPIRY, request));
          const token = tokenOf(second);
          appendHeaders(headers, transport.write(token, EXPIRY, request));
          const lines = headers.getSetCookie();
          // One line per cookie name; every cookie the first set used and the second does not, expired.
          const names = lines.map((line) => pairOf(line)[0]);
          expect(new Set(names).size).toBe(names.length);
          const jar = new RawJar().apply(lines.map((line) => ['set-cookie', line] as const));
          expect(jar.sessionNames).toHaveLength(lines.filter((line) => !isExpiry(line)).length);
          expect(lines.filter((line) => !isExpiry(line))).toHaveLength(second > PLAIN_MAX ? Math.ceil(second / 3960) : 1);
          expect(transport.read(jar.request)).toBe(token);
        }
      });
    });

    describe('.clear', () => {
      it('expires the cookie and every cookie a set can have, with the same attributes', () => {
        const transport = chunked();
        const lines = setCookies(transport.clear(requestWith()));
        expect(lines.map((line) => pairOf(line)[0])).toEqual([NAME, `${NAME}.1`, `${NAME}.2`, `${NAME}.3`]);
        expect(lines.every(isExpiry)).toBe(true);
      });

      it('leaves a jar holding a set nothing of the session', () => {
        const transport = chunked();
        const jar = new RawJar().apply(transport.write(tokenOf(11_000), EXPIRY, requestWith()));
        jar.cookies.set('theme', 'dark');
        // The request carries an older set only: the larger one came with another response.
        jar.apply(transport.clear(requestWith(`${NAME}=abc`)));
        expect(jar.sessionNames).toEqual([]);
        expect([...jar.cookies.keys()]).toEqual(['theme']);
      });

      it('without chunking, expires the one cookie as before', () => {
        const lines = setCookies(new CookieTransport().clear(requestWith(`${NAME}=a; ${NAME}.1=b`)));
        expect(lines.map((line) => pairOf(line)[0])).toEqual([NAME]);
      });
    });

    describe('the budget', () => {
      it('a set past maxTotalSize throws SessionCookieTooLargeError: size the set, limit the budget', () => {
        const transport = chunked();
        const failure = (() => {
          try {
            transport.write(tokenOf(13_000), EXPIRY, requestWith());
          } catch (error) {
            return error;
          }
          return undefined;
        })();
        expect(failure).toBeInstanceOf(SessionCookieTooLargeError);
        const error = failure as SessionCookieTooLargeError;
        expect(error.code).toBe('ERR_SESSION_COOKIE_TOO_LARGE');
        expect(error.limit).toBe(DEFAULT_MAX_TOTAL_COOKIE_SIZE);
        expect(error.size).toBeGreaterThan(13_000);
        expect(error.size).toBeLessThan(13_200);
      });

      it('a lower maxTotalSize refuses sooner', () => {
        const transport = chunked({ maxTotalSize: 6000 });
        expect(() => transport.write(tokenOf(5000), EXPIRY, requestWith())).not.toThrow();
        expect(() => transport.write(tokenOf(6000), EXPIRY, requestWith())).toThrow(SessionCookieTooLargeError);
        // With the budget, a set has at most 2 cookies: a third is neither read nor written.
        expect(setCookies(transport.clear(requestWith()))).toHaveLength(2);
      });

      it('checkTokenLength agrees with write at every length, errors included (property)', () => {
        for (const options of [{}, { maxTotalSize: 9000, persistent: false }, { name: 'sid', secure: false, maxSize: 1000, maxTotalSize: 5000 }]) {
          const transport = chunked(options);
          const outcome = (act: () => unknown) => {
            try {
              act();
              return 'ok';
            } catch (error) {
              return error instanceof SessionCookieTooLargeError ? `${error.size}/${error.limit}` : String(error);
            }
          };
          fc.assert(
            fc.property(fc.integer({ min: 1, max: 14_000 }), (length) => {
              const byLength = outcome(() => transport.checkTokenLength(length, EXPIRY));
              const byWrite = outcome(() => transport.write(tokenOf(length), EXPIRY, requestWith()));
              expect(byLength).toBe(byWrite);
            }),
            { numRuns: 400 },
          );
        }
      });
    });

    describe('options', () => {
      it.each([
        ['maxTotalSize without chunking', { maxTotalSize: 8000 }, 'maxTotalSize'],
        ['maxTotalSize with chunking: false', { chunking: false, maxTotalSize: 8000 }, 'maxTotalSize'],
        ['chunking not a boolean', { chunking: 'true' }, 'chunking'],
        ['maxTotalSize below maxSize', { chunking: true, maxTotalSize: 4000 }, 'maxTotalSize'],
        ['maxTotalSize past 64 KB', { chunking: true, maxTotalSize: 70_000 }, 'maxTotalSize'],
        ['maxTotalSize not a number', { chunking: true, maxTotalSize: '8000' }, 'maxTotalSize'],
        ['a maxSize that leaves chunks no room', { chunking: true, maxSize: 150 }, 'maxCookieSize'],
      ])('%s: TypeError naming the option', (_name, options, option) => {
        expect(() => new CookieTransport(options as CookieTransportOptions)).toThrow(TypeError);
        expect(() => new CookieTransport(options as CookieTransportOptions)).toThrow(option);
      });

      it("the manager's cookie options take chunking and maxTotalSize, with the same rules", () => {
        const store = new MemorySessionStore();
        expect(() => new SessionManager(store, { cookie: { chunking: true, maxTotalSize: 8192 } })).not.toThrow();
        expect(() => new SessionManager(store, { cookie: { maxTotalSize: 8192 } })).toThrow(TypeError);
        expect(() => new SessionManager(store, { cookie: { chunking: true }, maxCookieSize: 13_000 })).toThrow('maxTotalSize');
        expect(() => new SessionManager(store, { cookie: { chunking: true, maxTotalSize: 16_000 }, maxCookieSize: 13_000 })).not.toThrow();
      });
    });
  });
});
