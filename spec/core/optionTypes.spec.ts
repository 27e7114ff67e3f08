import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import {
  CookieSessionStore,
  createCookieSessions,
  EncryptingStoreDecorator,
  importRawKey,
  MemoryOwnerGenerations,
  MemorySessionStore,
  SessionManager,
  type EncryptionKey,
} from 'kit-session';
import { createSessionManager } from '../../lib/compat/createSessionManager.js';
import { createEncryptSessionStoreMiddleware } from 'kit-session/encrypt';
import { createSessionModule } from 'kit-session/di';
import { SessionModule } from 'kit-session/nest';
import { PostgresOwnerGenerations, PostgresSessionStore } from 'kit-session/postgres';
import { RedisOwnerGenerations, RedisSessionStore } from 'kit-session/redis';

// Every boolean and number option of every class and factory that takes options, given a
// value of the wrong type (as untyped configuration gives them: 'false', '5000', null) or
// out of range, throws a TypeError naming the option when the object is built, never a
// store that reads 'false' as true (`allowPlaintext: 'false'` used to build a plaintext
// store). None of these builders needs a server: the clients are never connected.

/** Anything: the point is values the types do not allow. */
type Untyped = Record<string, unknown>;

/** What a boolean option may wrongly be given. */
const NOT_BOOLEANS: readonly unknown[] = ['false', 'true', 'no', 0, 1, null, {}];
/** What a positive number option may wrongly be given. */
const NOT_POSITIVE: readonly unknown[] = ['5000', Number.NaN, Infinity, -Infinity, -1, 0, null, true];

let keys: EncryptionKey[];
const redis = new Redis({ lazyConnect: true });
const pool = new pg.Pool({ max: 1 });

beforeAll(async () => {
  keys = [await importRawKey(randomBytes(32).toString('base64'))];
});

afterAll(async () => {
  redis.disconnect();
  await pool.end();
});

/** One builder: its name, and how to build it with some options. */
interface Builder {
  readonly name: string;
  readonly build: (options: Untyped) => unknown;
  /** The boolean options. */
  readonly booleans?: readonly string[];
  /** The positive number options (a dotted name reaches into a nested object). */
  readonly numbers?: readonly string[];
  /** More wrong values per option: integers given a fraction, ranges. */
  readonly extra?: readonly (readonly [option: string, value: unknown])[];
  /** Options every build needs beside the one under test (made once the keys exist). */
  readonly base?: () => Untyped;
}

const memory = () => new MemorySessionStore();

/** Puts `value` at a dotted path into a copy of `base`. */
function withOption(base: Untyped, path: string, value: unknown): Untyped {
  const [head, ...rest] = path.split('.');
  if (rest.length === 0) {
    return { ...base, [head!]: value };
  }
  return { ...base, [head!]: withOption((base[head!] as Untyped | undefined) ?? {}, rest.join('.'), value) };
}

const COOKIE_BOOLEANS = ['cookie.secure', 'cookie.httpOnly', 'cookie.persistent', 'cookie.partitioned', 'cookie.chunking'];
const MANAGER_NUMBERS = ['lifetime', 'idleTimeout', 'maxCookieSize', 'cookie.maxAge', 'cookie.maxTotalSize', 'renewalInterval'];
const MANAGER_EXTRA = [
  ['idleTouchInterval', '1000'],
  ['idleTouchInterval', Number.NaN],
  ['maxSessionsPerOwner', '3'],
  ['maxSessionsPerOwner', 1.5],
  ['maxSessionsPerOwner', 0],
  ['revocation.maxStaleness', '5000'],
  ['revocation.maxStaleness', -1],
  ['revocation.maxStaleness', Infinity],
  ['revocation.maxStaleness', Number.NaN],
  ['revocation.maxStaleness', null],
  ['renewalGrace', '30000'],
  ['renewalGrace', -1],
  ['renewalGrace', Infinity],
  ['renewalGrace', Number.NaN],
  ['renewalGrace', null],
] as const;

