// What every benchmark server shares: it is started by bench/lib/httpBench.ts with
// child_process.fork, tells its port over IPC once it listens, reports its own CPU
// time when asked (so the parent can work out CPU per request), and exits when the
// parent goes away.

import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';

/** Messages from the parent. */
export type ParentMessage = { readonly type: 'cpu' } | { readonly type: 'exit' };

/** Messages to the parent. */
export type ChildMessage =
  | { readonly type: 'ready'; readonly port: number }
  | { readonly type: 'cpu'; readonly micros: number };

/** The key every server that takes one uses: 32 bytes, base64. Fixed so runs compare. */
export const BENCH_KEY_BASE64 = 'q4m1bZ1g0B2v6cK2yW9pN0x3s5t7u8v9w0x1y2z3A4E=';

/** A password of 32+ characters for iron-session and express-session's secret. */
export const BENCH_PASSWORD = 'kit-session bench password, 32+ characters long';

/**
 * Tells the parent the server is listening and answers its questions.
 *
 * @param server - A listening server (for fastify, `app.server`).
 */
export function announce(server: Server): void {
  const { port } = server.address() as AddressInfo;
  listen();
  send({ type: 'ready', port });
}

function listen(): void {
  process.on('message', (message: ParentMessage) => {
    if (message.type === 'cpu') {
      const usage = process.cpuUsage();
      send({ type: 'cpu', micros: usage.user + usage.system });
    } else if (message.type === 'exit') {
      process.exit(0);
    }
  });
  process.on('disconnect', () => process.exit(0));
}

function send(message: ChildMessage): void {
  process.send!(message);
}

/**
 * The session every server keeps, kit-session's and the peers' alike: what an app keeps
 * once someone has logged in. `small` is 200 bytes of JSON, `large` 1,024 (with `n` of
 * one digit; `SESSION_BYTES` below). The size comes from the environment variable
 * `BENCH_SESSION` (`small`, the default, or `large`), which the harness sets from
 * `--session=`.
 */
export interface BenchSession {
  userId: string;
  roles: string[];
  csrf: string;
  flash: string;
  /** Only in the `large` session: what an app keeps beside (preferences, recent pages). */
  prefs?: { locale: string; theme: string; timezone: string; recent: string[] };
  /** The counter: `GET /incr` adds one, `GET /` reads it. */
  n: number;
}

/** Which session the servers of this run keep. */
export const SESSION_SIZE: 'small' | 'large' = process.env.BENCH_SESSION === 'large' ? 'large' : 'small';

/**
 * A new session, as a log-in writes it: a random user id and CSRF token (so that every
 * session of a pool differs, as users do), the same length every time, `n` = 0.
 *
 * @returns The session's values, without `n` set by the caller yet.
 */
export function newSession(): BenchSession {
  const session: BenchSession = {
    userId: `user_${randomBytes(18).toString('base64url')}`,
    roles: ['member', 'editors', 'billing:read'],
    csrf: randomBytes(32).toString('base64url'),
    flash: 'Your changes to the project plan were saved.',
    n: 0,
  };
  if (SESSION_SIZE === 'large') {
    session.prefs = {
      locale: 'en-GB',
      theme: 'dark',
      timezone: 'America/Los_Angeles',
      recent: Array.from({ length: 18 }, (_, i) => `/projects/${randomBytes(6).toString('base64url')}/tasks/${1000 + i}/comments`),
    };
  }
  return session;
}

/** The bytes of `JSON.stringify` of a session of this run, `n` of one digit. */
export const SESSION_BYTES = JSON.stringify({ ...newSession(), n: 1 }).length;

/** The small JSON body every server answers with. */
export function body(n: number): string {
  return JSON.stringify({ ok: true, n });
}

/** The Redis the store servers use. */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** How long a session of a store server lives, so that its keys go away after the run. */
export const STORE_LIFETIME_MS = 60 * 60 * 1000;
