// Where the demo keeps its sessions, chosen by SESSION_STORE:
//
//   cookie    (default) the whole session in an encrypted cookie, nothing on the server
//   revocable the same encrypted cookie, plus one number per logged-in name in this
//             process's memory (a generation): moving it on revokes that name's cookies
//   memory    this process's memory
//   redis     Redis at REDIS_URL (default redis://127.0.0.1:6379), keys `kit-session-demo:…`
//   postgres  PostgreSQL at DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test),
//             table `kit_session_demo`, created at start
//   mysql     MySQL or MariaDB at MYSQL_URL (default mysql://root@127.0.0.1:3306/test),
//             table `kit_session_demo`, created at start
//   sqlite    a SQLite file at SQLITE_PATH (default kit-session-demo.sqlite in the system's
//             temporary folder), through better-sqlite3, else node:sqlite
//
// Every store is wrapped in EncryptingStoreDecorator: for the cookie store it seals the
// whole session; for the server-side ones it seals the id the cookie carries, and the
// values kept on the server too (`encryptValues`). The key comes from SESSION_KEY;
// without it, a random key is made and a warning printed.
//
// ioredis, pg, mysql2 and better-sqlite3 are loaded only when chosen, so the cookie demo
// needs none of them.

import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  CookieSessionStore,
  EncryptingStoreDecorator,
  importKeysFromEnv,
  importRawKey,
  MemoryOwnerGenerations,
  MemorySessionStore,
  type EncryptionKey,
  type SessionRevocationOptions,
  type SessionStore,
} from 'kit-session';
import type { DemoSession } from './routes.js';

/** The stores the demo can run on. */
export const STORE_KINDS = ['cookie', 'revocable', 'memory', 'redis', 'postgres', 'mysql', 'sqlite'] as const;

/** One of {@link STORE_KINDS}. */
export type StoreKind = (typeof STORE_KINDS)[number];

/** The Redis the demo uses when REDIS_URL is not set. */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
/** The PostgreSQL database the demo uses when DATABASE_URL is not set. */
export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';
/** The MySQL or MariaDB database the demo uses when MYSQL_URL is not set. */
export const DEFAULT_MYSQL_URL = 'mysql://root@127.0.0.1:3306/test';
/** The SQLite file the demo uses when SQLITE_PATH is not set. */
export const DEFAULT_SQLITE_PATH = path.join(tmpdir(), 'kit-session-demo.sqlite');
/** The MySQL and SQLite table the demo keeps its sessions in. */
export const SQL_TABLE = 'kit_session_demo';
/** Put before every Redis key the demo writes, so it shares a Redis with anything else. */
export const REDIS_PREFIX = 'kit-session-demo:';
/** The PostgreSQL table the demo keeps its sessions in. */
export const POSTGRES_TABLE = 'kit_session_demo';

/** How long the demo waits for Redis or PostgreSQL, at start and on every request. */
const SERVICE_TIMEOUT = 5_000;
/**
 * With SESSION_STORE=revocable, how long a name's generation is trusted before it is
 * read again. The demo is one process, whose own revocations apply at once; with several
 * processes sharing Redis or PostgreSQL generations, this is how long a revoked cookie
 * can still open elsewhere.
 */
const REVOCATION_MAX_STALENESS = 1_000;

/** The store the demo runs on, and what to tell the person starting it. */
export interface DemoStore {
  readonly store: SessionStore<DemoSession>;
  /** Which store. */
  readonly kind: StoreKind;
  /**
   * Whether the sessions live on the server (memory, Redis, PostgreSQL, MySQL, SQLite), the cookie
   * carrying only a sealed id: then logout really ends a session, "log out everywhere"
   * works, "Your sessions" lists each device, and a session can hold more than a cookie.
   */
  readonly serverSide: boolean;
  /**
   * With SESSION_STORE=revocable, the manager's `revocation` option: the sessions stay
   * in cookies, and "end all others" or "log out everywhere" revokes a name's cookies
   * by moving its generation on. `undefined` for every other store.
   */
  readonly revocation: SessionRevocationOptions | undefined;
  /** Where sessions are kept, in words, for the page footer. */
  readonly description: string;
  /** Things to print before the server starts. */
  readonly warnings: readonly string[];
  /** Lets go of the store's connections (Redis client, PostgreSQL or MySQL pool, SQLite file), on shutdown. */
  close(): Promise<void>;
}

