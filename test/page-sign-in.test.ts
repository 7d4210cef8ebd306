/**
 * The board signed in with an identity provider's token, in Chromium: when
 * the server closes the socket at the token's expiry (4001) the page asks
 * for a fresh token, keeps the board where it was, and resumes the stream
 * with no gap once one is given.
 */

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { orderBody, request, startServer, type TestServer } from './helpers.ts';
import { JwksServer, KEYCLOAK_ROLE_MAP, AUDIENCE, ISSUER, keycloakRoles, makeKey, sign, type SigningKey } from './jwks-server.ts';
import { usePageHarness } from './page-harness.ts';

const h = usePageHarness();
const jwks = new JwksServer();
let key: SigningKey;
let secured: TestServer;

before(async () => {
  key = await makeKey('page-1', 'ES256');
  jwks.keys = [key.jwk];
  await jwks.start();
  secured = await startServer({ jwt: { jwksUrl: jwks.url, issuer: ISSUER, audience: AUDIENCE, roleClaim: 'realm_access.roles', roleMap: KEYCLOAK_ROLE_MAP, clockToleranceSeconds: 0 } });
});
after(async () => {
  await secured.close();
  await jwks.stop();
});

describe('the board with identity provider tokens', () => {
  test('at the token expiry the page asks for a fresh one, then resumes where it was', async () => {
    // The page's calls with the expired token (the live numbers) are refused while it waits.
    h.allowErrors(/status of 401/);
    const admin = { authorization: `Bearer ${await sign({ key, claims: keycloakRoles('orders-admin'), sub: 'admin' })}` };
    const page = await h.freshPage();
    await page.goto(secured.base);
    await page.getByLabel('Access token').fill(await sign({ key, claims: keycloakRoles('orders-view'), sub: 'ada', expiresIn: 5 }));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#connection[data-state="open"]').waitFor();
    assert.equal((await request(secured.base, 'POST', '/api/orders', orderBody('Before expiry'), admin)).status, 201);
    await page.locator('#orders .card', { hasText: 'Before expiry' }).waitFor();
    // A mark that a reload would wipe: the page must go on, not start over.
    await page.evaluate(() => Object.assign(window, { stillTheSamePage: true }));

    await page.locator('#login-error', { hasText: 'Your sign-in has expired' }).waitFor({ timeout: 20_000 });
    assert.equal((await request(secured.base, 'POST', '/api/orders', orderBody('While signed out'), admin)).status, 201);
    await page.getByLabel('Access token').fill(await sign({ key, claims: keycloakRoles('orders-view'), sub: 'ada', expiresIn: 300 }));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#connection[data-state="open"]').waitFor();
    await page.locator('#orders .card', { hasText: 'While signed out' }).waitFor();
    assert.equal(await page.locator('#orders .card', { hasText: 'Before expiry' }).count(), 1);
    assert.equal(await page.evaluate(() => (window as unknown as { stillTheSamePage?: boolean }).stillTheSamePage), true, 'no reload');
    const stats = await request(secured.base, 'GET', '/api/stats', undefined, admin);
    assert.ok((stats.body as { resumes: { fromRing: number } }).resumes.fromRing >= 1, 'the stream resumed from where it was');
    await page.context().close();
  });
});
