import { parseSetCookie } from 'cookie';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import {
  Context,
  DEFAULT_COOKIE_NAME,
  EncryptingStoreDecorator,
  importRawKey,
  type SessionManagerOptions,
  SessionManager,
  type SessionStore,
} from 'kit-session';
import {
  isOwnerIndexedStore,
} from 'kit-session/store';
import { createHash, randomBytes } from 'node:crypto';

// ---------------------------------------------------------------------------------
// Which services answer
// ---------------------------------------------------------------------------------

/** The Redis the integration tests use: `REDIS_URL`, else the local default. */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
/** The PostgreSQL database the integration tests use: `DATABASE_URL`, else the local default. */
export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
/** The MySQL or MariaDB database the integration tests use: `MYSQL_URL`, else the local default. */
export const MYSQL_URL = process.env.MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';
/** The DynamoDB endpoint the integration tests use (dynalite): `DYNAMODB_ENDPOINT`, else the local default. */
export const DYNAMODB_ENDPOINT = process.env.DYNAMODB_ENDPOINT ?? 'http://127.0.0.1:4567';
/** Under `CI=true`, a service that does not answer fails the suite instead of skipping it. */
const IN_CI = /^(true|1)$/i.test(process.env.CI ?? '');

/**
 * - `redis`: the server at `REDIS_URL` answers PING;
 * - `postgres`: the database at `DATABASE_URL` answers `SELECT 1`;
 * - `mysql`: the MySQL or MariaDB database at `MYSQL_URL` answers `SELECT 1`;
 * - `dynamodb`: the DynamoDB endpoint at `DYNAMODB_ENDPOINT` (dynalite) answers ListTables;
 * - `redis-binaries`: `redis-server` and `redis-cli` run here, so a test can start its
 *   own servers (the three-node Cluster, the server stopped mid-traffic);
 * - `bun`, `deno`, `workerd`: the runtime's binary, installed by `npm ci` from the dev
 *   dependency of that name (`workerd` comes with `miniflare`), runs on this platform.
 */
export type Service = 'redis' | 'postgres' | 'mysql' | 'dynamodb' | 'redis-binaries' | Runtime;

/** The JavaScript runtimes besides Node that the runtime tests start. */
export type Runtime = 'bun' | 'deno' | 'workerd';

function isRuntime(service: Service): service is Runtime {
  return service === 'bun' || service === 'deno' || service === 'workerd';
}

/** Whether a service answers, and if not, why. */
export type ServiceStatus = { readonly ok: true } | { readonly ok: false; readonly reason: string };

const root = path.resolve(__dirname, '../..');

/**
 * Where `npm ci` puts a runtime's binary: the dev dependency's own, not one on the PATH.
 *
 * @param runtime - Which runtime.
 * @returns The path of its executable.
 */
export function runtimeBinary(runtime: Runtime): string {
  return path.join(root, 'node_modules', '.bin', runtime);
}

