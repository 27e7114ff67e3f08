// kit-session/otel: the names of the spans, metrics and attributes, in OpenTelemetry's
// semantic-convention style (a `kit_session.` namespace; `error.type` is OpenTelemetry's own).

/** The span of one load (`SessionManager.extractSession`). */
export const SPAN_KIT_SESSION_LOAD = 'kit_session.load';
/** The span of one save (`SessionManager.injectSession`). */
export const SPAN_KIT_SESSION_SAVE = 'kit_session.save';

/** Counter of loads, by store and outcome (`{load}`). */
export const METRIC_KIT_SESSION_LOADS = 'kit_session.loads';
/** Counter of saves, by store and outcome (`{save}`). */
export const METRIC_KIT_SESSION_SAVES = 'kit_session.saves';
/** Counter of loads and saves that threw, by store, operation and `error.type` (`{error}`). */
export const METRIC_KIT_SESSION_ERRORS = 'kit_session.errors';
/** Histogram of the store's calls, in seconds, by store and store operation (and `error.type` when one failed). */
export const METRIC_KIT_SESSION_STORE_DURATION = 'kit_session.store.duration';
/** Counter of sealed cookies refused because their owner's generation moved past them (`{session}`). */
export const METRIC_KIT_SESSION_REVOCATIONS = 'kit_session.revocations';
/** Counter of sessions ended by `maxSessionsPerOwner` to make room for a new one (`{session}`). */
export const METRIC_KIT_SESSION_EVICTIONS = 'kit_session.evictions';

/** The store: `cookie`, `memory`, `redis`, `postgres`, or the name given. */
export const ATTR_KIT_SESSION_STORE = 'kit_session.store';
/** How a load or save ended: a `SessionLoadOutcome` or `SessionSaveOutcome`. */
export const ATTR_KIT_SESSION_OUTCOME = 'kit_session.outcome';
/** Which operation threw, on `kit_session.errors`: `load` or `save`. */
export const ATTR_KIT_SESSION_OPERATION = 'kit_session.operation';
/** The store method timed, on `kit_session.store.duration`: `getSession`, `setSession`, `patchSession`, `renewSession`, `deleteSession`. */
export const ATTR_KIT_SESSION_STORE_OPERATION = 'kit_session.store.operation';
/** The manager's name (its cookie's name), on spans. */
export const ATTR_KIT_SESSION_NAME = 'kit_session.name';
/** Why an event happened, on the revocation and eviction counters (`generation`, `limit`). */
export const ATTR_KIT_SESSION_REASON = 'kit_session.reason';
/** OpenTelemetry's `error.type`: a `SessionError`'s code (`ERR_SESSION_STORE`, …), another error's code or class name. */
export const ATTR_ERROR_TYPE = 'error.type';

/**
 * The histogram's bucket boundaries, in seconds: 50 µs (a cookie opened in process) to
 * 5 s (a store's timeout). OpenTelemetry's default boundaries are for milliseconds and
 * would put every call in the first bucket.
 */
export const STORE_DURATION_BUCKETS: readonly number[] = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
];
