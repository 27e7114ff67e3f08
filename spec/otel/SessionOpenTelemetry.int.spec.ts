import { createServer } from 'node:net';
import { SpanStatusCode } from '@opentelemetry/api';
import { Redis } from 'ioredis';
import { SessionManager, SessionStoreError } from 'kit-session';
import {
  ATTR_ERROR_TYPE,
  ATTR_KIT_SESSION_OPERATION,
  ATTR_KIT_SESSION_OUTCOME,
  ATTR_KIT_SESSION_STORE,
  ATTR_KIT_SESSION_STORE_OPERATION,
  METRIC_KIT_SESSION_ERRORS,
  METRIC_KIT_SESSION_EVICTIONS,
  METRIC_KIT_SESSION_LOADS,
  METRIC_KIT_SESSION_SAVES,
  METRIC_KIT_SESSION_STORE_DURATION,
  SPAN_KIT_SESSION_LOAD,
} from 'kit-session/otel';
import { RedisSessionStore } from 'kit-session/redis';
import { roundTrip } from '../support/http.js';
import { TelemetryFixture } from '../support/otel.js';
import { deleteRedisKeys } from '../support/redisCluster.js';
import { type AppValues, describeWith, REDIS_URL, uniqueName } from '../support/services.js';

// kit-session/otel over a real Redis: the store-call histogram measures the round trips,
// and an unreachable Redis is counted as errors by code.

describeWith('redis', 'SessionOpenTelemetry over RedisSessionStore', () => {
  let client: Redis;
  let prefix: string;
  let fixture: TelemetryFixture;

  beforeAll(() => {
    client = new Redis(REDIS_URL);
  });

  afterAll(async () => {
    await client?.quit();
  });

  beforeEach(() => {
    prefix = `wt-otel:${uniqueName('telemetry')}:`;
    fixture = new TelemetryFixture();
  });

  afterEach(async () => {
    await fixture.shutdown();
    await deleteRedisKeys(client, prefix);
  });

  it('times every store call against the server, by operation, with the store named redis', async () => {
    const manager = new SessionManager<AppValues>(new RedisSessionStore<AppValues>(client, { prefix }), {
      ownerKey: 'userId',
      telemetry: fixture.telemetry,
    });
    const login = await roundTrip(manager, undefined, (c) => manager.setValue(c, 'userId', 'ada'));
    const patched = await roundTrip(manager, login.cookie, (c) => manager.setValue(c, 'cart', 2));
    const renewed = await roundTrip(manager, patched.cookie, (c) => manager.renewToken(c));
    await roundTrip(manager, renewed.cookie);
    await roundTrip(manager, renewed.cookie, (c) => manager.destroyValues(c));

    const calls = await fixture.points(METRIC_KIT_SESSION_STORE_DURATION);
    expect(
      Object.fromEntries(calls.map((point) => [point.attributes[ATTR_KIT_SESSION_STORE_OPERATION], point.value])),
    ).toEqual({ setSession: 1, getSession: 4, patchSession: 1, renewSession: 1, deleteSession: 1 });
    for (const point of calls) {
      expect(point.attributes[ATTR_KIT_SESSION_STORE]).toBe('redis');
      // A round trip to a server takes time, and far less than a second here.
      expect(point.sum).toBeGreaterThan(0);
      expect(point.sum! / point.value).toBeLessThan(1);
    }
    expect(await fixture.countsBy(METRIC_KIT_SESSION_LOADS, ATTR_KIT_SESSION_OUTCOME)).toEqual({ absent: 1, loaded: 4 });
    expect(await fixture.countsBy(METRIC_KIT_SESSION_SAVES, ATTR_KIT_SESSION_OUTCOME)).toEqual({
      saved: 2,
      renewed: 1,
      unchanged: 1,
      destroyed: 1,
    });
  });

  it("counts the evictions of maxSessionsPerOwner that Redis's script made", async () => {
    const manager = new SessionManager<AppValues>(new RedisSessionStore<AppValues>(client, { prefix }), {
      ownerKey: 'userId',
      maxSessionsPerOwner: 1,
      telemetry: fixture.telemetry,
    });
    for (let device = 0; device < 3; device++) {
      await roundTrip(manager, undefined, (c) => manager.setValue(c, 'userId', 'ada'));
    }
    expect(await fixture.points(METRIC_KIT_SESSION_EVICTIONS)).toEqual([
      { attributes: { [ATTR_KIT_SESSION_STORE]: 'redis', 'kit_session.reason': 'limit' }, value: 2 },
    ]);
  });
});

describe('SessionOpenTelemetry over RedisSessionStore when Redis is unreachable (a client pointed at a closed port)', () => {
  let client: Redis;
  let fixture: TelemetryFixture;

  beforeAll(async () => {
    // A port that was free a moment ago, and that nothing listens on now.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise<void>((resolve) => server.close(() => resolve()));
    // As an app would configure it: no crash on connection errors, a bounded retry.
    client = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
    client.on('error', () => {});
    fixture = new TelemetryFixture();
  });

  afterAll(async () => {
    // Given up already (no retry): a disconnect now would only leave its timer behind.
    if (client?.status !== 'end') {
      client?.disconnect();
    }
    await fixture?.shutdown();
  });

  it('rejects each load with SessionStoreError, counted under error.type ERR_SESSION_STORE, its span in error', async () => {
    const manager = new SessionManager<AppValues>(new RedisSessionStore<AppValues>(client, { prefix: 'wt-otel:unreachable:', timeout: 2_000 }), {
      telemetry: fixture.telemetry,
    });
    for (let i = 0; i < 3; i++) {
      await expect(async () => roundTrip(manager, '__Host-session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')).rejects.toBeInstanceOf(
        SessionStoreError,
      );
    }
    expect(await fixture.points(METRIC_KIT_SESSION_ERRORS)).toEqual([
      {
        attributes: { [ATTR_KIT_SESSION_STORE]: 'redis', [ATTR_KIT_SESSION_OPERATION]: 'load', [ATTR_ERROR_TYPE]: 'ERR_SESSION_STORE' },
        value: 3,
      },
    ]);
    const calls = await fixture.points(METRIC_KIT_SESSION_STORE_DURATION);
    expect(calls.map((point) => [point.attributes[ATTR_KIT_SESSION_STORE_OPERATION], point.attributes[ATTR_ERROR_TYPE], point.value])).toEqual([
      ['getSession', 'ERR_SESSION_STORE', 3],
    ]);
    const spans = fixture.spans();
    expect(spans.map((span) => [span.name, span.attributes[ATTR_KIT_SESSION_OUTCOME], span.status.code])).toEqual([
      [SPAN_KIT_SESSION_LOAD, 'error', SpanStatusCode.ERROR],
      [SPAN_KIT_SESSION_LOAD, 'error', SpanStatusCode.ERROR],
      [SPAN_KIT_SESSION_LOAD, 'error', SpanStatusCode.ERROR],
    ]);
  });
});
