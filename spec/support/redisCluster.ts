import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import { once } from 'node:events';
import path from 'node:path';
import { promisify } from 'node:util';
import { Cluster, Redis } from 'ioredis';
import { createClient, createCluster, type RedisClientType, type RedisClusterType } from 'redis';

const run = promisify(execFile);

/** How long a server may take to start or a cluster to agree, on a busy 2-core machine. */
const START_TIMEOUT_MS = 60_000;
const HOST = '127.0.0.1';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Whether nothing listens on a loopback port now. */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, HOST, () => server.close(() => resolve(true)));
  });
}

/**
 * A spare loopback port, and for a Cluster node also its bus port (port + 10000, which
 * Redis takes on its own). Ports are drawn at random from 20000–29999, below the
 * kernel's ephemeral range, and checked free; a start that still loses a race retries.
 */
async function sparePort(withBus: boolean): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 10_000);
    if ((await portFree(port)) && (!withBus || (await portFree(port + 10_000)))) {
      return port;
    }
  }
  throw new Error('no spare loopback port found');
}

/**
 * Sends PING to a port over a plain socket; true when it answers PONG. (A plain socket
 * rather than ioredis: a failed ioredis connect leaves a timer behind that keeps jest
 * from exiting.)
 */
function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: HOST, port });
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2_000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) {
        done(reply.startsWith('+PONG'));
      }
    });
  });
}

/**
 * One `redis-server` child process on a spare loopback port, with its files in a
 * temporary folder. Not persisted unless asked (`stop({ save: true })`), and then
 * reloaded by the next `start()` from the same folder.
 */
export class RedisServerProcess {
  /** The port it listens on (fixed for the object's life, so clients can reconnect). */
  port = 0;
  readonly #dir: string;
  readonly #extraArgs: readonly string[];
  readonly #withBus: boolean;
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();

  private constructor(dir: string, extraArgs: readonly string[], withBus: boolean) {
    this.#dir = dir;
    this.#extraArgs = extraArgs;
    this.#withBus = withBus;
  }

  /**
   * Starts a server on a spare port.
   *
   * @param extraArgs - More `redis-server` arguments (e.g. the cluster ones).
   * @param withBus - Whether port + 10000 must be free too (Cluster bus).
   */
  static async start(extraArgs: readonly string[] = [], withBus = false): Promise<RedisServerProcess> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'kit-session-redis-'));
    const server = new RedisServerProcess(dir, extraArgs, withBus);
    for (let attempt = 1; ; attempt++) {
      server.port = await sparePort(withBus);
      try {
        await server.start();
        return server;
      } catch (error) {
        if (attempt >= 5) {
          await rm(dir, { recursive: true, force: true });
          throw error;
        }
      }
    }
  }

  /** (Re)starts the server on its port, loading `dump.rdb` if an earlier stop saved one. */
  async start(): Promise<void> {
    const child = spawn(
      'redis-server',
      [
        '--port', String(this.port),
        '--bind', HOST,
        '--save', '',
        '--appendonly', 'no',
        '--dir', this.#dir,
        '--dbfilename', 'dump.rdb',
        '--logfile', path.join(this.#dir, `redis-${this.port}.log`),
        ...this.#extraArgs,
      ],
      { stdio: 'ignore' },
    );
    this.#child = child;
    let exited = false;
    this.#exited = new Promise((resolve) => {
      child.once('exit', () => {
        exited = true;
        resolve();
      });
      child.once('error', () => {
        exited = true;
        resolve();
      });
    });
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (!(await answers(this.port))) {
      if (exited) {
        throw new Error(`redis-server on port ${this.port} exited while starting (see its log in ${this.#dir})`);
      }
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`redis-server on port ${this.port} did not answer within ${START_TIMEOUT_MS} ms`);
      }
      await sleep(50);
    }
  }

  /**
   * Stops the server and waits for it to exit.
   *
   * @param options - `save`: write `dump.rdb` first (`SHUTDOWN SAVE`), so `start()` reloads it.
   */
  async stop(options: { save?: boolean } = {}): Promise<void> {
    const child = this.#child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) {
      return;
    }
    this.resume();
    if (options.save === true) {
      await run('redis-cli', ['-h', HOST, '-p', String(this.port), 'shutdown', 'save']).catch(() => {});
    } else {
      child.kill('SIGTERM');
    }
    const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await this.#exited;
    clearTimeout(killer);
    this.#child = undefined;
  }

  /** Freezes the process (SIGSTOP): it keeps its connections but answers nothing. */
  pause(): void {
    this.#child?.kill('SIGSTOP');
  }

  /** Lets a paused process run again (SIGCONT). */
  resume(): void {
    this.#child?.kill('SIGCONT');
  }

  /** Stops the server and removes its folder. */
  async destroy(): Promise<void> {
    await this.stop();
    await rm(this.#dir, { recursive: true, force: true });
  }
}

/** A three-node Redis Cluster on loopback ports, started by a test. */
export interface RedisClusterProcesses {
  /** The nodes' addresses, for `new Cluster(nodes)`. */
  readonly nodes: readonly { host: string; port: number }[];
  /** Stops every node and removes their files. */
  stop(): Promise<void>;
}

async function clusterInfo(port: number): Promise<string> {
  const { stdout } = await run('redis-cli', ['-h', HOST, '-p', String(port), 'cluster', 'info']);
  return stdout;
}

