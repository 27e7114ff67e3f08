import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import {
  CookieSessionStore,
  EncryptingStoreDecorator,
  importRawKey,
  MemorySessionStore,
  SessionCookieTooLargeError,
  SessionManager,
  SessionValueError,
  type EncryptionKey,
  type SessionManagerOptions,
  type SessionStore,
} from 'kit-session';
import { PostgresSessionStore } from 'kit-session/postgres';
import { RedisSessionStore } from 'kit-session/redis';
import { FakeClock } from '../support/FakeClock.js';
import { deleteRedisKeys, redisKeys } from '../support/redisCluster.js';
import { type AppValues, Browser, DATABASE_URL, describeWith, REDIS_URL, uniqueName } from '../support/services.js';

// One meaning of a session on every store: each of these was a difference between
// stores (found by hand, then by the model test), pinned here store by store.

/** A store under test and a way to count what it holds on its server. */
interface Backend {
  readonly store: SessionStore<AppValues>;
  /** How many sessions the backend holds; unset for the cookie store, which holds none. */
  readonly count?: () => Promise<number>;
  readonly close?: () => Promise<void>;
}

interface Variant {
  readonly name: string;
  readonly service?: 'redis' | 'postgres';
  /** The undecorated store. */
  readonly open: (clock: FakeClock) => Promise<Backend>;
  /** Wrapped in the decorator with `encryptValues` (server-side) or as the cookie store needs. */
  readonly encryptValues: boolean;
  readonly sealed: boolean;
}

let redis: Redis | undefined;
let pool: pg.Pool | undefined;
const table = uniqueName('kit_session_stores');
let tableMade = false;

const memory = async (clock: FakeClock): Promise<Backend> => {
  const store = new MemorySessionStore<AppValues>({}, clock);
  return { store, count: async () => store.size };
};
const onRedis = async (clock: FakeClock): Promise<Backend> => {
  if (redis === undefined) {
    // One client for the file, with one error listener (one per test would leak).
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    redis.on('error', () => {});
  }
  const client = redis;
  const prefix = `${uniqueName('kit-session-stores')}:`;
  return {
    store: new RedisSessionStore<AppValues>(client, { prefix }, clock),
    count: async () => (await redisKeys(client, prefix)).filter((key) => !key.startsWith(`${prefix}owner:`)).length,
    close: () => deleteRedisKeys(client, prefix),
  };
};
const onPostgres = async (clock: FakeClock): Promise<Backend> => {
  pool ??= new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
  const client = pool;
  const store = new PostgresSessionStore<AppValues>(client, { table }, clock);
  if (!tableMade) {
    await store.createTable();
    tableMade = true;
  }
  return {
    store,
    count: async () => Number((await client.query(`SELECT count(*) AS n FROM "${table}"`)).rows[0].n),
    close: async () => {
      await client.query(`TRUNCATE "${table}"`);
    },
  };
};

const variants: Variant[] = [
  { name: 'the encrypted cookie store', open: async (clock) => ({ store: new CookieSessionStore({}, clock) }), sealed: true, encryptValues: false },
  { name: 'MemorySessionStore', open: memory, sealed: false, encryptValues: false },
  { name: 'MemorySessionStore with encryptValues', open: memory, sealed: true, encryptValues: true },
  { name: 'RedisSessionStore', service: 'redis', open: onRedis, sealed: false, encryptValues: false },
  { name: 'RedisSessionStore with encryptValues', service: 'redis', open: onRedis, sealed: true, encryptValues: true },
  { name: 'PostgresSessionStore', service: 'postgres', open: onPostgres, sealed: false, encryptValues: false },
  { name: 'PostgresSessionStore with encryptValues', service: 'postgres', open: onPostgres, sealed: true, encryptValues: true },
];

afterAll(async () => {
  await redis?.quit();
  if (pool !== undefined) {
    await pool.query(`DROP TABLE IF EXISTS "${table}"`);
    await pool.end();
  }
});

const newKey = () => importRawKey(randomBytes(32).toString('base64'));

function deep(depth: number): unknown {
  let value: unknown = [];
  for (let i = 1; i < depth; i++) {
    value = [value];
  }
  return value;
}

