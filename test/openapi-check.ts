/**
 * Checks an answer of the REST API against the OpenAPI document's schema
 * for its route, method and status (ajv, JSON Schema 2020-12). Used by
 * `request()` in helpers.ts, so every API test checks every JSON body it
 * gets, and by test/openapi.test.ts.
 */

import assert from 'node:assert/strict';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ValidateFunction } from 'ajv';
import { buildOpenApiDocument, openApiPath } from '../src/transport/http/openapi.ts';
import { ROUTE_TABLE } from '../src/transport/http/router.ts';

/** The document as the server builds it. */
export const OPENAPI_DOCUMENT = buildOpenApiDocument(ROUTE_TABLE) as {
  readonly paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }> }>>;
};

const DOCUMENT_ID = 'https://liveorders.invalid/openapi.json';
const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
ajv.addSchema({ ...OPENAPI_DOCUMENT, $id: DOCUMENT_ID });
const validators = new Map<string, ValidateFunction>();

function validatorFor(ref: string): ValidateFunction {
  let validate = validators.get(ref);
  if (validate === undefined) {
    validate = ajv.getSchema(`${DOCUMENT_ID}${ref}`);
    assert.ok(validate !== undefined, `the document has a schema at ${ref}`);
    validators.set(ref, validate);
  }
  return validate;
}

/**
 * The OpenAPI path of the route that answers `pathname`, if any.
 * @param pathname a request path, no query
 */
export function documentedPath(pathname: string): string | undefined {
  const route = ROUTE_TABLE.find((r) => r.pattern.test(pathname));
  return route === undefined ? undefined : openApiPath(route.path);
}

/**
 * Assert that an answer's body matches what the document says that route,
 * method and status answer. Paths no route answers are problems (404).
 * Bodies that are not JSON (CSV, the page) and HEAD answers are skipped.
 * @param method the request method
 * @param path the request path, query allowed
 * @param status the answer's status
 * @param contentType its Content-Type
 * @param body the parsed JSON body
 */
export function assertMatchesOpenApi(method: string, path: string, status: number, contentType: string | null, body: unknown): void {
  if (method === 'HEAD' || method === 'OPTIONS' || contentType === null || !/json/.test(contentType)) return;
  const pathname = new URL(path, 'http://x').pathname;
  const isProblem = contentType.startsWith('application/problem+json');
  let ref: string | undefined;
  const documented = documentedPath(pathname);
  if (isProblem) ref = '#/components/schemas/Problem';
  else {
    assert.ok(documented !== undefined, `${method} ${pathname} answered ${status} JSON, but no route is documented for it`);
    const operation = OPENAPI_DOCUMENT.paths[documented]?.[method.toLowerCase()];
    assert.ok(operation !== undefined, `${method} ${documented} is documented`);
    const answer = operation.responses[String(status)];
    assert.ok(answer !== undefined, `${method} ${documented} documents a ${status} answer`);
    ref = answer.content?.['application/json']?.schema?.$ref;
    if (ref === undefined) return; // documented as any JSON (the document itself)
  }
  if (documented !== undefined && isProblem) {
    const operation = OPENAPI_DOCUMENT.paths[documented]?.[method.toLowerCase()];
    // A method the route does not take is answered 405, which the document cannot list under it.
    if (operation !== undefined) assert.ok(operation.responses[String(status)] !== undefined, `${method} ${documented} documents a ${status} answer`);
  }
  const validate = validatorFor(ref);
  if (!validate(body)) {
    assert.fail(`${method} ${pathname} ${status}: the body does not match ${ref}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(body).slice(0, 500)}`);
  }
}
