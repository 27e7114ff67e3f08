import type { Attributes } from '@opentelemetry/api';
import {
  AggregationTemporality,
  DataPointType,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { SessionOpenTelemetry, type SessionOpenTelemetryOptions } from 'kit-session/otel';

/** One data point of a metric, as the in-memory exporter gave it: a counter's sum, or a histogram's count and sum. */
export interface Point {
  readonly attributes: Attributes;
  /** A counter's value, or a histogram's count. */
  readonly value: number;
  /** A histogram's sum (seconds), when the metric is a histogram. */
  readonly sum?: number;
}

/**
 * The OpenTelemetry SDK with its in-memory exporters, and a `SessionOpenTelemetry` that
 * reports to it: spans through a simple processor (each ended span at once), metrics
 * through a reader that exports only when the test asks (cumulative).
 */
export class TelemetryFixture {
  readonly spanExporter = new InMemorySpanExporter();
  readonly metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  readonly tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(this.spanExporter)] });
  readonly reader = new PeriodicExportingMetricReader({ exporter: this.metricExporter, exportIntervalMillis: 2_000_000_000 });
  readonly meterProvider = new MeterProvider({ readers: [this.reader] });
  readonly telemetry: SessionOpenTelemetry;

  constructor(options: Omit<SessionOpenTelemetryOptions, 'tracerProvider' | 'meterProvider'> = {}) {
    this.telemetry = new SessionOpenTelemetry({ ...options, tracerProvider: this.tracerProvider, meterProvider: this.meterProvider });
  }

  /** The spans ended so far. */
  spans(): ReadableSpan[] {
    return this.spanExporter.getFinishedSpans();
  }

  /** The spans ended so far, as name and attributes. */
  spanSummaries(): { name: string; attributes: Attributes }[] {
    return this.spans().map((span) => ({ name: span.name, attributes: { ...span.attributes } }));
  }

  /** Exports the metrics now, and gives the points of one metric (the latest export). */
  async points(name: string): Promise<Point[]> {
    this.metricExporter.reset();
    await this.reader.forceFlush();
    const metric = this.metricExporter
      .getMetrics()
      .flatMap((resource) => resource.scopeMetrics)
      .flatMap((scope) => scope.metrics)
      .find((candidate) => candidate.descriptor.name === name);
    if (metric === undefined) {
      return [];
    }
    return metric.dataPoints.map((point) => {
      if (metric.dataPointType === DataPointType.HISTOGRAM) {
        const histogram = point.value as { count: number; sum?: number };
        return { attributes: point.attributes, value: histogram.count, sum: histogram.sum ?? 0 };
      }
      return { attributes: point.attributes, value: point.value as number };
    });
  }

  /** Exports the metrics now, and gives a counter's values keyed by one attribute (`outcome` → count). */
  async countsBy(name: string, attribute: string): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const point of await this.points(name)) {
      const key = String(point.attributes[attribute]);
      counts[key] = (counts[key] ?? 0) + point.value;
    }
    return counts;
  }

  /** Every attribute value of every span and data point exported so far, as text. */
  async everyAttributeValue(): Promise<string[]> {
    this.metricExporter.reset();
    await this.reader.forceFlush();
    const values: unknown[] = this.spans().flatMap((span) => [
      ...Object.values(span.attributes),
      ...span.events.flatMap((event) => Object.values(event.attributes ?? {})),
    ]);
    for (const metric of this.metricExporter.getMetrics().flatMap((resource) => resource.scopeMetrics).flatMap((scope) => scope.metrics)) {
      for (const point of metric.dataPoints) {
        values.push(...Object.values(point.attributes));
      }
    }
    return values.map((value) => String(value));
  }

  async shutdown(): Promise<void> {
    await this.tracerProvider.shutdown();
    await this.meterProvider.shutdown();
  }
}