/**
 * Starts three `redis-server --cluster-enabled yes` on spare loopback ports (no
 * persistence, files in temporary folders), joins them with
 * `redis-cli --cluster create … --cluster-replicas 0 --cluster-yes`, and waits until
 * every node says `cluster_state:ok` with all 16384 slots served.
 *
 * @returns The nodes and a `stop()` to call in afterAll.
 * @throws Error when a node does not start or the cluster does not form in time.
 */
export async function startRedisCluster(): Promise<RedisClusterProcesses> {
  const servers: RedisServerProcess[] = [];
  const stop = async () => {
    await Promise.all(servers.map((server) => server.destroy()));
  };
  try {
    for (let i = 0; i < 3; i++) {
      servers.push(
        await RedisServerProcess.start(
          ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '5000'],
          true,
        ),
      );
    }
    const addresses = servers.map((server) => `${HOST}:${server.port}`);
    await run('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'], {
      timeout: START_TIMEOUT_MS,
    });
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (const server of servers) {
      for (;;) {
        const info = await clusterInfo(server.port).catch(() => '');
        if (/cluster_state:ok/.test(info) && /cluster_slots_ok:16384/.test(info) && /cluster_known_nodes:3/.test(info)) {
          break;
        }
        if (Date.now() > deadline) {
          throw new Error(`the cluster did not reach cluster_state:ok within ${START_TIMEOUT_MS} ms`);
        }
        await sleep(100);
      }
    }
    return { nodes: servers.map((server) => ({ host: HOST, port: server.port })), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * Everything Redis holds under a key prefix, as JSON text: each key with its type's
 * contents (a hash's fields, a sorted set's members and scores). Scans every master of
 * a Cluster.
 *
 * @param client - A `Redis` or `Cluster`.
 * @param prefix - The prefix (letters, digits, `_`, `-` and `:` only: it is a SCAN pattern).
 */
export async function dumpRedis(client: Redis | Cluster, prefix: string): Promise<string> {
  const out: Record<string, unknown> = {};
  for (const key of await redisKeys(client, prefix)) {
    const type = await client.type(key);
    out[key] =
      type === 'hash'
        ? await client.hgetall(key)
        : type === 'zset'
          ? await client.zrange(key, '0', '-1', 'WITHSCORES')
          : type === 'string'
            ? await client.get(key)
            : type;
  }
  return JSON.stringify(out);
}

/** Every key under a prefix, from every master of a Cluster. */
export async function redisKeys(client: Redis | Cluster, prefix: string): Promise<string[]> {
  if (!/^[A-Za-z0-9_:-]*$/.test(prefix)) {
    throw new Error('prefix must be usable as a SCAN pattern as it is');
  }
  const nodes = client instanceof Cluster ? client.nodes('master') : [client];
  const keys: string[] = [];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, batch] = await node.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
  }
  return keys;
}

/** Deletes every key under a prefix (one by one, so it works across Cluster slots). */
export async function deleteRedisKeys(client: Redis | Cluster, prefix: string): Promise<void> {
  await Promise.all((await redisKeys(client, prefix)).map((key) => client.del(key)));
}

/**
 * Starts a three-node Redis Cluster before the enclosing describe block's tests and stops
 * it after them, with one ioredis `Cluster` client connected.
 *
 * @returns A getter for the client (valid inside the tests and their hooks).
 */
export function useRedisCluster(): () => Cluster {
  return useRedisClusterClients().ioredis;
}

/** A node-redis v5 cluster client as `createCluster()` makes it. */
export type NodeRedisCluster = RedisClusterType;

/**
 * Starts a three-node Redis Cluster before the enclosing describe block's tests and stops
 * it after them, with an ioredis `Cluster` and a node-redis `createCluster()` client
 * connected to it.
 *
 * @returns Getters for the clients (valid inside the tests and their hooks).
 */
export function useRedisClusterClients(): { ioredis: () => Cluster; nodeRedis: () => NodeRedisCluster } {
  let processes: RedisClusterProcesses | undefined;
  let cluster: Cluster | undefined;
  let nodeRedis: NodeRedisCluster | undefined;
  beforeAll(async () => {
    processes = await startRedisCluster();
    cluster = new Cluster([...processes.nodes], { redisOptions: { maxRetriesPerRequest: 1 } });
    cluster.on('error', () => {});
    if (cluster.status !== 'ready') {
      await once(cluster, 'ready');
    }
    nodeRedis = createCluster({ rootNodes: processes.nodes.map(({ host, port }) => ({ url: `redis://${host}:${port}` })) });
    nodeRedis.on('error', () => {});
    await nodeRedis.connect();
  }, 180_000);
  afterAll(async () => {
    await nodeRedis?.close();
    await cluster?.quit();
    await processes?.stop();
  }, 60_000);
  return {
    ioredis: () => cluster!,
    nodeRedis: () => nodeRedis!,
  };
}

/** A node-redis v5 client as `createClient()` makes it. */
export type NodeRedisClient = RedisClientType;

/**
 * Connects a node-redis v5 client to a Redis before the enclosing describe block's tests
 * and closes it after them.
 *
 * @param url - The server's address.
 * @returns A getter for the client (valid inside the tests and their hooks).
 */
export function useNodeRedis(url: string): () => NodeRedisClient {
  let client: NodeRedisClient | undefined;
  beforeAll(async () => {
    client = createClient({ url }) as NodeRedisClient;
    client.on('error', () => {});
    await client.connect();
  });
  afterAll(async () => {
    await client?.close();
  });
  return () => client!;
}
