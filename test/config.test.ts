/** Environment variables for `npm start`. */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configFromEnv } from '../src/config.ts';

test('maps each variable to its option and refuses malformed values by name', () => {
  const config = configFromEnv({ PORT: '9000', HOST: '0.0.0.0', MAX_CONNECTIONS: '50', HEARTBEAT_INTERVAL_MS: '1000', EVENT_LOG_CAPACITY: '20', HIGH_WATER_MARK_BYTES: '4096', SHUTDOWN_TIMEOUT_MS: '100', LOG_LEVEL: 'warn' });
  assert.ok(config.ok);
  assert.deepEqual(config.value, {
    options: { port: 9000, host: '0.0.0.0', maxConnections: 50, heartbeatIntervalMs: 1000, eventLogCapacity: 20, highWaterMark: 4096, shutdownTimeoutMs: 100 },
    storage: { mode: 'journal', dataDir: './data' },
    logLevel: 'warn',
  });
  assert.deepEqual(configFromEnv({}), { ok: true, value: { options: {}, storage: { mode: 'journal', dataDir: './data' }, logLevel: 'info' } });
  const bad = configFromEnv({ HEARTBEAT_INTERVAL_MS: '1e3' });
  assert.ok(!bad.ok);
  assert.match(bad.error, /HEARTBEAT_INTERVAL_MS must be a whole number/);
  assert.ok(!configFromEnv({ LOG_LEVEL: 'loud' }).ok);
  const deflate = configFromEnv({ PER_MESSAGE_DEFLATE: '1' });
  assert.ok(deflate.ok && deflate.value.options.perMessageDeflate === true);
  assert.ok(!configFromEnv({ PER_MESSAGE_DEFLATE: 'yes' }).ok);
});

test('TRACKING_SECRET keeps tracking links across restarts; a short one is refused', () => {
  const secret = 'a-tracking-secret-of-enough-length';
  const config = configFromEnv({ TRACKING_SECRET: secret });
  assert.ok(config.ok);
  assert.equal(config.value.storage.trackingSecret, secret);
  const short = configFromEnv({ TRACKING_SECRET: 'short' });
  assert.ok(!short.ok);
  assert.match(short.error, /TRACKING_SECRET must be at least 24 characters/);
});

test('STORAGE chooses the backend (journal by default, in DATA_DIR); anything else is refused by name', () => {
  const memory = configFromEnv({ STORAGE: 'memory' });
  assert.ok(memory.ok);
  assert.deepEqual(memory.value.storage, { mode: 'memory' });
  const journal = configFromEnv({ DATA_DIR: '/var/lib/liveorders', COMPACT_AFTER_BYTES: '1048576' });
  assert.ok(journal.ok);
  assert.deepEqual(journal.value.storage, { mode: 'journal', dataDir: '/var/lib/liveorders', compactAfterBytes: 1048576 });
  const unknown = configFromEnv({ STORAGE: 'postgres' });
  assert.ok(!unknown.ok);
  assert.match(unknown.error, /STORAGE must be one of journal, memory, redis, got "postgres"/);
  assert.ok(!configFromEnv({ COMPACT_AFTER_BYTES: '12' }).ok);
});

test('STORAGE=redis takes REDIS_URL, REDIS_PREFIX and REDIS_STREAM_LENGTH; a REDIS_URL without STORAGE is refused, not ignored', () => {
  const redis = configFromEnv({ STORAGE: 'redis', REDIS_URL: 'redis://cache.internal:6380/2', REDIS_PREFIX: 'shop-1', REDIS_STREAM_LENGTH: '50000' });
  assert.ok(redis.ok);
  assert.deepEqual(redis.value.storage, { mode: 'redis', redisUrl: 'redis://cache.internal:6380/2', redisPrefix: 'shop-1', streamLength: 50000 });
  assert.deepEqual(configFromEnv({ STORAGE: 'redis' }).ok && configFromEnv({ STORAGE: 'redis' }), { ok: true, value: { options: {}, storage: { mode: 'redis' }, logLevel: 'info' } });
  const forgotten = configFromEnv({ REDIS_URL: 'redis://127.0.0.1:6379' });
  assert.ok(!forgotten.ok);
  assert.match(forgotten.error, /REDIS_URL is set but STORAGE is not: set STORAGE=redis/);
  assert.ok(configFromEnv({ STORAGE: 'journal', REDIS_URL: 'redis://127.0.0.1:6379' }).ok, 'an explicit STORAGE wins');
  for (const [name, value, message] of [
    ['REDIS_URL', 'http://127.0.0.1:6379', /REDIS_URL must look like redis:\/\/host:6379/],
    ['REDIS_PREFIX', '{evil}', /REDIS_PREFIX must be 1 to 64 letters/],
    ['REDIS_STREAM_LENGTH', '10', /REDIS_STREAM_LENGTH must be a whole number of events \(at least 100\)/],
  ] as const) {
    const refused = configFromEnv({ STORAGE: 'redis', [name]: value });
    assert.ok(!refused.ok, name);
    assert.match(refused.error, message);
  }
});

test('STORAGE=redis takes REDIS_COMMAND_TIMEOUT_MS, the deadline a request waits for Redis; a malformed one is refused by name', () => {
  const redis = configFromEnv({ STORAGE: 'redis', REDIS_COMMAND_TIMEOUT_MS: '1500' });
  assert.ok(redis.ok);
  assert.deepEqual(redis.value.storage, { mode: 'redis', redisCommandTimeoutMs: 1500 });
  for (const value of ['10', '5s', '-1']) {
    const refused = configFromEnv({ STORAGE: 'redis', REDIS_COMMAND_TIMEOUT_MS: value });
    assert.ok(!refused.ok, value);
    assert.match(refused.error, /REDIS_COMMAND_TIMEOUT_MS must be a whole number of milliseconds/);
  }
});