// Each probe runs in a child node process with the project's own clients (ioredis, pg, mysql2),
// so it sees exactly what the tests will: the same URL parsing, auth and database.
// It is synchronous (spawnSync) because jest registers describe blocks synchronously
// while it loads a test file: whether a block is skipped must be known by then, and a
// beforeAll is too late to skip. A bounded connect timeout keeps a dead host from
// stalling collection.
const PROBES: Record<'redis' | 'postgres' | 'mysql' | 'dynamodb', string> = {
  redis: `
const { Redis } = require('ioredis');
const client = new Redis(process.env.PROBE_URL, {
  lazyConnect: true, connectTimeout: 3000, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false,
});
let last;
client.on('error', (error) => { last = error; });
client.connect().then(() => client.ping()).then(
  () => { client.disconnect(); process.exit(0); },
  (error) => { const why = last || error; process.stderr.write(String((why && why.message) || why)); process.exit(1); },
);`,
  postgres: `
const { Client } = require('pg');
const client = new Client({ connectionString: process.env.PROBE_URL, connectionTimeoutMillis: 3000 });
client.on('error', () => {});
client.connect().then(() => client.query('SELECT 1')).then(
  () => client.end().then(() => process.exit(0)),
  (error) => { process.stderr.write(String((error && error.message) || error)); process.exit(1); },
);`,
  mysql: `
const mysql = require('mysql2/promise');
mysql.createConnection({ uri: process.env.PROBE_URL, connectTimeout: 3000 }).then(
  (connection) => connection.query('SELECT 1').then(() => connection.end()).then(() => process.exit(0)),
).catch((error) => { process.stderr.write(String((error && error.message) || error)); process.exit(1); });`,
  dynamodb: `
const { DynamoDBClient, ListTablesCommand } = require('@aws-sdk/client-dynamodb');
const client = new DynamoDBClient({ endpoint: process.env.PROBE_URL, region: 'us-east-1', maxAttempts: 1,
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
client.send(new ListTablesCommand({ Limit: 1 }), { abortSignal: AbortSignal.timeout(3000) }).then(
  () => process.exit(0),
  (error) => { process.stderr.write(String((error && error.message) || error)); process.exit(1); },
);`,
};

const statuses = new Map<Service, ServiceStatus>();

/** A URL fit for a log line: any password replaced. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') {
      parsed.password = '***';
    }
    return parsed.toString();
  } catch {
    return '(unparsable URL)';
  }
}

function probe(service: Service): ServiceStatus {
  if (isRuntime(service)) {
    const result = spawnSync(runtimeBinary(service), ['--version'], { encoding: 'utf8', timeout: 20_000 });
    if (result.error !== undefined || result.status !== 0) {
      const why = result.error?.message ?? (result.stderr.trim().split('\n')[0] || `exit ${result.status}`);
      return {
        ok: false,
        reason:
          `\`${service} --version\` does not run here (${why}): the dev dependency has no ${service} binary ` +
          `for ${process.platform}-${process.arch}, or \`npm ci\` has not run`,
      };
    }
    return { ok: true };
  }
  if (service === 'redis-binaries') {
    for (const binary of ['redis-server', 'redis-cli']) {
      const result = spawnSync(binary, ['--version'], { encoding: 'utf8', timeout: 10_000 });
      if (result.error !== undefined || result.status !== 0) {
        return { ok: false, reason: `\`${binary} --version\` does not run here (${result.error?.message ?? `exit ${result.status}`})` };
      }
    }
    return { ok: true };
  }
  const url = service === 'redis' ? REDIS_URL : service === 'mysql' ? MYSQL_URL : service === 'dynamodb' ? DYNAMODB_ENDPOINT : DATABASE_URL;
  const result = spawnSync(process.execPath, ['-e', PROBES[service]], {
    cwd: root,
    env: { ...process.env, PROBE_URL: url },
    encoding: 'utf8',
    timeout: 20_000,
  });
  if (result.status === 0) {
    return { ok: true };
  }
  const why = (result.error?.message ?? (result.stderr.trim() || `probe exited with ${result.status}`)).replace(/\.+$/, '');
  const label = { redis: 'Redis', postgres: 'PostgreSQL', mysql: 'MySQL', dynamodb: 'DynamoDB (dynalite)' }[service];
  return { ok: false, reason: `${label} at ${redactUrl(url)} does not answer: ${why}` };
}

/**
 * Tells whether a service answers, probing it once per test file.
 *
 * @param service - Which service.
 * @returns Its status, with the reason when it does not answer.
 */
function serviceStatus(service: Service): ServiceStatus {
  let status = statuses.get(service);
  if (status === undefined) {
    status = probe(service);
    statuses.set(service, status);
  }
  return status;
}

const warned = new Set<string>();

/**
 * Registers a describe block that needs a service. When the service does not answer,
 * the block is skipped with the reason printed once — or, under
 * `CI=true`, replaced by a failing test that gives the reason.
 *
 * @param services - What the block needs.
 * @param name - The block's name.
 * @param body - The block.
 */
