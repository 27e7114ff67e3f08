import type { ServerResponse } from 'node:http';
import type { Context } from '../../core/Context.js';
import { SessionHeadersSentError } from '../../core/SessionError.js';
import type { SessionManager } from '../../core/SessionManager.js';
import { PendingHeaders } from '../../core/headers.js';
import { nodeHeaderTarget } from './http.js';
import { SessionHandle } from '../SessionHandle.js';

/** Handles whose latest commit failed (a cookie too large, a store failure). */
const failedCommits = new WeakSet<object>();

/**
 * @internal Tells whether a handle's latest commit failed, so that its unsaved changes
 * are the error path's business rather than a forgotten commit.
 *
 * @param session - A handle.
 * @returns `true` when the latest `commit()` rejected.
 */
export function commitFailed(session: object): boolean {
  return failedCommits.has(session);
}

/**
 * A {@link SessionHandle} bound to a node:http `ServerResponse` (Express's `res` is
 * one), with {@link NodeSession.commit} to save the session before the handler writes
 * the response head itself.
 *
 * node:http has no event before the head goes out, and `writeHead` is synchronous
 * while saving a session is not, so there is no moment at which an adapter could save
 * on its own without patching `res.writeHead`/`res.end` (which kit-session does not
 * do). The save point is therefore explicit: `await session.commit()`, then write.
 * Changing the session once the head is out throws a `SessionHeadersSentError`.
 *
 * @typeParam T - The shape of the session's values.
 * @example
 * ```ts
 * session.set('visits', (session.get('visits') ?? 0) + 1);
 * await session.commit();
 * res.writeHead(200, { 'content-type': 'text/plain' });
 * stream.pipe(res);
 * ```
 */
export class NodeSession<T extends object = Record<string, unknown>> extends SessionHandle<T> {
  readonly #response: ServerResponse;
  #saving: Promise<void> = Promise.resolve();

  /**
   * Adapters build handles; an app needs to only when it writes an adapter of its own.
   *
   * @param manager - The manager that loaded the session.
   * @param context - A context from `manager.extractSession`.
   * @param response - The response the session's headers go into.
   */
  constructor(manager: SessionManager<T>, context: Context, response: ServerResponse) {
    super(manager, context, () => response.headersSent);
    this.#response = response;
  }

  /**
   * Saves what changed and adds the session's headers (`Set-Cookie`, `Vary: Cookie`,
   * `Cache-Control: private`) to the response, merged with the ones the app has set.
   * An unchanged session costs nothing. Await it before writing the head
   * (`writeHead`, `write`, `end`, `res.send`, …); it can be called again after
   * further changes, and the response then carries only the last cookie.
   *
   * @returns When the session is saved and its headers are set.
   * @throws SessionCookieTooLargeError when the cookie would be too large for a
   *   browser; the response is left as it was.
   * @throws SessionStoreError when the store's infrastructure fails.
   * @throws SessionHeadersSentError when the response head went out before
   *   the session's headers could be added, so its changes cannot reach the browser.
   * @example
   * ```ts
   * session.renew();
   * session.set('userId', user.id);
   * await session.commit();
   * res.writeHead(303, { location: '/' }).end();
   * ```
   */
  commit(): Promise<void> {
    const run = this.#saving.then(() => this.#save()).then(
      () => {
        failedCommits.delete(this);
      },
      (error: unknown) => {
        failedCommits.add(this);
        throw error;
      },
    );
    this.#saving = run.catch(() => undefined);
    return run;
  }

  async #save(): Promise<void> {
    const response = this.#response;
    if (response.headersSent) {
      if (this.isModified) {
        throw new SessionHeadersSentError(
          'the response head was sent before the session was saved, so its changes are lost: ' +
            'await session.commit() before writing the response',
        );
      }
      return;
    }
    const pending = new PendingHeaders();
    await this.manager.injectSession(this.context, pending);
    if (pending.isEmpty) {
      return;
    }
    if (response.headersSent) {
      throw new SessionHeadersSentError(
        'the response head was sent while the session was being saved, so its cookie is lost: ' +
          'await session.commit() before writing the response',
      );
    }
    pending.applyTo(nodeHeaderTarget(response));
  }
}

