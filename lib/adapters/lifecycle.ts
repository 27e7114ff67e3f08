import { Context } from '../core/Context.js';
import { PendingHeaders } from '../core/headers.js';
import type { RequestLike } from '../core/http.js';
import type { Session } from '../core/Session.js';
import { SessionHeadersSentError } from '../core/SessionError.js';
import type { SessionManager } from '../core/SessionManager.js';

/**
 * Where one adapter puts the session's headers: a framework's response, not yet sent.
 *
 * @internal
 */
export interface SessionHeaderSink {
  /** Whether the response head has gone out: headers can no longer be added. */
  headSent(): boolean;
  /** Adds the session's headers to the response, merged with the app's. */
  write(headers: PendingHeaders): void;
}

/**
 * One request's session as every adapter runs it: load it (or defer the load to its
 * first touch, as the manager's `load` option says), hand the handler the
 * {@link Session}, save it (as often as the handler commits, and once at the end),
 * refuse changes once they can no longer be saved, and save nothing for a failed
 * request. Each adapter is the glue from its framework's hooks to these four steps.
 *
 * @internal
 * @typeParam T - The shape of the session's values.
 */
export class SessionLifecycle<T extends object> {
  /** The request's session. */
  readonly session: Session<T>;
  /** The context holding it, for `manager.getValue(context, …)`-style calls. */
  readonly context: Context;
  readonly #manager: SessionManager<T>;
  readonly #sink: SessionHeaderSink;
  #closed = false;
  #failed = false;
  #commitFailed = false;
  /** The latest commit's settling, or `undefined` while no commit has started. */
  #saving: Promise<void> | undefined;

  /**
   * @param manager - The session manager.
   * @param context - A context from `manager.extractSession`.
   * @param sink - Where the session's headers go.
   */
  constructor(manager: SessionManager<T>, context: Context, sink: SessionHeaderSink) {
    this.#manager = manager;
    this.context = context;
    this.#sink = sink;
    this.session = manager.session(context);
    this.session.bindAdapter(
      () => this.#closed || sink.headSent(),
      () => this.commit(),
    );
  }

  /**
   * Starts the request's session: hands it over unloaded, to load on its first touch, when
   * the manager's `load` option says so (then nothing is read, and an untouched session
   * saves nothing and sends no header); else loads it now.
   *
   * @param manager - The session manager.
   * @param request - The request's headers.
   * @param sink - Where the session's headers go.
   * @returns The lifecycle of this request's session, at once when the load is deferred.
   * @throws SessionStoreError when the store's infrastructure fails (a load made now).
   */
  static start<T extends object>(
    manager: SessionManager<T>,
    request: RequestLike,
    sink: SessionHeaderSink,
  ): SessionLifecycle<T> | Promise<SessionLifecycle<T>> {
    if (manager.defersLoad) {
      return new SessionLifecycle(manager, manager.deferSession(Context.background, request), sink);
    }
    return SessionLifecycle.load(manager, request, sink);
  }

  /**
   * Loads the request's session now.
   *
   * @param manager - The session manager.
   * @param request - The request's headers.
   * @param sink - Where the session's headers go.
   * @returns The lifecycle of this request's session.
   * @throws SessionStoreError when the store's infrastructure fails.
   */
  static async load<T extends object>(
    manager: SessionManager<T>,
    request: RequestLike,
    sink: SessionHeaderSink,
  ): Promise<SessionLifecycle<T>> {
    return new SessionLifecycle(manager, await manager.extractSession(Context.background, request), sink);
  }

  /** Whether the request failed (nothing is saved) or its latest commit did. */
  get failed(): boolean {
    return this.#failed || this.#commitFailed;
  }

  /** Marks the request failed: the final save then saves nothing. */
  fail(): void {
    this.#failed = true;
    this.#closed = true;
  }

  /** Refuses further changes: the handler is done, or the head is on its way. */
  close(): void {
    this.#closed = true;
  }

  /**
   * Saves what changed and writes the session's headers to the sink; commits run one
   * after another.
   *
   * @returns When the session is saved and its headers written.
   * @throws SessionHeadersSentError when the head went out before the headers of a
   *   changed session could be written.
   * @throws What `SessionManager.injectSession` throws; the sink is then untouched.
   */
  commit(): Promise<void> {
    const run = (this.#saving ?? Promise.resolve()).then(() => this.#save()).then(
      () => {
        this.#commitFailed = false;
      },
      (error: unknown) => {
        this.#commitFailed = true;
        throw error;
      },
    );
    this.#saving = run.catch(() => undefined);
    return run;
  }

  /**
   * The last save of the request: closes the session, then commits unless the request
   * failed.
   *
   * @returns When the session is saved.
   * @throws What {@link SessionLifecycle.commit} throws.
   */
  finish(): Promise<void> {
    return this.finishIdle() ? Promise.resolve() : this.commit();
  }

  /**
   * The last save of the request, when it has nothing to do: closes the session and
   * tells whether the save is done already (the request failed, or the session is
   * unchanged, not due for a rewrite, and no commit is under way), so an adapter can
   * answer at once, without the commit's promises and the manager's call, which would
   * write no header. Otherwise call {@link SessionLifecycle.finish}.
   *
   * @returns `true` when nothing is left to save.
   */
  finishIdle(): boolean {
    this.#closed = true;
    return this.#failed || (this.#saving === undefined && !this.session.saveDue);
  }

  async #save(): Promise<void> {
    if (!this.session.isLoaded) {
      // Never touched: nothing was read, nothing is saved.
      return;
    }
    if (this.#sink.headSent()) {
      if (this.session.isModified) {
        throw new SessionHeadersSentError(
          'the response head was sent before the session was saved, so its changes are lost: ' +
            'await session.commit() before writing the response',
        );
      }
      return;
    }
    const pending = new PendingHeaders();
    await this.#manager.injectSession(this.context, pending);
    if (pending.isEmpty) {
      return;
    }
    if (this.#sink.headSent()) {
      throw new SessionHeadersSentError(
        'the response head was sent while the session was being saved, so its cookie is lost: ' +
          'await session.commit() before writing the response',
      );
    }
    this.#sink.write(pending);
  }
}