/**
 * The demo could not reach the Redis, PostgreSQL or MySQL (or open the SQLite file) it was told to use. Its message
 * holds the URL without any password, and the error's code (`ECONNREFUSED`, say), never
 * a session value.
 */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
}

/**
 * Reads the session keys from `SESSION_KEY` with `importKeysFromEnv`: one base64 key
 * (`openssl rand -base64 32`), or several, newest first, separated by commas, to rotate
 * keys (the first seals, all of them open).
 *
 * @param env - The environment.
 * @returns The keys, and a warning when a random key had to be made.
 * @throws TypeError when a key is not base64 of 16, 24 or 32 bytes (the message names
 *   the entry, never the key).
 */
export async function loadKeys(env: NodeJS.ProcessEnv): Promise<{ keys: EncryptionKey[]; warnings: string[] }> {
  if ((env.SESSION_KEY ?? '').replaceAll(',', '').trim() !== '') {
    return { keys: await importKeysFromEnv('SESSION_KEY', env), warnings: [] };
  }
  return {
    keys: [await importRawKey(randomBytes(32).toString('base64'))],
    warnings: [
      'SESSION_KEY is not set: using a random key, so sessions will not survive a restart. ' +
        'Set SESSION_KEY to the output of `openssl rand -base64 32` to keep them.',
    ],
  };
}

/**
 * Reads `SESSION_STORE`.
 *
 * @param env - The environment.
 * @returns The store's kind; `cookie` when unset.
 * @throws TypeError when it names no store the demo knows.
 */
export function readStoreKind(env: NodeJS.ProcessEnv): StoreKind {
  const value = (env.SESSION_STORE ?? '').trim().toLowerCase() || 'cookie';
  if (!(STORE_KINDS as readonly string[]).includes(value)) {
    throw new TypeError(`SESSION_STORE must be one of ${STORE_KINDS.join(', ')}`);
  }
  return value as StoreKind;
}

/**
 * Builds the demo's store from `SESSION_STORE`, connecting to Redis or PostgreSQL when
 * one of them is chosen.
 *
 * @param env - The environment.
 * @param cookieName - The session cookie's name, bound into every seal.
 * @returns The store, its description and any warnings.
 * @throws TypeError when SESSION_STORE or SESSION_KEY is not valid.
 * @throws StoreUnavailableError when Redis or PostgreSQL does not answer.
 */
export async function createDemoStore(env: NodeJS.ProcessEnv, cookieName: string): Promise<DemoStore> {
  const kind = readStoreKind(env);
  const { keys, warnings } = await loadKeys(env);
  const seal = (inner: SessionStore<DemoSession>, encryptValues: boolean) =>
    new EncryptingStoreDecorator<DemoSession>(inner, { keys, cookieName, encryptValues });

  switch (kind) {
    case 'cookie':
      return {
        kind,
        serverSide: false,
        revocation: undefined,
        store: seal(new CookieSessionStore<DemoSession>(), false),
        description: 'an encrypted cookie (AES-GCM), not on the server',
        warnings,
        close: async () => {},
      };
    case 'revocable':
      return {
        kind,
        serverSide: false,
        // Kept in memory, so a restart forgets every revocation: a real deployment
        // keeps generations in Redis or PostgreSQL (RedisOwnerGenerations…).
        revocation: { generations: new MemoryOwnerGenerations(), maxStaleness: REVOCATION_MAX_STALENESS },
        store: seal(new CookieSessionStore<DemoSession>(), false),
        description: "an encrypted cookie (AES-GCM), revocable by name through a generation kept in the demo process's memory",
        warnings,
        close: async () => {},
      };
    case 'memory':
      return {
        kind,
        serverSide: true,
        revocation: undefined,
        store: seal(new MemorySessionStore<DemoSession>(), true),
        description: "the demo process's memory (the cookie holds only an encrypted id)",
        warnings,
        close: async () => {},
      };
    case 'redis':
      return { ...(await connectRedis(env.REDIS_URL || DEFAULT_REDIS_URL, seal)), warnings };
    case 'postgres':
      return { ...(await connectPostgres(env.DATABASE_URL || DEFAULT_DATABASE_URL, seal)), warnings };
    case 'mysql':
      return { ...(await connectMysql(env.MYSQL_URL || DEFAULT_MYSQL_URL, seal)), warnings };
    case 'sqlite':
      return { ...(await openSqlite(env.SQLITE_PATH || DEFAULT_SQLITE_PATH, seal)), warnings };
  }
}

