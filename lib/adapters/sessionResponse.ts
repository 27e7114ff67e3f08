import type { Context } from '../core/Context.js';
import { PendingHeaders, webHeaderTarget } from '../core/headers.js';
import type { SessionManager } from '../core/SessionManager.js';

/**
 * Saves the session and puts its headers on a Fetch API response, merged with the
 * app's. A response's own headers may be immutable (`Response.redirect`, a proxied
 * `fetch`), so they go on a copy; nothing is copied when the session sends no header.
 *
 * @param manager - The session manager.
 * @param context - The request's context, holding the session.
 * @param response - The response the app built.
 * @returns The same response, or a copy with the session's headers.
 * @throws What `SessionManager.injectSession` throws; the response is then untouched.
 */
export async function sessionResponse<T extends object>(
  manager: SessionManager<T>,
  context: Context,
  response: Response,
): Promise<Response> {
  const pending = new PendingHeaders();
  await manager.injectSession(context, pending);
  if (pending.isEmpty) {
    return response;
  }
  const copy = new Response(response.body, response);
  pending.applyTo(webHeaderTarget(copy.headers));
  return copy;
}