export function describeWith(services: Service | readonly Service[], name: string, body: () => void): void {
  const needed = typeof services === 'string' ? [services] : services;
  for (const service of needed) {
    const status = serviceStatus(service);
    if (!status.ok) {
      describeWithout(service, status.reason, name, body);
      return;
    }
  }
  describe(name, body);
}

/**
 * Registers a describe block whose prerequisite is missing: skipped with the reason
 * printed once per prerequisite and test file, or, under `CI=true`, replaced by a
 * failing test that gives the reason. The reason goes straight to stderr: Jest does
 * not show the console output of a test file whose tests were all skipped.
 *
 * @param what - The prerequisite: a service, a browser.
 * @param reason - Why it is missing.
 * @param name - The block's name.
 * @param body - The block.
 */
export function describeWithout(what: string, reason: string, name: string, body: () => void): void {
  if (IN_CI) {
    describe(name, () => {
      it(`needs ${what}, which must be there under CI=true`, () => {
        throw new Error(`${reason}. CI=true: integration tests must run, not be skipped.`);
      });
    });
    return;
  }
  if (!warned.has(what)) {
    warned.add(what);
    process.stderr.write(`Skipping tests that need ${what}: ${reason}. (Under CI=true they fail instead.)\n`);
  }
  describe.skip(name, body);
}

/**
 * What a server-side store keeps in place of a session id: the base64url (unpadded)
 * SHA-256 of the id's UTF-8. Computed here on its own, so that the tests pin the format
 * that existing data and other app servers rely on.
 *
 * @param id - The session id.
 * @returns The 43-character hash.
 */
export function hashedId(id: string): string {
  return createHash('sha256').update(id, 'utf8').digest('base64url');
}

/** A name no other test file or run uses: for key prefixes and table names. */
export function uniqueName(label: string): string {
  return `${label}_${process.pid}_${randomBytes(6).toString('hex')}`;
}

// ---------------------------------------------------------------------------------
// Manager-level scenarios, shared by the memory, Redis and PostgreSQL suites
// ---------------------------------------------------------------------------------

/** The session values of the scenarios. */
export type AppValues = Record<string, unknown>;

/**
 * One browser: keeps the session cookie between requests, as a browser would, and
 * sends each request through the manager with real `Request` and `Headers` objects.
 */
export class Browser {
  /** The cookie's value, or `undefined` when the browser holds none. */
  cookie: string | undefined;
  readonly #manager: SessionManager<AppValues>;

  constructor(manager: SessionManager<AppValues>, cookie?: string) {
    this.#manager = manager;
    this.cookie = cookie;
  }

  /** Reads the request's session, as the request hook does. */
  load(): Promise<Context> {
    const headers: Record<string, string> = this.cookie === undefined ? {} : { cookie: `${DEFAULT_COOKIE_NAME}=${this.cookie}` };
    return this.#manager.extractSession(Context.background, new Request('https://app.test/', { headers }));
  }

  /** Writes the response's cookie, as the response hook does, and keeps what it sets. */
  async save(context: Context): Promise<Headers> {
    const headers = new Headers();
    await this.#manager.injectSession(context, headers);
    for (const line of headers.getSetCookie()) {
      const { name, value, maxAge } = parseSetCookie(line);
      if (name !== DEFAULT_COOKIE_NAME) {
        continue;
      }
      this.cookie = maxAge === 0 || value === '' ? undefined : value;
    }
    return headers;
  }

  /** One whole request: load, let the endpoint act, save. */
  async request(act: (context: Context) => void | Promise<void> = () => {}): Promise<Context> {
    const context = await this.load();
    await act(context);
    await this.save(context);
    return context;
  }
}

/** A store under test, and how to clean up after it. */
export interface ScenarioStore {
  readonly store: SessionStore<AppValues>;
  readonly close?: () => Promise<void>;
}

