// The telemetry a request benchmark's manager is given (`--telemetry`), to count what
// kit-session/otel costs: `none` (the option left out: nothing of OpenTelemetry loaded),
// `api` (`@opentelemetry/api` with no SDK registered: its no-op tracer and meter), `sdk`
// (the SDK as an app runs it: an AsyncLocalStorage context manager, a tracer provider
// whose batch processor hands spans to an exporter that drops them, a meter provider with
// a reader); `sdk-traces` and `sdk-metrics` the same with `metrics: false` or
// `traces: false`, to tell the two apart. Every timer of the SDK is set past the run, so an instruction count stays
// deterministic: the batch processor exports when 512 spans are queued, never on a clock.
// See bench/README.md, "Telemetry, counted".

import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { SessionTelemetry } from 'kit-session';

/** What `--telemetry` takes. */
export type TelemetryMode = 'none' | 'api' | 'sdk' | 'sdk-traces' | 'sdk-metrics';

/**
 * Reads `--telemetry`.
 *
 * @param value - What was given.
 * @returns The mode.
 * @throws TypeError for anything else than `none`, `api`, `sdk`, `sdk-traces` or `sdk-metrics`.
 */
export function telemetryMode(value: string): TelemetryMode {
  if (value !== 'none' && value !== 'api' && value !== 'sdk' && value !== 'sdk-traces' && value !== 'sdk-metrics') {
    throw new TypeError('--telemetry takes none, api, sdk, sdk-traces or sdk-metrics');
  }
  return value;
}

/** Set once per process: the SDK's global context manager. */
let contextManagerSet = false;

/**
 * The `telemetry` option of a benchmark's manager.
 *
 * @param mode - Which telemetry.
 * @param dir - The `--lib` folder, or `undefined` for this checkout's `kit-session`.
 * @returns The option's value, or `undefined` for `none`.
 */
export async function benchTelemetry(mode: TelemetryMode, dir: string | undefined): Promise<SessionTelemetry | undefined> {
  if (mode === 'none') {
    return undefined;
  }
  const otel = (await import(
    dir === undefined ? 'kit-session/otel' : pathToFileURL(resolve(dir, 'otel', 'index.js')).href
  )) as typeof import('kit-session/otel');
  if (mode === 'api') {
    return new otel.SessionOpenTelemetry();
  }
  const { context } = await import('@opentelemetry/api');
  const { AsyncLocalStorageContextManager } = await import('@opentelemetry/context-async-hooks');
  const { BasicTracerProvider, BatchSpanProcessor } = await import('@opentelemetry/sdk-trace-base');
  const { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } = await import(
    '@opentelemetry/sdk-metrics'
  );
  if (!contextManagerSet) {
    contextManagerSet = true;
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  }
  const NEVER = 2_000_000_000;
  const dropAll = {
    export: (_spans: unknown[], done: (result: { code: 0 }) => void) => done({ code: 0 }),
    shutdown: () => Promise.resolve(),
  };
  const tracerProvider = new BasicTracerProvider({
    spanProcessors: [new BatchSpanProcessor(dropAll, { scheduledDelayMillis: NEVER, maxExportBatchSize: 512, maxQueueSize: 2048 })],
  });
  const meterProvider = new MeterProvider({
    readers: [
      new PeriodicExportingMetricReader({
        exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE),
        exportIntervalMillis: NEVER,
        exportTimeoutMillis: NEVER - 1,
      }),
    ],
  });
  return new otel.SessionOpenTelemetry({
    tracerProvider,
    meterProvider,
    traces: mode !== 'sdk-metrics',
    metrics: mode !== 'sdk-traces',
  });
}
