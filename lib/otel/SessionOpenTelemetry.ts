// kit-session/otel: metrics and traces of sessions through OpenTelemetry. `@opentelemetry/api`
// is an optional peer dependency that only this subpath imports: a manager built without
// the `telemetry` option loads none of it and calls no hook.
import {
  context,
  metrics,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Counter,
  type Histogram,
  type MeterProvider,
  type Span,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';
import type { SessionEventReason, SessionEventType } from '../core/events.js';
import { booleanOption, checkOptionKeys } from '../core/options.js';
import { isSessionStore, type SessionStore } from '../core/SessionStore.js';
import type {
  SessionLoadOutcome,
  SessionOperationProbe,
  SessionSaveOutcome,
  SessionStoreOperation,
  SessionTelemetry,
  SessionTelemetryHooks,
  SessionTelemetryTarget,
} from '../core/SessionTelemetry.js';
import {
  ATTR_ERROR_TYPE,
  ATTR_KIT_SESSION_NAME,
  ATTR_KIT_SESSION_OPERATION,
  ATTR_KIT_SESSION_OUTCOME,
  ATTR_KIT_SESSION_REASON,
  ATTR_KIT_SESSION_STORE,
  ATTR_KIT_SESSION_STORE_OPERATION,
  METRIC_KIT_SESSION_ERRORS,
  METRIC_KIT_SESSION_EVICTIONS,
  METRIC_KIT_SESSION_LOADS,
  METRIC_KIT_SESSION_REVOCATIONS,
  METRIC_KIT_SESSION_SAVES,
  METRIC_KIT_SESSION_STORE_DURATION,
  SPAN_KIT_SESSION_LOAD,
  SPAN_KIT_SESSION_SAVE,
  STORE_DURATION_BUCKETS,
} from './semconv.js';

/** The instrumentation scope of the tracer and the meter. */
export const INSTRUMENTATION_SCOPE = 'kit-session';

/**
 * Options of {@link SessionOpenTelemetry}.
 */
export interface SessionOpenTelemetryOptions {
  /**
   * Where spans go.
   * @default the global tracer provider (`trace.getTracerProvider()`: the SDK's once registered)
   */
  readonly tracerProvider?: TracerProvider;
  /**
   * Where metrics go. Instruments are made when the first manager is built: register
   * the SDK's global meter provider before that, or pass it here.
   * @default the global meter provider (`metrics.getMeterProvider()`)
   */
  readonly meterProvider?: MeterProvider;
  /**
   * The store's name in `kit_session.store`.
   * @default the class of the manager's store, less `SessionStore` and lower-cased
   *   (`cookie`, `memory`, `redis`, `postgres`), through an `EncryptingStoreDecorator`
   */
  readonly store?: string;
  /**
   * Whether to make a span per load and per save.
   * @default true
   */
  readonly traces?: boolean;
  /**
   * Whether to record the counters and the store-duration histogram.
   * @default true
   */
  readonly metrics?: boolean;
}

const OPTIONS = ['tracerProvider', 'meterProvider', 'store', 'traces', 'metrics'] as const satisfies readonly (keyof SessionOpenTelemetryOptions)[];

/** The instruments one {@link SessionOpenTelemetry} records to. */
interface Instruments {
  readonly loads: Counter;
  readonly saves: Counter;
  readonly errors: Counter;
  readonly storeDuration: Histogram;
  readonly revocations: Counter;
  readonly evictions: Counter;
}

/**
 * Metrics and traces of a manager's sessions through OpenTelemetry, for the manager's
 * `telemetry` option: a span per load and per save (`kit_session.load`,
 * `kit_session.save`) with the store and the outcome; counters of loads, saves, errors by
 * code, revocations and evictions; a histogram of the store's calls. No attribute holds a
 * token, a session id, a handle, an owner or a value. See docs/telemetry.md.
 *
 * @example
 * ```ts
 * import { SessionManager } from 'kit-session';
 * import { SessionOpenTelemetry } from 'kit-session/otel';
 *
 * // after the OpenTelemetry SDK is started (NodeSDK, or providers registered by hand)
 * const manager = new SessionManager(store, { telemetry: new SessionOpenTelemetry() });
 * ```
 */
export class SessionOpenTelemetry implements SessionTelemetry {
  readonly #tracerProvider: TracerProvider | undefined;
  readonly #meterProvider: MeterProvider | undefined;
  readonly #store: string | undefined;
  readonly #traces: boolean;
  readonly #metrics: boolean;
  #instruments: Instruments | undefined;

  /**
   * @param options - Providers, the store's name, and what to record.
   * @throws TypeError when an option is unknown or of the wrong type.
   */
  constructor(options: SessionOpenTelemetryOptions = {}) {
    checkOptionKeys('SessionOpenTelemetry options', options, OPTIONS);
    const { tracerProvider, meterProvider, store } = options;
    if (tracerProvider !== undefined && typeof tracerProvider?.getTracer !== 'function') {
      throw new TypeError('tracerProvider must be an OpenTelemetry TracerProvider');
    }
    if (meterProvider !== undefined && typeof meterProvider?.getMeter !== 'function') {
      throw new TypeError('meterProvider must be an OpenTelemetry MeterProvider');
    }
    if (store !== undefined && (typeof store !== 'string' || store === '')) {
      throw new TypeError('store must be a non-empty string');
    }
    this.#tracerProvider = tracerProvider;
    this.#meterProvider = meterProvider;
    this.#store = store;
    this.#traces = booleanOption('traces', options.traces, true);
    this.#metrics = booleanOption('metrics', options.metrics, true);
  }

  /**
   * Called by each manager given this telemetry, when it is built (see
   * `SessionTelemetry.attach`).
   *
   * @param target - The manager's name and store.
   * @returns The hooks that manager calls.
   * @example
   * ```ts
   * new SessionManager(store, { telemetry }); // calls telemetry.attach({ name, store })
   * ```
   */
  attach(target: SessionTelemetryTarget): SessionTelemetryHooks {
    const tracer = this.#traces ? (this.#tracerProvider ?? trace.getTracerProvider()).getTracer(INSTRUMENTATION_SCOPE) : undefined;
    const instruments = this.#metrics ? (this.#instruments ??= this.#createInstruments()) : undefined;
    return new ManagerTelemetry(target.name, this.#store ?? storeName(target.store), tracer, instruments);
  }

  #createInstruments(): Instruments {
    const meter = (this.#meterProvider ?? metrics.getMeterProvider()).getMeter(INSTRUMENTATION_SCOPE);
    return {
      loads: meter.createCounter(METRIC_KIT_SESSION_LOADS, { description: 'Session loads, by outcome.', unit: '{load}' }),
      saves: meter.createCounter(METRIC_KIT_SESSION_SAVES, { description: 'Session saves, by outcome.', unit: '{save}' }),
      errors: meter.createCounter(METRIC_KIT_SESSION_ERRORS, {
        description: 'Session loads and saves that failed, by error.type.',
        unit: '{error}',
      }),
      storeDuration: meter.createHistogram(METRIC_KIT_SESSION_STORE_DURATION, {
        description: "Duration of the session store's calls.",
        unit: 's',
        advice: { explicitBucketBoundaries: [...STORE_DURATION_BUCKETS] },
      }),
      revocations: meter.createCounter(METRIC_KIT_SESSION_REVOCATIONS, {
        description: "Sealed sessions refused because their owner's generation moved past them.",
        unit: '{session}',
      }),
      evictions: meter.createCounter(METRIC_KIT_SESSION_EVICTIONS, {
        description: 'Sessions ended by maxSessionsPerOwner to make room for a new one.',
        unit: '{session}',
      }),
    };
  }
}

/**
 * The name of a store for `kit_session.store`: its class's, less `SessionStore` (or
 * `Store`), lower-cased; an `EncryptingStoreDecorator` names the store it wraps.
 *
 * @param store - The manager's store.
 * @returns `cookie`, `memory`, `redis`, `postgres`, …, or `custom` for a store that is no
 *   class's instance.
 * @example
 * ```ts
 * storeName(new EncryptingStoreDecorator(new RedisSessionStore(client), { keys })); // 'redis'
 * ```
 */
export function storeName(store: SessionStore<unknown>): string {
  const inner = (store as { readonly inner?: unknown }).inner;
  const named = isSessionStore(inner) ? inner : store;
  const match = /^(.+?)(?:SessionStore|Store)$/.exec(named.constructor?.name ?? '');
  return match === null ? 'custom' : match[1]!.toLowerCase();
}

/**
 * The `error.type` of an error: a `SessionError`'s code (`ERR_SESSION_STORE`, …), or
 * another error's code (`ECONNREFUSED`) or class name; `_OTHER` for anything else.
 *
 * @param error - What was thrown.
 * @returns Its type, never its message.
 * @example
 * ```ts
 * errorType(new SessionStoreError('session store failed')); // 'ERR_SESSION_STORE'
 * ```
 */
export function errorType(error: unknown): string {
  if (!(error instanceof Error)) {
    return '_OTHER';
  }
  const { code } = error as { readonly code?: unknown };
  return typeof code === 'string' && /^[A-Z][A-Z0-9_]{0,63}$/.test(code) ? code : error.name || '_OTHER';
}

/** The hooks of one manager: its span names, its store's name and the shared instruments. */
class ManagerTelemetry implements SessionTelemetryHooks {
  readonly tracer: Tracer | undefined;
  readonly instruments: Instruments | undefined;
  /** The attributes every span starts with. */
  readonly spanAttributes: Attributes;
  readonly #store: string;
  /** The attribute sets of the counters and the histogram, each made once: by outcome, store operation, reason. */
  readonly #outcomes = new Map<string, Attributes>();
  readonly #storeOperations = new Map<string, Attributes>();
  readonly #reasons = new Map<string, Attributes>();

  constructor(name: string, store: string, tracer: Tracer | undefined, instruments: Instruments | undefined) {
    this.tracer = tracer;
    this.instruments = instruments;
    this.#store = store;
    this.spanAttributes = { [ATTR_KIT_SESSION_STORE]: store, [ATTR_KIT_SESSION_NAME]: name };
  }

  startLoad(): SessionOperationProbe<SessionLoadOutcome> {
    return new OperationProbe(this, 'load', this.tracer?.startSpan(SPAN_KIT_SESSION_LOAD, { kind: SpanKind.INTERNAL, attributes: this.spanAttributes }));
  }

  startSave(): SessionOperationProbe<SessionSaveOutcome> {
    return new OperationProbe(this, 'save', this.tracer?.startSpan(SPAN_KIT_SESSION_SAVE, { kind: SpanKind.INTERNAL, attributes: this.spanAttributes }));
  }

  event(type: SessionEventType, reason: SessionEventReason): void {
    const instruments = this.instruments;
    if (instruments === undefined) {
      return;
    }
    if (type === 'revoked') {
      instruments.revocations.add(1, this.#eventAttributes(reason));
    } else if (type === 'evicted') {
      instruments.evictions.add(1, this.#eventAttributes(reason));
    }
  }

  /** Records how a load or save ended. */
  ended(operation: 'load' | 'save', outcome: string, error: unknown): void {
    const instruments = this.instruments;
    if (instruments === undefined) {
      return;
    }
    (operation === 'load' ? instruments.loads : instruments.saves).add(1, this.#outcomeAttributes(outcome));
    if (outcome === 'error') {
      instruments.errors.add(1, {
        [ATTR_KIT_SESSION_STORE]: this.#store,
        [ATTR_KIT_SESSION_OPERATION]: operation,
        [ATTR_ERROR_TYPE]: errorType(error),
      });
    }
  }

  /** Records one store call's duration, from `started` (a `performance.now()`). */
  storeCalled(operation: SessionStoreOperation, started: number, error: unknown): void {
    const seconds = (performance.now() - started) / 1000;
    const attributes =
      error === undefined
        ? this.#storeAttributes(operation)
        : { [ATTR_KIT_SESSION_STORE]: this.#store, [ATTR_KIT_SESSION_STORE_OPERATION]: operation, [ATTR_ERROR_TYPE]: errorType(error) };
    this.instruments!.storeDuration.record(seconds, attributes);
  }

  #outcomeAttributes(outcome: string): Attributes {
    return this.#outcomes.get(outcome) ?? this.#remember(this.#outcomes, ATTR_KIT_SESSION_OUTCOME, outcome);
  }

  #storeAttributes(operation: SessionStoreOperation): Attributes {
    return this.#storeOperations.get(operation) ?? this.#remember(this.#storeOperations, ATTR_KIT_SESSION_STORE_OPERATION, operation);
  }

  #eventAttributes(reason: SessionEventReason): Attributes {
    return this.#reasons.get(reason) ?? this.#remember(this.#reasons, ATTR_KIT_SESSION_REASON, reason);
  }

  /** Makes the attribute set of the store and one more attribute, and keeps it by that attribute's value. */
  #remember(cache: Map<string, Attributes>, key: string, value: string): Attributes {
    const attributes = Object.freeze({ [ATTR_KIT_SESSION_STORE]: this.#store, [key]: value });
    cache.set(value, attributes);
    return attributes;
  }
}

/** One load or save in flight: its span, its store calls, its end. */
class OperationProbe<O extends string> implements SessionOperationProbe<O> {
  readonly #manager: ManagerTelemetry;
  readonly #operation: 'load' | 'save';
  readonly #span: Span | undefined;
  #ended = false;

  constructor(manager: ManagerTelemetry, operation: 'load' | 'save', span: Span | undefined) {
    this.#manager = manager;
    this.#operation = operation;
    this.#span = span;
  }

  callStore<R>(operation: SessionStoreOperation, call: () => R): R {
    const manager = this.#manager;
    const span = this.#span;
    const timed = manager.instruments !== undefined;
    const started = timed ? performance.now() : 0;
    let result: R;
    try {
      // Within the span's context: a span the store's client makes (Redis, PostgreSQL) is its child.
      result = span === undefined ? call() : context.with(trace.setSpan(context.active(), span), call);
    } catch (error) {
      if (timed) {
        manager.storeCalled(operation, started, error);
      }
      throw error;
    }
    if (timed) {
      if (isPromiseLike(result)) {
        result.then(
          () => manager.storeCalled(operation, started, undefined),
          (error: unknown) => manager.storeCalled(operation, started, error),
        );
      } else {
        manager.storeCalled(operation, started, undefined);
      }
    }
    return result;
  }

  end(outcome: O, error?: unknown): void {
    if (this.#ended) {
      return;
    }
    this.#ended = true;
    this.#manager.ended(this.#operation, outcome, error);
    const span = this.#span;
    if (span === undefined) {
      return;
    }
    span.setAttribute(ATTR_KIT_SESSION_OUTCOME, outcome);
    if (outcome === 'error') {
      const type = errorType(error);
      span.setAttribute(ATTR_ERROR_TYPE, type);
      span.setStatus({ code: SpanStatusCode.ERROR, message: type });
      if (error instanceof Error) {
        // A SessionError's message and its stack hold no token, key or value.
        span.recordException(error);
      }
    }
    span.end();
  }
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}
