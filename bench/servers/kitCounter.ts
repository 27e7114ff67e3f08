// The counter every kit-session server runs, on the realistic session of common.ts
// (`BenchSession`), through the session handle an adapter gives the route:
// - GET /incr: a fresh session is filled as a log-in would (every value), then the
//   counter goes up: a write on every request;
// - GET /: reads the counter, changes nothing;
// - GET /untouched: never touches the session (the adapter's cost alone).
// `kitCounter` is the node:http server of it, written as the README shows
// (`withSession` of kit-session/node).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Session, SessionManager } from 'kit-session';
import { withSession } from 'kit-session/node';
import { body, newSession, type BenchSession } from './common.js';

/**
 * `GET /incr`: fills a fresh session, adds one to the counter.
 *
 * @param session - The request's session.
 * @returns The new counter.
 */
export function incr(session: Session<BenchSession>): number {
  if (session.get('userId') === undefined) {
    const values = newSession();
    for (const key of Object.keys(values) as (keyof BenchSession)[]) {
      session.set(key, values[key]!);
    }
  }
  const n = (session.get('n') ?? 0) + 1;
  session.set('n', n);
  return n;
}

/**
 * `GET /`: the counter, nothing changed.
 *
 * @param session - The request's session.
 * @returns The counter, 0 without a session.
 */
export function read(session: Session<BenchSession>): number {
  return session.get('n') ?? 0;
}

/**
 * The node:http server of the counter on a manager, as the README writes one.
 *
 * @param manager - The session manager, on any store.
 * @returns The request listener.
 */
export function kitCounter(manager: SessionManager<BenchSession>): (request: IncomingMessage, response: ServerResponse) => void {
  return withSession(manager, (request, response, session) => {
    response.setHeader('content-type', 'application/json');
    return body(request.url === '/incr' ? incr(session) : request.url === '/untouched' ? 0 : read(session));
  });
}
