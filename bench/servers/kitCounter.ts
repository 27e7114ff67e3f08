// The counter every kit-session server on node:http runs, used like an app would,
// through the core (`fromNodeRequest`/`fromNodeResponse`): GET /incr adds one to a
// counter in the session (a write on every request); GET / reads the counter and
// changes nothing.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Context, fromNodeRequest, fromNodeResponse, type SessionManager } from 'kit-session';
import { body } from './common.js';

/** The session's values in every benchmark server. */
export interface CounterValues {
  n: number;
}

/**
 * A node:http request listener that runs the counter on a manager.
 *
 * @param manager - The session manager, on any store.
 * @returns The listener.
 */
export function kitCounter(manager: SessionManager<CounterValues>) {
  return async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    try {
      const context = await manager.extractSession(Context.background, fromNodeRequest(request));
      let n = manager.getValue(context, 'n') ?? 0;
      if (request.url === '/incr') {
        n += 1;
        manager.setValue(context, 'n', n);
      }
      await manager.injectSession(context, fromNodeResponse(response));
      response.setHeader('content-type', 'application/json');
      response.end(body(n));
    } catch {
      response.statusCode = 500;
      response.end();
    }
  };
}
