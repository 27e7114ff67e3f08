import { randomBytes } from 'node:crypto';
import { context as otelContext, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  Context,
  CookieSessionStore,
  EncryptingStoreDecorator,
  importRawKey,
  MemoryOwnerGenerations,
  MemorySessionStore,
  SessionCookieTooLargeError,
  SessionManager,
  SessionStoreError,
  type LoadedSessionRecord,
  type SessionManagerOptions,
  type SessionStore,
} from 'kit-session';
import {
  ATTR_ERROR_TYPE,
  ATTR_KIT_SESSION_OPERATION,
  ATTR_KIT_SESSION_OUTCOME,
  ATTR_KIT_SESSION_REASON,
  ATTR_KIT_SESSION_STORE,
  ATTR_KIT_SESSION_STORE_OPERATION,
  errorType,
  METRIC_KIT_SESSION_ERRORS,
  METRIC_KIT_SESSION_EVICTIONS,
  METRIC_KIT_SESSION_LOADS,
  METRIC_KIT_SESSION_REVOCATIONS,
  METRIC_KIT_SESSION_SAVES,
  METRIC_KIT_SESSION_STORE_DURATION,
  SessionOpenTelemetry,
  SPAN_KIT_SESSION_LOAD,
  SPAN_KIT_SESSION_SAVE,
  STORE_DURATION_BUCKETS,
  storeName,
} from 'kit-session/otel';
import { FakeClock } from '../support/FakeClock.js';
import { request, roundTrip } from '../support/http.js';
import { TelemetryFixture } from '../support/otel.js';

interface Values {
  userId: string;
  cart: number;
  big: string;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;

async function sealedCookieStore(clock: FakeClock): Promise<EncryptingStoreDecorator<Values>> {
  const keys = [await importRawKey(randomBytes(32).toString('base64'))];
  return new EncryptingStoreDecorator<Values>(new CookieSessionStore({}, clock), { keys }, clock);
}

/** The outcome attribute of each span, in the order they ended, as `name outcome`. */
function outcomes(fixture: TelemetryFixture): string[] {
  return fixture.spans().map((span) => `${span.name} ${String(span.attributes[ATTR_KIT_SESSION_OUTCOME])}`);
}

/** A memory store whose server is down: every call rejects, as an unreachable store's would. */
class UnreachableStore extends MemorySessionStore<Values> {
  override getSession(): Promise<LoadedSessionRecord<Values> | undefined> {
    return Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }));
  }
}