type Seal = (inner: SessionStore<DemoSession>, encryptValues: boolean) => SessionStore<DemoSession>;
type Connected = Omit<DemoStore, 'warnings'>;

async function connectRedis(url: string, seal: Seal): Promise<Connected> {
  const [{ Redis }, { RedisSessionStore }] = await Promise.all([import('ioredis'), import('kit-session/redis')]);
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: SERVICE_TIMEOUT,
    // A request fails fast (503) while Redis is away, rather than queueing for ever.
    maxRetriesPerRequest: 1,
  });
  let lastError: unknown;
  // Quiet until connected (a failure to start says it all); then one line per outage,
  // with the code only: without a listener, ioredis would print the whole error.
  let reported = true;
  client.on('error', (error: unknown) => {
    lastError = error;
    if (!reported) {
      reported = true;
      console.error(`demo: Redis connection error (${codeOf(error)})`);
    }
  });
  client.on('ready', () => {
    reported = false;
  });
  try {
    await client.connect();
  } catch (error) {
    client.disconnect();
    throw new StoreUnavailableError(`cannot reach Redis at ${redactUrl(url)} (${codeOf(lastError ?? error)})`);
  }
  return {
    kind: 'redis',
    serverSide: true,
    revocation: undefined,
    store: seal(new RedisSessionStore<DemoSession>(client, { prefix: REDIS_PREFIX, timeout: SERVICE_TIMEOUT }), true),
    description: `Redis, under the keys ${REDIS_PREFIX}… (the cookie holds only an encrypted id)`,
    close: async () => {
      await client.quit().catch(() => client.disconnect());
    },
  };
}

async function connectPostgres(url: string, seal: Seal): Promise<Connected> {
  const [{ Pool }, { PostgresSessionStore }] = await Promise.all([import('pg'), import('kit-session/postgres')]);
  const pool = new Pool({ connectionString: url, connectionTimeoutMillis: SERVICE_TIMEOUT, max: 5 });
  pool.on('error', (error) => {
    // An idle connection broke; the pool opens a new one when it is needed.
    console.error(`demo: PostgreSQL connection error (${codeOf(error)})`);
  });
  const store = new PostgresSessionStore<DemoSession>(pool, {
    table: POSTGRES_TABLE,
    timeout: SERVICE_TIMEOUT,
    cleanupInterval: 10 * 60_000,
  });
  try {
    await createTable(store);
  } catch (error) {
    store.stopCleanup();
    await pool.end().catch(() => {});
    throw new StoreUnavailableError(`cannot use PostgreSQL at ${redactUrl(url)} (${codeOf(error)})`);
  }
  return {
    kind: 'postgres',
    serverSide: true,
    revocation: undefined,
    store: seal(store, true),
    description: `PostgreSQL, in the table ${POSTGRES_TABLE} (the cookie holds only an encrypted id)`,
    close: async () => {
      store.stopCleanup();
      await pool.end();
    },
  };
}

