/**
 * An identity provider for tests: a JWKS endpoint (node:http on an
 * ephemeral port) publishing keys made here with jose, an outage switch,
 * a count of fetches, and tokens signed like Keycloak's.
 */

import assert from 'node:assert/strict';
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { parseRoleMap } from '../src/security/claims.ts';

/** The `iss` of the tests' tokens (a Keycloak realm's). */
export const ISSUER = 'https://sso.test/realms/shop';
/** The `aud` of the tests' tokens. */
export const AUDIENCE = 'liveorders';
const KEYCLOAK_MAP = parseRoleMap('orders-admin:admin,orders-staff:operator,orders-view:viewer');
assert.ok(KEYCLOAK_MAP.ok);
/** The Keycloak role names of the tests, mapped to ours. */
export const KEYCLOAK_ROLE_MAP = KEYCLOAK_MAP.value;

/** A signing key the tests hold, and its public half as the JWKS publishes it. */
export interface SigningKey {
  readonly kid: string;
  readonly alg: 'RS256' | 'ES256' | 'EdDSA';
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  readonly jwk: JWK;
}

/** A fresh key pair for `alg`, published under `kid`. */
export async function makeKey(kid: string, alg: SigningKey['alg']): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, alg === 'EdDSA' ? { crv: 'Ed25519' } : {});
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { kid, alg, privateKey, publicKey, jwk };
}

/** The identity provider's JWKS endpoint: keys the tests publish, a count of fetches, and an outage switch. */
export class JwksServer {
  readonly http: Server;
  keys: JWK[] = [];
  fetches = 0;
  down = false;
  url = '';

  constructor() {
    this.http = createHttpServer((req, res) => {
      if (this.down) {
        req.socket.destroy();
        return;
      }
      this.fetches++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: this.keys }));
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.http.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.http.address() as AddressInfo).port}/certs`;
  }

  async stop(): Promise<void> {
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }
}

/** Seconds since 1970. */
export const now = (): number => Math.floor(Date.now() / 1000);

/** What a test token says; defaults: subject user-1, the test issuer and audience, five minutes. */
export interface TokenSpec {
  readonly key: SigningKey;
  readonly claims?: JWTPayload;
  readonly sub?: string;
  readonly iss?: string;
  readonly aud?: string;
  /** Seconds from now. */
  readonly expiresIn?: number;
  readonly notBefore?: number;
}

/** Sign a token as the provider does. */
export function sign(spec: TokenSpec): Promise<string> {
  const jwt = new SignJWT(spec.claims ?? {})
    .setProtectedHeader({ alg: spec.key.alg, kid: spec.key.kid, typ: 'JWT' })
    .setSubject(spec.sub ?? 'user-1')
    .setIssuer(spec.iss ?? ISSUER)
    .setAudience(spec.aud ?? AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(now() + (spec.expiresIn ?? 300));
  if (spec.notBefore !== undefined) jwt.setNotBefore(now() + spec.notBefore);
  return jwt.sign(spec.key.privateKey);
}

/** Claims carrying Keycloak realm roles. */
export const keycloakRoles = (...roles: string[]): JWTPayload => ({ realm_access: { roles } });
