// Session events (core): reports what happened to sessions to the manager's `onEvent`
// hook, naming each session by its handle (the SHA-256 of its id), never by its id, and
// to its telemetry (the type and reason alone).
import type { Clock } from '../Clock.js';
import type { SessionEvent, SessionEventReason, SessionEventType } from '../events.js';
import { hashId } from '../sessionHandle.js';
import type { SessionStatus } from '../Session.js';
import type { SessionTelemetryHooks } from '../SessionTelemetry.js';

/**
 * @internal One manager's reporter of session events: a no-op without a listener or
 * telemetry.
 */
export class SessionEvents {
  readonly #listener: ((event: SessionEvent) => unknown) | undefined;
  readonly #clock: Clock;
  readonly #telemetry: SessionTelemetryHooks | undefined;
  /** Whether anyone listens: a caller can skip the work of building a report. */
  readonly listening: boolean;

  /**
   * @param listener - The manager's `onEvent` hook, if any.
   * @param clock - The source of the events' times.
   * @param telemetry - The manager's telemetry hooks, if any.
   */
  constructor(listener: ((event: SessionEvent) => unknown) | undefined, clock: Clock, telemetry?: SessionTelemetryHooks) {
    this.#listener = listener;
    this.#clock = clock;
    this.#telemetry = telemetry;
    this.listening = listener !== undefined || telemetry !== undefined;
  }

  /**
   * Reports an event about a session known by its handle.
   *
   * @param type - What happened.
   * @param reason - Why.
   * @param handle - The session's handle, or `undefined` when it is not known.
   * @param owner - The session's owner, if any.
   */
  emit(type: SessionEventType, reason: SessionEventReason, handle: string | undefined, owner: string | undefined): void {
    this.#telemetry?.event(type, reason);
    this.#deliver(type, reason, handle, owner);
  }

  /** Gives an event to the `onEvent` listener, if any. */
  #deliver(type: SessionEventType, reason: SessionEventReason, handle: string | undefined, owner: string | undefined): void {
    const listener = this.#listener;
    if (listener === undefined) {
      return;
    }
    try {
      const result = listener({ type, reason, handle, owner, at: new Date(this.#clock.now()) });
      if (typeof (result as PromiseLike<unknown> | undefined)?.then === 'function') {
        // An async hook that rejects is ignored as one that throws is: never an
        // unhandled rejection (which Node answers by exiting).
        (result as PromiseLike<unknown>).then(undefined, IGNORE);
      }
    } catch {
      // An audit hook that throws must not fail the request.
    }
  }

  /**
   * Reports an event about a session known by its id (hashed here; '' when the store
   * keeps none).
   *
   * @param type - What happened.
   * @param reason - Why.
   * @param id - The session's id.
   * @param owner - The session's owner, if any.
   */
  emitFor(type: SessionEventType, reason: SessionEventReason, id: string, owner: string | undefined): void {
    this.#telemetry?.event(type, reason);
    if (this.#listener === undefined) {
      // Telemetry alone: no handle to hash.
      return;
    }
    if (id === '') {
      this.#deliver(type, reason, undefined, owner);
      return;
    }
    const handle = hashId(id);
    if (typeof handle === 'string') {
      this.#deliver(type, reason, handle, owner);
    } else {
      handle.then(
        (hash) => this.#deliver(type, reason, hash, owner),
        () => this.#deliver(type, reason, undefined, owner),
      );
    }
  }

  /**
   * Reports what a save did: created, renewed, destroyed.
   *
   * @param save - What the save found and did.
   */
  reportSave(save: SaveReport): void {
    const { status, id, retired, renewal, loaded, wasStored, sent, owner, ended, adopted } = save;
    if (status === 'destroyed') {
      if (retired.length === 0 && loaded) {
        this.emit('destroyed', 'request', undefined, ended);
      }
      for (const retiredId of retired) {
        this.emitFor('destroyed', 'request', retiredId, ended);
      }
      return;
    }
    if (!sent) {
      return;
    }
    if (renewal !== undefined && loaded) {
      this.emitFor('renewed', renewal, id, owner);
      return;
    }
    for (const retiredId of retired) {
      // Destroyed, then set again: the old session ended, a new one begins.
      this.emitFor('destroyed', 'request', retiredId, ended);
    }
    if (!wasStored && !loaded) {
      this.emitFor('created', adopted ? 'adopted' : 'request', id, owner);
    }
  }
}

/** @internal What a save found and did, for {@link SessionEvents.reportSave}. */
export interface SaveReport {
  /** The session's status before the save's own transitions. */
  readonly status: SessionStatus;
  /** The session's id after the save. */
  readonly id: string;
  /** The ids the save deleted. */
  readonly retired: readonly string[];
  /** How the id was renewed in the request, if it was. */
  readonly renewal: 'request' | 'interval' | undefined;
  /** Whether the session existed before the request. */
  readonly loaded: boolean;
  /** Whether the store held it before the save. */
  readonly wasStored: boolean;
  /** Whether the save wrote it. */
  readonly sent: boolean;
  /** Its owner now. */
  readonly owner: string | undefined;
  /** The owner of the session it ended, if it ended one. */
  readonly ended: string | undefined;
  /** Whether the session was adopted from another library's in this request. */
  readonly adopted: boolean;
}

const IGNORE = (): void => {};