const BUILDERS: readonly Builder[] = [
  {
    name: 'SessionManager',
    build: (options) => new SessionManager(memory(), options),
    booleans: COOKIE_BOOLEANS,
    numbers: MANAGER_NUMBERS,
    extra: [...MANAGER_EXTRA, ['idleTouchInterval', -1]],
    base: () => ({ ownerKey: 'userId', idleTimeout: 60_000, revocation: { generations: new MemoryOwnerGenerations() } }),
  },
  {
    name: 'createSessionManager (kit-session compat)',
    build: (options) => createSessionManager({ ...options, storage: memory() }),
    booleans: COOKIE_BOOLEANS,
    numbers: MANAGER_NUMBERS,
  },
  {
    name: 'createCookieSessions',
    build: (options) => createCookieSessions({ keys, ...options }),
    booleans: COOKIE_BOOLEANS,
    numbers: MANAGER_NUMBERS,
  },
  { name: 'CookieSessionStore', build: (options) => new CookieSessionStore(options), booleans: ['allowPlaintext'] },
  {
    name: 'MemorySessionStore',
    build: (options) => new MemorySessionStore(options),
    numbers: ['maxEntries'],
    extra: [['maxEntries', 1.5]],
  },
  {
    name: 'EncryptingStoreDecorator',
    build: (options) => new EncryptingStoreDecorator(memory(), { keys, ...options }),
    booleans: ['encryptValues'],
  },
  {
    name: 'createEncryptSessionStoreMiddleware',
    // The options are checked when the middleware is made, not when it is applied.
    build: (options) => createEncryptSessionStoreMiddleware(keys, options),
    booleans: ['encryptValues'],
  },
  {
    name: 'createSessionModule',
    build: (options) => createSessionModule(options),
    booleans: ['encryptValues', 'manager.cookie.secure', 'manager.cookie.httpOnly'],
    numbers: ['manager.lifetime'],
    base: () => ({ keys, innerStore: 'app' }),
  },
  {
    name: 'SessionModule.forRoot (Nest)',
    build: (options) => SessionModule.forRoot({ keys, ...options }),
    booleans: ['isGlobal', 'cookie.secure'],
    numbers: ['lifetime'],
  },
  {
    name: 'RedisSessionStore',
    build: (options) => new RedisSessionStore(redis, options),
    // A null timeout means the default, as documented.
    extra: NOT_POSITIVE.filter((value) => value !== null).map((value) => ['timeout', value] as const),
  },
  {
    name: 'RedisOwnerGenerations',
    build: (options) => new RedisOwnerGenerations(redis, options),
    extra: NOT_POSITIVE.filter((value) => value !== null).map((value) => ['timeout', value] as const),
  },
  {
    name: 'PostgresSessionStore',
    build: (options) => new PostgresSessionStore(pool, options),
    numbers: ['cleanupInterval'],
    extra: [
      ...NOT_POSITIVE.filter((value) => value !== null).map((value) => ['timeout', value] as const),
      // setInterval would run a longer interval every millisecond.
      ['cleanupInterval', 2 ** 31],
    ],
  },
  {
    name: 'PostgresOwnerGenerations',
    build: (options) => new PostgresOwnerGenerations(pool, options),
    extra: NOT_POSITIVE.filter((value) => value !== null).map((value) => ['timeout', value] as const),
  },
];

/** A wrong value as a test's name shows it: NaN and Infinity as themselves, a string quoted. */
function shown(value: unknown): string {
  return typeof value === 'number' ? String(value) : JSON.stringify(value);
}

/** Every (builder, option, wrong value) case. */
function wrongCases(builder: Builder): [string, unknown][] {
  return [
    ...(builder.booleans ?? []).flatMap((option) => NOT_BOOLEANS.map((value): [string, unknown] => [option, value])),
    ...(builder.numbers ?? []).flatMap((option) => NOT_POSITIVE.map((value): [string, unknown] => [option, value])),
    ...(builder.extra ?? []).map(([option, value]): [string, unknown] => [option, value]),
  ];
}

describe('option types', () => {
  describe.each(BUILDERS.map((builder) => [builder.name, builder] as const))('%s', (_name, builder) => {
    it.each(wrongCases(builder).map(([option, value]) => [option, shown(value), value]))(
      'when %s is %s, throws a TypeError naming the option',
      (option, _shown, value) => {
        const build = () => builder.build(withOption(builder.base?.() ?? {}, option, value));
        expect(build).toThrow(TypeError);
        // The message names the option by its last part (`secure` for cookie.secure).
        expect(build).toThrow(option.split('.').at(-1)!);
      },
    );

    if (builder.booleans !== undefined) {
      it.each(builder.booleans)('when %s is true or false, builds', (option) => {
        const base = builder.base?.() ?? {};
        for (const value of [true, false]) {
          // secure: false needs a name without the __Host- prefix.
          const named = option.endsWith('secure') && !value ? withOption(base, option.replace('secure', 'name'), 's') : base;
          // partitioned: true needs secure (the default).
          expect(() => builder.build(withOption(named, option, value))).not.toThrow();
        }
      });
    }
  });

  describe(importRawKey, () => {
    it.each([['"7"', '7'], ['NaN', Number.NaN], ['-1', -1], ['1.5', 1.5], ['2 ** 32', 2 ** 32], ['null', null]])(
      'when id is %s, rejects with a TypeError naming the id',
      async (_shown, id) => {
        const promise = importRawKey(randomBytes(32).toString('base64'), { id: id as number });
        await expect(async () => promise).rejects.toThrow(TypeError);
        await expect(async () => importRawKey(randomBytes(32).toString('base64'), { id: id as number })).rejects.toThrow('id');
      },
    );
  });

  describe(CookieSessionStore, () => {
    it("when allowPlaintext is the string 'false', refuses to build (it used to build a plaintext store)", () => {
      expect(() => new CookieSessionStore({ allowPlaintext: 'false' } as never)).toThrow(TypeError);
    });
  });
});
