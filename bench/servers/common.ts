// What every benchmark server shares: it is started by bench/lib/httpBench.ts with
// child_process.fork, tells its port over IPC once it listens, reports its own CPU
// time when asked (so the parent can work out CPU per request), and exits when the
// parent goes away.

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

/** The small JSON body every server answers with. */
export function body(n: number): string {
  return JSON.stringify({ ok: true, n });
}

/** The Redis the store servers use. */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** How long a session of a store server lives, so that its keys go away after the run. */
export const STORE_LIFETIME_MS = 60 * 60 * 1000;