describe(SessionOpenTelemetry, () => {
  let clock: FakeClock;
  let fixture: TelemetryFixture;

  beforeEach(() => {
    clock = new FakeClock();
    fixture = new TelemetryFixture();
  });

  afterEach(async () => {
    await fixture.shutdown();
  });

  function memoryManager(options: SessionManagerOptions = {}, store = new MemorySessionStore<Values>({}, clock)) {
    return new SessionManager<Values>(store, { ...options, telemetry: fixture.telemetry }, clock);
  }

  describe('spans', () => {
    it('makes one span per load and per save, named kit_session.load and kit_session.save, with the store, the name and the outcome', async () => {
      const manager = memoryManager();
      const first = await roundTrip(manager, undefined, (c) => manager.setValue(c, 'cart', 1));
      await roundTrip(manager, first.cookie);
      expect(fixture.spanSummaries()).toEqual([
        {
          name: SPAN_KIT_SESSION_LOAD,
          attributes: { 'kit_session.store': 'memory', 'kit_session.name': '__Host-session', 'kit_session.outcome': 'absent' },
        },
        {
          name: SPAN_KIT_SESSION_SAVE,
          attributes: { 'kit_session.store': 'memory', 'kit_session.name': '__Host-session', 'kit_session.outcome': 'saved' },
        },
        {
          name: SPAN_KIT_SESSION_LOAD,
          attributes: { 'kit_session.store': 'memory', 'kit_session.name': '__Host-session', 'kit_session.outcome': 'loaded' },
        },
        {
          name: SPAN_KIT_SESSION_SAVE,
          attributes: { 'kit_session.store': 'memory', 'kit_session.name': '__Host-session', 'kit_session.outcome': 'unchanged' },
        },
      ]);
      for (const span of fixture.spans()) {
        expect(span.kind).toBe(SpanKind.INTERNAL);
        expect(span.status.code).toBe(SpanStatusCode.UNSET);
      }
    });

    it('tells each outcome of a load: absent, loaded, not_found, expired, superseded', async () => {
      // The store's clock stays behind the manager's: the store still holds what the manager finds expired.
      const storeClock = new FakeClock();
      const manager = memoryManager({ idleTimeout: 10 * MINUTE }, new MemorySessionStore<Values>({}, storeClock));
      const { cookie } = await roundTrip(manager, undefined, (c) => manager.setValue(c, 'cart', 1));
      await roundTrip(manager, cookie);
      await roundTrip(manager, '__Host-session=never-issued');
      clock.advance(11 * MINUTE);
      await roundTrip(manager, cookie);
      expect(outcomes(fixture).filter((line) => line.startsWith(SPAN_KIT_SESSION_LOAD))).toEqual([
        'kit_session.load absent',
        'kit_session.load loaded',
        'kit_session.load not_found',
        'kit_session.load expired',
      ]);

      fixture.spanExporter.reset();
      const renewing = memoryManager({ ownerKey: 'userId' });
      const before = await roundTrip(renewing, undefined, (c) => renewing.setValue(c, 'cart', 2));
      await roundTrip(renewing, before.cookie, (c) => {
        renewing.renewToken(c);
        renewing.setValue(c, 'userId', 'ada');
      });
      // A request still on its way with the retired id, within the grace: read-only.
      await roundTrip(renewing, before.cookie, (c) => renewing.setValue(c, 'cart', 3));
      expect(outcomes(fixture)).toEqual([
        'kit_session.load absent',
        'kit_session.save saved',
        'kit_session.load loaded',
        'kit_session.save renewed',
        'kit_session.load superseded',
        'kit_session.save stale',
      ]);
    });

    it('tells each outcome of a save: saved, unchanged, touched, renewed, destroyed, lost', async () => {
      const manager = memoryManager({ idleTimeout: 10 * MINUTE, idleTouchInterval: MINUTE });
      const { cookie } = await roundTrip(manager, undefined, (c) => manager.setValue(c, 'cart', 1));
      await roundTrip(manager, cookie);
      clock.advance(2 * MINUTE);
      await roundTrip(manager, cookie); // unchanged, but its idle expiry moves
      const renewed = await roundTrip(manager, cookie, (c) => manager.renewToken(c));
      // Two requests of one browser: the second logs out while the first is on its way.
      const slow = await manager.extractSession(Context.background, request(renewed.cookie));
      await roundTrip(manager, renewed.cookie, (c) => manager.destroyValues(c));
      manager.setValue(slow, 'cart', 9);
      await manager.injectSession(slow, new Headers());
      expect(outcomes(fixture).filter((line) => line.startsWith(SPAN_KIT_SESSION_SAVE))).toEqual([
        'kit_session.save saved',
        'kit_session.save unchanged',
        'kit_session.save touched',
        'kit_session.save renewed',
        'kit_session.save destroyed',
        'kit_session.save lost',
      ]);
    });

    it('with 50 concurrent requests of one session, ends each of the 100 spans once, each with an outcome', async () => {
      const manager = memoryManager();
      const { cookie } = await roundTrip(manager, undefined, (c) => manager.setValue(c, 'cart', 0));
      fixture.spanExporter.reset();
      await Promise.all(
        Array.from({ length: 50 }, (_, i) => roundTrip(manager, cookie, (c) => (i % 2 === 0 ? manager.setValue(c, 'cart', i) : undefined))),
      );
      const spans = fixture.spans();
      expect(new Set(spans.map((span) => span.spanContext().spanId)).size).toBe(100);
      expect(await fixture.countsBy(METRIC_KIT_SESSION_LOADS, ATTR_KIT_SESSION_OUTCOME)).toEqual({ absent: 1, loaded: 50 });
      expect(await fixture.countsBy(METRIC_KIT_SESSION_SAVES, ATTR_KIT_SESSION_OUTCOME)).toEqual({ saved: 26, unchanged: 25 });
    });

    it('when the store fails, ends the load span with an error status, error.type and the exception, and the request rejects as before', async () => {
      const manager = memoryManager({}, new UnreachableStore({}, clock));
      await expect(async () => roundTrip(manager, '__Host-session=some-id')).rejects.toBeInstanceOf(SessionStoreError);
      const [span] = fixture.spans();
      expect(span?.name).toBe(SPAN_KIT_SESSION_LOAD);
      expect(span?.attributes).toMatchObject({ [ATTR_KIT_SESSION_OUTCOME]: 'error', [ATTR_ERROR_TYPE]: 'ERR_SESSION_STORE' });
      expect(span?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'ERR_SESSION_STORE' });
      expect(span?.events.map((event) => event.name)).toEqual(['exception']);
      // OpenTelemetry takes an error's code for exception.type; the message names no token.
      expect(span?.events[0]?.attributes).toMatchObject({ 'exception.type': 'ERR_SESSION_STORE', 'exception.message': 'session store failed' });
      expect(fixture.spans()).toHaveLength(1);
    });

    it('when the cookie would be too large, ends the save span with error.type ERR_SESSION_COOKIE_TOO_LARGE', async () => {
      const manager = new SessionManager<Values>(await sealedCookieStore(clock), { telemetry: fixture.telemetry }, clock);
      await expect(async () => roundTrip(manager, undefined, (c) => manager.setValue(c, 'big', 'x'.repeat(5000)))).rejects.toBeInstanceOf(
        SessionCookieTooLargeError,
      );
      expect(fixture.spanSummaries().map(({ name, attributes }) => [name, attributes[ATTR_KIT_SESSION_OUTCOME], attributes[ATTR_ERROR_TYPE]])).toEqual([
        [SPAN_KIT_SESSION_LOAD, 'absent', undefined],
        [SPAN_KIT_SESSION_SAVE, 'error', 'ERR_SESSION_COOKIE_TOO_LARGE'],
      ]);
    });

    it('runs the store call within the span: a span the store makes (as a client library instrumented) is its child', async () => {
      const contextManager = new AsyncLocalStorageContextManager().enable();
      otelContext.setGlobalContextManager(contextManager);
      try {
        const tracer = fixture.tracerProvider.getTracer('a-store-client');
        class TracedStore extends MemorySessionStore<Values> {
          override async getSession(token: string): Promise<LoadedSessionRecord<Values> | undefined> {
            const span = tracer.startSpan('store GET');
            await new Promise((resolve) => setImmediate(resolve));
            span.end();
            return super.getSession(token);
          }
        }
        const manager = memoryManager({}, new TracedStore({}, clock));
        const { cookie } = await roundTrip(manager, undefined, (c) => manager.setValue(c, 'cart', 1));
        const parent = tracer.startSpan('HTTP GET /');
        await otelContext.with(trace.setSpan(otelContext.active(), parent), () => roundTrip(manager, cookie));
        parent.end();
        const byName = new Map(fixture.spans().map((span) => [span.name, span]));
        const load = fixture.spans().filter((span) => span.name === SPAN_KIT_SESSION_LOAD)[1]!;
        expect(byName.get('store GET')?.parentSpanContext?.spanId).toBe(load.spanContext().spanId);
        // And the load is the child of the request's span, as any span made in it.
        expect(load.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
      } finally {
        otelContext.disable();
        contextManager.disable();
      }
    });

    it('puts no token, id, handle, owner or value in any attribute of any span or metric', async () => {
      const events: string[] = [];
      const manager = memoryManager({ ownerKey: 'userId', maxSessionsPerOwner: 1, onEvent: (event) => events.push(event.handle ?? '') });
      const login = await roundTrip(manager, undefined, (c) => {
        manager.setValue(c, 'userId', 'ada-lovelace');
        manager.setValue(c, 'cart', 424242);
      });
      const renewed = await roundTrip(manager, login.cookie, (c) => manager.renewToken(c));
      await roundTrip(manager, undefined, (c) => manager.setValue(c, 'userId', 'ada-lovelace')); // evicts the first
      const secrets = [
        login.cookie!.split('=')[1]!,
        renewed.cookie!.split('=')[1]!,
        'ada-lovelace',
        '424242',
        ...events.filter((handle) => handle !== ''),
      ];
      expect(secrets.length).toBeGreaterThan(4);
      const values = await fixture.everyAttributeValue();
      expect(values.length).toBeGreaterThan(20);
      for (const secret of secrets) {
        expect({ secret, found: values.filter((value) => value.includes(secret)) }).toEqual({ secret, found: [] });
      }
    });
  });

  describe('metrics', () => {
    it('counts loads and saves by store and outcome', async () => {
      const manager = memoryManager();
      const { cookie } = await roundTrip(manager, undefined, (c) => manager.setValue(c, 'cart', 1));
      await roundTrip(manager, cookie);
      await roundTrip(manager, cookie, (c) => manager.setValue(c, 'cart', 2));
      await roundTrip(manager, '__Host-session=never-issued');
      expect(await fixture.points(METRIC_KIT_SESSION_LOADS)).toEqual(
        expect.arrayContaining([
          { attributes: { [ATTR_KIT_SESSION_STORE]: 'memory', [ATTR_KIT_SESSION_OUTCOME]: 'absent' }, value: 1 },
          { attributes: { [ATTR_KIT_SESSION_STORE]: 'memory', [ATTR_KIT_SESSION_OUTCOME]: 'loaded' }, value: 2 },
          { attributes: { [ATTR_KIT_SESSION_STORE]: 'memory', [ATTR_KIT_SESSION_OUTCOME]: 'not_found' }, value: 1 },
        ]),
      );
      expect(await fixture.countsBy(METRIC_KIT_SESSION_SAVES, ATTR_KIT_SESSION_OUTCOME)).toEqual({ saved: 2, unchanged: 2 });
    });

    it('times each store call in seconds, by store operation, in buckets from 50 µs to 5 s', async () => {
      const manager = memoryManager({ ownerKey: 'userId' });
      const { cookie } = await roundTrip(manager, undefined, (c) => manager.setValue(c, 'cart', 1)); // setSession
      const patched = await roundTrip(manager, cookie, (c) => manager.setValue(c, 'cart', 2)); // getSession, patchSession
      const renewed = await roundTrip(manager, patched.cookie, (c) => manager.renewToken(c)); // getSession, renewSession
      await roundTrip(manager, renewed.cookie, (c) => manager.destroyValues(c)); // getSession, deleteSession
      expect(await fixture.countsBy(METRIC_KIT_SESSION_STORE_DURATION, ATTR_KIT_SESSION_STORE_OPERATION)).toEqual({
        getSession: 3,
        setSession: 1,
        patchSession: 1,
        renewSession: 1,
        deleteSession: 1,
      });
      const points = await fixture.points(METRIC_KIT_SESSION_STORE_DURATION);
      for (const point of points) {
        expect(point.attributes[ATTR_KIT_SESSION_STORE]).toBe('memory');
        expect(point.sum).toBeGreaterThanOrEqual(0);
        expect(point.sum).toBeLessThan(5); // seconds, not milliseconds
      }
      fixture.metricExporter.reset();
      await fixture.reader.forceFlush();
      const histogram = fixture.metricExporter
        .getMetrics()
        .flatMap((resource) => resource.scopeMetrics)
        .flatMap((scope) => scope.metrics)
        .find((metric) => metric.descriptor.name === METRIC_KIT_SESSION_STORE_DURATION)!;
      expect(histogram.descriptor.unit).toBe('s');
      const buckets = (histogram.dataPoints[0]!.value as { buckets: { boundaries: number[] } }).buckets;
      expect(buckets.boundaries).toEqual(STORE_DURATION_BUCKETS);
    });

    it('counts errors by code, and times the failed store call with its error.type', async () => {
      const manager = memoryManager({}, new UnreachableStore({}, clock));
      for (let i = 0; i < 3; i++) {
        await expect(async () => roundTrip(manager, '__Host-session=some-id')).rejects.toBeInstanceOf(SessionStoreError);
      }
      const cookieManager = new SessionManager<Values>(await sealedCookieStore(clock), { telemetry: fixture.telemetry }, clock);
      await expect(async () => roundTrip(cookieManager, undefined, (c) => cookieManager.setValue(c, 'big', 'x'.repeat(5000)))).rejects.toThrow();
      expect(await fixture.points(METRIC_KIT_SESSION_ERRORS)).toEqual(
        expect.arrayContaining([
          {
            attributes: { [ATTR_KIT_SESSION_STORE]: 'unreachable', [ATTR_KIT_SESSION_OPERATION]: 'load', [ATTR_ERROR_TYPE]: 'ERR_SESSION_STORE' },
            value: 3,
          },
          {
            attributes: { [ATTR_KIT_SESSION_STORE]: 'cookie', [ATTR_KIT_SESSION_OPERATION]: 'save', [ATTR_ERROR_TYPE]: 'ERR_SESSION_COOKIE_TOO_LARGE' },
            value: 1,
          },
        ]),
      );
      expect(await fixture.countsBy(METRIC_KIT_SESSION_LOADS, ATTR_KIT_SESSION_OUTCOME)).toEqual({ error: 3, absent: 1 });
      const failedCalls = (await fixture.points(METRIC_KIT_SESSION_STORE_DURATION)).filter(
        (point) => point.attributes[ATTR_KIT_SESSION_STORE] === 'unreachable',
      );
      expect(failedCalls.map((point) => [point.attributes, point.value])).toEqual([
        [{ [ATTR_KIT_SESSION_STORE]: 'unreachable', [ATTR_KIT_SESSION_STORE_OPERATION]: 'getSession', [ATTR_ERROR_TYPE]: 'ECONNREFUSED' }, 3],
      ]);
    });

    it('counts the evictions of maxSessionsPerOwner', async () => {
      const manager = memoryManager({ ownerKey: 'userId', maxSessionsPerOwner: 2 });
      for (let device = 0; device < 4; device++) {
        clock.advance(SECOND);
        await roundTrip(manager, undefined, (c) => manager.setValue(c, 'userId', 'ada'));
      }
      expect(await fixture.points(METRIC_KIT_SESSION_EVICTIONS)).toEqual([
        { attributes: { [ATTR_KIT_SESSION_STORE]: 'memory', [ATTR_KIT_SESSION_REASON]: 'limit' }, value: 2 },
      ]);
    });

    it('counts the revocations of sealed cookies, and the load says revoked', async () => {
      const manager = new SessionManager<Values>(
        await sealedCookieStore(clock),
        { ownerKey: 'userId', revocation: { generations: new MemoryOwnerGenerations(), maxStaleness: 0 }, telemetry: fixture.telemetry },
        clock,
      );
      const laptop = await roundTrip(manager, undefined, (c) => manager.setValue(c, 'userId', 'ada'));
      const phone = await roundTrip(manager, undefined, (c) => manager.setValue(c, 'userId', 'ada'));
      await manager.destroyOwnerSessions('ada'); // log out everywhere
      await roundTrip(manager, laptop.cookie);
      await roundTrip(manager, phone.cookie);
      expect(await fixture.points(METRIC_KIT_SESSION_REVOCATIONS)).toEqual([
        { attributes: { [ATTR_KIT_SESSION_STORE]: 'cookie', [ATTR_KIT_SESSION_REASON]: 'generation' }, value: 2 },
      ]);
      expect(await fixture.countsBy(METRIC_KIT_SESSION_LOADS, ATTR_KIT_SESSION_OUTCOME)).toEqual({ absent: 2, revoked: 2 });
    });
  });

  describe('options', () => {
    it('with traces: false, makes no span and still records metrics; with metrics: false, the reverse', async () => {
      const noTraces = new TelemetryFixture({ traces: false });
      const noMetrics = new TelemetryFixture({ metrics: false });
      try {
        for (const each of [noTraces, noMetrics]) {
          const manager = new SessionManager<Values>(new MemorySessionStore<Values>({}, clock), { telemetry: each.telemetry }, clock);
          await roundTrip(manager, undefined, (c) => manager.setValue(c, 'cart', 1));
        }
        expect(noTraces.spans()).toEqual([]);
        expect(await noTraces.countsBy(METRIC_KIT_SESSION_SAVES, ATTR_KIT_SESSION_OUTCOME)).toEqual({ saved: 1 });
        expect(noMetrics.spans()).toHaveLength(2);
        expect(await noMetrics.points(METRIC_KIT_SESSION_SAVES)).toEqual([]);
      } finally {
        await noTraces.shutdown();
        await noMetrics.shutdown();
      }
    });

    it('names the store by its class, through an EncryptingStoreDecorator, or as told', async () => {
      expect(storeName(new MemorySessionStore())).toBe('memory');
      expect(storeName(await sealedCookieStore(clock))).toBe('cookie');
      const plain: SessionStore<Values> = {
        getSession: () => Promise.resolve(undefined),
        setSession: (id) => Promise.resolve(id),
        deleteSession: () => Promise.resolve(),
      };
      expect(storeName(plain)).toBe('custom');
      const named = new TelemetryFixture({ store: 'sessions-eu' });
      try {
        const manager = new SessionManager<Values>(new MemorySessionStore<Values>({}, clock), { telemetry: named.telemetry }, clock);
        await roundTrip(manager, undefined);
        expect(named.spans()[0]?.attributes[ATTR_KIT_SESSION_STORE]).toBe('sessions-eu');
      } finally {
        await named.shutdown();
      }
    });

    it('serves several managers, each with its own store and name on the shared instruments', async () => {
      const memory = memoryManager();
      const sealed = new SessionManager<Values>(
        await sealedCookieStore(clock),
        { cookie: { name: '__Host-prefs' }, telemetry: fixture.telemetry },
        clock,
      );
      await roundTrip(memory, undefined);
      await roundTrip(sealed, undefined);
      await roundTrip(sealed, undefined);
      expect(fixture.spans().map((span) => [span.attributes['kit_session.store'], span.attributes['kit_session.name']])).toEqual([
        ['memory', '__Host-session'],
        ['memory', '__Host-session'],
        ['cookie', '__Host-prefs'],
        ['cookie', '__Host-prefs'],
        ['cookie', '__Host-prefs'],
        ['cookie', '__Host-prefs'],
      ]);
      expect(await fixture.points(METRIC_KIT_SESSION_LOADS)).toEqual(
        expect.arrayContaining([
          { attributes: { [ATTR_KIT_SESSION_STORE]: 'memory', [ATTR_KIT_SESSION_OUTCOME]: 'absent' }, value: 1 },
          { attributes: { [ATTR_KIT_SESSION_STORE]: 'cookie', [ATTR_KIT_SESSION_OUTCOME]: 'absent' }, value: 2 },
        ]),
      );
    });

    it.each([
      ['an unknown option', { tracer: {} }],
      ['a tracerProvider without getTracer', { tracerProvider: {} }],
      ['a meterProvider without getMeter', { meterProvider: {} }],
      ['an empty store name', { store: '' }],
      ['traces that is not a boolean', { traces: 'no' }],
    ])('refuses %s with TypeError', (_what, options) => {
      expect(() => new SessionOpenTelemetry(options as never)).toThrow(TypeError);
    });

    it('is refused by the manager when it is not a telemetry (no attach method)', () => {
      expect(() => new SessionManager(new MemorySessionStore(), { telemetry: {} as never })).toThrow(TypeError);
    });
  });

  describe('without an SDK (the API alone, its no-op tracer and meter)', () => {
    it('loads and saves as without telemetry, and records nothing', async () => {
      const manager = new SessionManager<Values>(new MemorySessionStore<Values>({}, clock), { telemetry: new SessionOpenTelemetry() }, clock);
      const { cookie } = await roundTrip(manager, undefined, (c) => manager.setValue(c, 'cart', 1));
      const next = await roundTrip(manager, cookie, (c) => manager.setValue(c, 'cart', 2));
      expect(manager.getValue(next.context, 'cart')).toBe(2);
      expect(trace.getActiveSpan()).toBeUndefined();
      expect(fixture.spans()).toEqual([]);
    });
  });

  describe(errorType, () => {
    it.each([
      [new SessionStoreError('session store failed'), 'ERR_SESSION_STORE'],
      [Object.assign(new Error('connect refused'), { code: 'ECONNREFUSED' }), 'ECONNREFUSED'],
      [Object.assign(new Error('odd'), { code: 'not a code: has a token abc' }), 'Error'],
      [new TypeError('bad'), 'TypeError'],
      ['a string', '_OTHER'],
    ])('gives %p the type %p, never its message', (error, type) => {
      expect(errorType(error)).toBe(type);
    });
  });
});