async function connectMysql(url: string, seal: Seal): Promise<Connected> {
  const [{ default: mysql }, { MysqlSessionStore }] = await Promise.all([import('mysql2/promise'), import('kit-session/mysql')]);
  const pool = mysql.createPool({ uri: url, connectTimeout: SERVICE_TIMEOUT, connectionLimit: 5 });
  const store = new MysqlSessionStore<DemoSession>(pool, {
    table: SQL_TABLE,
    timeout: SERVICE_TIMEOUT,
    cleanupInterval: 10 * 60_000,
  });
  try {
    await createTable(store);
  } catch (error) {
    store.stopCleanup();
    await pool.end().catch(() => {});
    throw new StoreUnavailableError(`cannot use MySQL at ${redactUrl(url)} (${codeOf(error)})`);
  }
  return {
    kind: 'mysql',
    serverSide: true,
    revocation: undefined,
    store: seal(store, true),
    description: `MySQL or MariaDB, in the table ${SQL_TABLE} (the cookie holds only an encrypted id)`,
    close: async () => {
      store.stopCleanup();
      await pool.end();
    },
  };
}

/** A SQLite connection, as the demo opens and closes it. */
type SqliteConnection = import('kit-session/sqlite').SqliteDatabase & { exec(sql: string): unknown; close(): void };

/**
 * Opens the SQLite file: through better-sqlite3 (a dev dependency here; an app installs
 * it) when its native addon loads on this Node, else through node:sqlite (Node 22.5+).
 */
async function openSqliteFile(file: string): Promise<SqliteConnection> {
  try {
    const { default: Database } = await import('better-sqlite3');
    return new Database(file) as unknown as SqliteConnection;
  } catch (error) {
    const sqlite = process.getBuiltinModule?.('node:sqlite') as { DatabaseSync?: new (file: string) => SqliteConnection } | undefined;
    if (sqlite?.DatabaseSync === undefined) {
      throw error;
    }
    return new sqlite.DatabaseSync(file);
  }
}

async function openSqlite(file: string, seal: Seal): Promise<Connected> {
  const { SqliteSessionStore } = await import('kit-session/sqlite');
  let database: SqliteConnection;
  try {
    database = await openSqliteFile(file);
    database.exec('PRAGMA journal_mode = WAL'); // several processes on one file
    database.exec('PRAGMA busy_timeout = 5000');
  } catch (error) {
    throw new StoreUnavailableError(`cannot open the SQLite file ${file} (${codeOf(error)})`);
  }
  const store = new SqliteSessionStore<DemoSession>(database, { table: SQL_TABLE, cleanupInterval: 10 * 60_000 });
  try {
    await createTable(store);
  } catch (error) {
    store.stopCleanup();
    database.close();
    throw new StoreUnavailableError(`cannot use the SQLite file ${file} (${codeOf(error)})`);
  }
  return {
    kind: 'sqlite',
    serverSide: true,
    revocation: undefined,
    store: seal(store, true),
    description: `SQLite, in the table ${SQL_TABLE} of ${path.basename(file)} (the cookie holds only an encrypted id)`,
    close: async () => {
      store.stopCleanup();
      database.close();
    },
  };
}

/**
 * `CREATE TABLE IF NOT EXISTS` is not safe against itself: two demos starting at the
 * same moment on a fresh database can both try to create the table, and one fails.
 * The second try finds the table there.
 */
async function createTable(store: { createTable(): Promise<void> }): Promise<void> {
  try {
    await store.createTable();
  } catch {
    await new Promise((resolve) => setTimeout(resolve, 100));
    await store.createTable();
  }
}

/** A URL fit for a log line: any password replaced. */
function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') {
      parsed.password = '***';
    }
    return parsed.toString();
  } catch {
    return '(an unparsable URL)';
  }
}

/** The first error code found along an error's causes (`ECONNREFUSED`, `3D000`…), else its name. */
function codeOf(error: unknown): string {
  let name: string | undefined;
  for (let current = error, depth = 0; typeof current === 'object' && current !== null && depth < 5; depth++) {
    const { code, cause } = current as { code?: unknown; cause?: unknown };
    if (typeof code === 'string' && /^[A-Z0-9_]{2,40}$/.test(code) && !code.startsWith('ERR_SESSION')) {
      return code;
    }
    name ??= current instanceof Error ? current.name : undefined;
    current = cause;
  }
  return name ?? 'unknown error';
}