/**
 * Registers the manager-level scenarios for one store, plain and wrapped in
 * `EncryptingStoreDecorator` with `encryptValues`: no lost updates with 50 concurrent
 * requests, log out everywhere, and `renewToken` retiring the old token.
 *
 * @param name - What the store is called in the test names.
 * @param makeStore - Builds a fresh, empty store for each test.
 */
export function describeManagerScenarios(name: string, makeStore: () => Promise<ScenarioStore> | ScenarioStore): void {
  for (const encrypted of [false, true]) {
    describe(`${name}${encrypted ? ', encrypted with encryptValues' : ''} through SessionManager`, () => {
      let fixture: ScenarioStore;
      let store: SessionStore<AppValues>;

      beforeEach(async () => {
        fixture = await makeStore();
        store = fixture.store;
        if (encrypted) {
          const keys = [await importRawKey(randomBytes(32).toString('base64'))];
          store = new EncryptingStoreDecorator(fixture.store, { keys, encryptValues: true, cookieName: DEFAULT_COOKIE_NAME });
        }
      });

      afterEach(async () => {
        await fixture.close?.();
      });

      const managerOf = (options: SessionManagerOptions = {}) => new SessionManager<AppValues>(store, options);

      it('50 concurrent requests of one session, each setting its own key, all keep their change', async () => {
        const manager = managerOf();
        const first = new Browser(manager);
        await first.request((context) => manager.setValue(context, 'base', 'kept'));
        expect(first.cookie).toBeDefined();

        // Fifty tabs send the same cookie at once: every request loads the session
        // before any of them saves.
        const tabs = Array.from({ length: 50 }, () => new Browser(manager, first.cookie));
        const contexts = await Promise.all(tabs.map((tab) => tab.load()));
        contexts.forEach((context, i) => manager.setValue(context, `k${i}`, i));
        await Promise.all(tabs.map((tab, i) => tab.save(contexts[i]!)));
        for (const tab of tabs) {
          expect(tab.cookie).toBeDefined();
        }

        const after = await new Browser(manager, tabs[49]!.cookie).load();
        expect(manager.getStatus(after)).toBe('unmodified');
        expect(manager.getValue(after, 'base')).toBe('kept');
        for (let i = 0; i < 50; i++) {
          expect(manager.getValue(after, `k${i}`)).toBe(i);
        }
      });

      it('when two concurrent requests change the same key, the later save wins', async () => {
        const manager = managerOf();
        const browser = new Browser(manager);
        await browser.request((context) => manager.setValue(context, 'theme', 'light'));
        const a = new Browser(manager, browser.cookie);
        const b = new Browser(manager, browser.cookie);
        const [contextA, contextB] = [await a.load(), await b.load()];
        manager.setValue(contextA, 'theme', 'dark');
        manager.setValue(contextB, 'theme', 'blue');
        await a.save(contextA);
        await b.save(contextB);
        const after = await new Browser(manager, browser.cookie).load();
        expect(manager.getValue(after, 'theme')).toBe('blue');
      });

      it('a request that unsets a key does not undo a concurrent request that set another', async () => {
        const manager = managerOf();
        const browser = new Browser(manager);
        await browser.request((context) => manager.setValue(context, 'flash', 'saved!'));
        const a = new Browser(manager, browser.cookie);
        const b = new Browser(manager, browser.cookie);
        const [contextA, contextB] = [await a.load(), await b.load()];
        expect(manager.popValue(contextA, 'flash')).toBe('saved!');
        manager.setValue(contextB, 'cart', ['book']);
        await Promise.all([a.save(contextA), b.save(contextB)]);
        const after = await new Browser(manager, browser.cookie).load();
        expect(manager.getValue(after, 'flash')).toBeUndefined();
        expect(manager.getValue(after, 'cart')).toEqual(['book']);
      });

      it('destroyOwnerSessions ends every session of one user and none of the other', async () => {
        expect(isOwnerIndexedStore(store)).toBe(true);
        const manager = managerOf({ ownerKey: 'userId' });
        const logIn = async (browser: Browser, userId: string) =>
          browser.request((context) => {
            manager.renewToken(context);
            manager.setValue(context, 'userId', userId);
          });

        const ada = [new Browser(manager), new Browser(manager), new Browser(manager)];
        const bob = [new Browser(manager), new Browser(manager)];
        for (const browser of ada) {
          await logIn(browser, 'ada');
        }
        for (const browser of bob) {
          await logIn(browser, 'bob');
        }
        // A fourth device of ada's was anonymous first and logs in without a new token:
        // its owner arrives with a patch.
        const late = new Browser(manager);
        await late.request((context) => manager.setValue(context, 'cart', ['pen']));
        await late.request((context) => manager.setValue(context, 'userId', 'ada'));
        const anonymous = new Browser(manager);
        await anonymous.request((context) => manager.setValue(context, 'cart', ['ink']));

        // One of ada's requests is in flight while she logs out everywhere.
        const inFlight = new Browser(manager, ada[0]!.cookie);
        const inFlightContext = await inFlight.load();
        expect(manager.getValue(inFlightContext, 'userId')).toBe('ada');

        expect(await manager.destroyOwnerSessions('ada')).toBe(4);

        // Its save must not bring the session back: whatever cookie the browser keeps
        // afterwards loads no session.
        manager.setValue(inFlightContext, 'lastPage', '/settings');
        await inFlight.save(inFlightContext);
        const afterInFlight = await inFlight.load();
        expect(manager.getStatus(afterInFlight)).toBe('new');
        expect(manager.getValue(afterInFlight, 'lastPage')).toBeUndefined();

        for (const browser of [...ada, late]) {
          const context = await browser.load();
          expect(manager.getStatus(context)).toBe('new');
          expect(manager.getValue(context, 'userId')).toBeUndefined();
        }
        for (const browser of bob) {
          const context = await browser.load();
          expect(manager.getValue(context, 'userId')).toBe('bob');
        }
        const stillAnonymous = await anonymous.load();
        expect(manager.getValue(stillAnonymous, 'cart')).toEqual(['ink']);
        expect(await manager.destroyOwnerSessions('ada')).toBe(0);
        expect(await manager.destroyOwnerSessions('bob')).toBe(2);
      });

      it('renewToken retires the old token: within the grace it loads read-only (stale), never the renewal; with no grace, a fresh session', async () => {
        for (const renewalGrace of [30_000, 0]) {
          const manager = managerOf({ renewalGrace });
          const browser = new Browser(manager);
          await browser.request((context) => manager.setValue(context, 'cart', 'ink'));
          const oldCookie = browser.cookie;

          await browser.request((context) => {
            manager.renewToken(context);
            manager.setValue(context, 'userId', 'ada');
          });
          expect(browser.cookie).toBeDefined();
          expect(browser.cookie).not.toBe(oldCookie);

          const withOld = await new Browser(manager, oldCookie).load();
          expect(manager.getValue(withOld, 'userId')).toBeUndefined();
          if (renewalGrace > 0) {
            expect(manager.session(withOld).isStale).toBe(true);
            expect(manager.getValue(withOld, 'cart')).toBe('ink');
            manager.setValue(withOld, 'cart', 'late');
            const headers = new Headers();
            await manager.injectSession(withOld, headers);
            expect(headers.get('set-cookie')).toBeNull();
          } else {
            expect(manager.getStatus(withOld)).toBe('new');
          }
          const withNew = await new Browser(manager, browser.cookie).load();
          expect(manager.getStatus(withNew)).toBe('unmodified');
          expect(manager.getValue(withNew, 'userId')).toBe('ada');
          expect(manager.getValue(withNew, 'cart')).toBe('ink');
        }
      });
    });
  }
}
