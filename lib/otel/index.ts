// kit-session/otel: metrics and traces of sessions through OpenTelemetry, for the manager's
// `telemetry` option. Needs `@opentelemetry/api` (an optional peer dependency).
export type { SessionOpenTelemetryOptions } from './SessionOpenTelemetry.js';
export { errorType, INSTRUMENTATION_SCOPE, SessionOpenTelemetry, storeName } from './SessionOpenTelemetry.js';
export {
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