for (const variant of variants) {
  const register = variant.service === undefined ? describe : (name: string, body: () => void) => describeWith(variant.service!, name, body);
  register(`SessionManager on ${variant.name}`, () => {
    let clock: FakeClock;
    let backend: Backend;
    const serverSide = variant.name !== 'the encrypted cookie store';

    beforeEach(async () => {
      clock = new FakeClock();
      backend = await variant.open(clock);
    });

    afterEach(async () => {
      await backend.close?.();
    });

    const managerWith = (keys: readonly EncryptionKey[], options: SessionManagerOptions = {}) => {
      const store = variant.sealed
        ? new EncryptingStoreDecorator(backend.store, { keys, encryptValues: variant.encryptValues }, clock)
        : backend.store;
      return new SessionManager<AppValues>(store, { ...(serverSide ? { ownerKey: 'userId' } : {}), ...options }, clock);
    };

    describe('.setValue', () => {
      it('with undefined, unsets the value: gone now and on the next request, owner index included', async () => {
        const manager = managerWith([await newKey()]);
        const browser = new Browser(manager);
        await browser.request((context) => {
          manager.setValue(context, 'userId', 'u1');
          manager.setValue(context, 'cart', ['book']);
        });
        await browser.request((context) => {
          manager.setValue(context, 'userId', undefined);
          expect(manager.getValue(context, 'userId')).toBeUndefined();
          expect(Object.hasOwn(context.value(manager.contextKey)!.values, 'userId')).toBe(false);
        });
        const after = await browser.load();
        expect(manager.getStatus(after)).toBe('unmodified');
        expect(manager.getValue(after, 'userId')).toBeUndefined();
        expect(manager.getValue(after, 'cart')).toEqual(['book']);
        if (serverSide) {
          // The session reads no owner any more: log out everywhere of u1 does not end it.
          expect(await manager.destroyOwnerSessions('u1')).toBe(0);
          expect(manager.getValue(await browser.load(), 'cart')).toEqual(['book']);
        }
      });

      it('keeps a value as JSON gives it back, in this request and the next', async () => {
        const manager = managerWith([await newKey()]);
        const browser = new Browser(manager);
        const given = { kept: 1, gone: undefined, fn: () => 1, when: new Date(0), nan: NaN, list: [undefined, -0] };
        const expected = { kept: 1, when: '1970-01-01T00:00:00.000Z', nan: null, list: [null, 0] };
        await browser.request((context) => {
          manager.setValue(context, 'odd', given);
          expect(manager.getValue(context, 'odd')).toStrictEqual(expected);
          given.kept = 2; // a change after setValue is not the session's
        });
        expect(manager.getValue(await browser.load(), 'odd')).toStrictEqual(expected);
      });

      it.each([
        ['a function', () => 1],
        ['a symbol', Symbol('s')],
        ['a BigInt', 10n],
        ['a cycle', (() => {
          const value: Record<string, unknown> = {};
          value.self = value;
          return value;
        })()],
        ['a throwing toJSON', { toJSON: () => { throw new Error('no'); } }],
        ['5,000-deep arrays', deep(5000)],
        ['65-deep arrays', deep(65)],
        ['U+0000 in text', { note: 'a\u0000b' }],
        ['a lone surrogate in text', 'x\ud800'],
        ['U+0000 in a nested name', { ['k\u0000']: 1 }],
      ])('refuses %s with SessionValueError at setValue, leaving the session as it was', async (_label, value) => {
        const manager = managerWith([await newKey()]);
        const browser = new Browser(manager);
        await browser.request((context) => manager.setValue(context, 'cart', ['book']));
        const context = await browser.load();
        expect(() => manager.setValue(context, 'bad', value as never)).toThrow(SessionValueError);
        expect(manager.getStatus(context)).toBe('unmodified');
        await browser.save(context);
        expect(manager.getValue(await browser.load(), 'cart')).toEqual(['book']);
      });

      it('accepts 64-deep arrays', async () => {
        const manager = managerWith([await newKey()]);
        const browser = new Browser(manager);
        await browser.request((context) => manager.setValue(context, 'deep', deep(64) as never));
        expect(manager.getValue(await browser.load(), 'deep')).toEqual(deep(64));
      });

      it.each([
        ['U+0000', 'a\u0000b'],
        ['a lone surrogate', 'a\ud800'],
      ])('refuses a name holding %s with SessionValueError (code ERR_SESSION_VALUE)', async (_label, name) => {
        const manager = managerWith([await newKey()]);
        const context = await new Browser(manager).load();
        let error: unknown;
        try {
          manager.setValue(context, name, 1);
        } catch (caught) {
          error = caught;
        }
        expect(error).toBeInstanceOf(SessionValueError);
        expect((error as SessionValueError).code).toBe('ERR_SESSION_VALUE');
        expect(manager.getStatus(context)).toBe('new');
      });
    });

    if (variant.sealed) {
      describe('key rotation', () => {
        it('k1 → [k2, k1] → one save changing one value → [k2]: every value opens with k2 alone', async () => {
          const [k1, k2] = [await newKey(), await newKey()];
          const before = managerWith([k1]);
          const browser = new Browser(before);
          await browser.request((context) => {
            before.setValue(context, 'userId', 'u1');
            before.setValue(context, 'cart', ['book', 'pen']);
            before.setValue(context, 'theme', 'dark');
          });
          const during = managerWith([k2, k1]);
          const rotating = new Browser(during, browser.cookie);
          await rotating.request((context) => during.setValue(context, 'theme', 'light'));
          const after = managerWith([k2]);
          const context = await new Browser(after, rotating.cookie).load();
          expect(after.getStatus(context)).toBe('unmodified');
          expect(after.getValue(context, 'userId')).toBe('u1');
          expect(after.getValue(context, 'cart')).toEqual(['book', 'pen']);
          expect(after.getValue(context, 'theme')).toBe('light');
        });

        it('a request that only reads a session sealed under the old key writes it again under the new one', async () => {
          const [k1, k2] = [await newKey(), await newKey()];
          const before = managerWith([k1]);
          const browser = new Browser(before);
          await browser.request((context) => before.setValue(context, 'cart', ['book']));
          const during = managerWith([k2, k1]);
          const reading = new Browser(during, browser.cookie);
          const headers = await reading.save(await reading.load());
          expect(headers.getSetCookie()).toHaveLength(1);
          // The next request under the new key alone is quiet: nothing left to rewrite.
          const after = managerWith([k2]);
          const context = await new Browser(after, reading.cookie).load();
          expect(after.getValue(context, 'cart')).toEqual(['book']);
          const quiet = new Browser(managerWith([k2, k1]), reading.cookie);
          expect((await quiet.save(await quiet.load())).getSetCookie()).toHaveLength(0);
        });
      });
    }

    if (serverSide) {
      describe('a save refused for its cookie size', () => {
        // Room for the cookie's name and attributes, not for a session token.
        const tiny = { maxCookieSize: 80 };

        it('writes nothing for a new session', async () => {
          const manager = managerWith([await newKey()], tiny);
          const browser = new Browser(manager);
          const context = await browser.load();
          manager.setValue(context, 'cart', ['book']);
          await expect(async () => browser.save(context)).rejects.toBeInstanceOf(SessionCookieTooLargeError);
          expect(await backend.count!()).toBe(0);
        });

        it('leaves a stored session as it was: no patch, no renewed copy, old id kept', async () => {
          const keys = [await newKey()];
          const roomy = managerWith(keys);
          const browser = new Browser(roomy);
          await browser.request((context) => roomy.setValue(context, 'cart', ['book']));
          expect(await backend.count!()).toBe(1);

          const cramped = managerWith(keys, tiny);
          const patching = new Browser(cramped, browser.cookie);
          const patched = await patching.load();
          cramped.setValue(patched, 'cart', ['changed']);
          await expect(async () => patching.save(patched)).rejects.toBeInstanceOf(SessionCookieTooLargeError);

          const renewing = new Browser(cramped, browser.cookie);
          const renewed = await renewing.load();
          cramped.renewToken(renewed);
          await expect(async () => renewing.save(renewed)).rejects.toBeInstanceOf(SessionCookieTooLargeError);

          expect(await backend.count!()).toBe(1);
          const context = await browser.load();
          expect(roomy.getStatus(context)).toBe('unmodified');
          expect(roomy.getValue(context, 'cart')).toEqual(['book']);
        });
      });
    }
  });
}
