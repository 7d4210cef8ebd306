/**
 * @module observe/http-metrics
 * HTTP requests by route and status class, and their durations by route.
 * The router names the route a request matched on its response (a
 * property, no map or closure per request); the request log's one shared
 * listener records it when the response closes. A route label is the
 * route's pattern name (`/api/orders/:id`), never the path asked for, so
 * no label carries an id or a token, and every unknown path is one label.
 */

import type { ServerResponse } from 'node:http';
import { Counter, Histogram, type Registry } from 'prom-client';

/** The route label of a request no route matched (unknown paths, refused Host names, bad targets). */
export const UNMATCHED_ROUTE = 'unmatched';

/** Seconds: most answers take well under a millisecond; a CSV export of many orders, longer. */
const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];

/** Status classes as labels; 0 (index 0) is a response that was cut before it finished. */
const CODE_CLASSES = ['aborted', '1xx', '2xx', '3xx', '4xx', '5xx'] as const;

/** Where the route a request matched is kept: a property of its response. */
const ROUTE = Symbol('liveorders.route');

interface RoutedResponse extends ServerResponse {
  [ROUTE]?: string;
}

/**
 * Name the route a request matched, for its metrics. Call with a pattern
 * name from a fixed set, never with anything taken from the request.
 * @param res the request's response
 * @param route the route's pattern name, e.g. `/api/orders/:id`
 */
export function tagRoute(res: ServerResponse, route: string): void {
  (res as RoutedResponse)[ROUTE] = route;
}

/** What the HTTP layer records each finished (or cut) request into. */
export interface HttpMetrics {
  /**
   * @param res a response that closed
   * @param seconds how long since its request arrived
   */
  observe(res: ServerResponse, seconds: number): void;
}

/** One route's requests by status class (plain numbers, read at scrape), and its duration series. */
interface RouteSeries {
  readonly byClass: number[];
  readonly duration: { observe(value: number): void };
}

/** {@link HttpMetrics} in prom-client counters and a histogram. */
export class RequestMetrics implements HttpMetrics {
  readonly #duration: Histogram<'route'>;
  readonly #routes = new Map<string, RouteSeries>();

  /** @param registers where the metrics are registered */
  constructor(registers: Registry[]) {
    const routes = this.#routes;
    new Counter({
      name: 'liveorders_http_requests_total',
      help: `HTTP requests answered, by route pattern and status class (aborted: cut before the answer finished; route ${UNMATCHED_ROUTE}: no route)`,
      labelNames: ['route', 'code_class'],
      registers,
      collect() {
        this.reset();
        for (const [route, series] of routes) {
          series.byClass.forEach((count, i) => {
            if (count > 0) this.inc({ route, code_class: CODE_CLASSES[i]! }, count);
          });
        }
      },
    });
    this.#duration = new Histogram({
      name: 'liveorders_http_request_duration_seconds',
      help: 'Time from a request arriving to its answer finishing, by route pattern',
      labelNames: ['route'],
      buckets: DURATION_BUCKETS,
      registers,
    });
  }

  observe(res: ServerResponse, seconds: number): void {
    const route = (res as RoutedResponse)[ROUTE] ?? UNMATCHED_ROUTE;
    const series = this.#routes.get(route) ?? this.#add(route);
    const status = res.writableFinished ? res.statusCode : 0;
    const index = status >= 100 && status < 600 ? Math.floor(status / 100) : 0;
    series.byClass[index]!++;
    series.duration.observe(seconds);
  }

  #add(route: string): RouteSeries {
    const series: RouteSeries = {
      byClass: CODE_CLASSES.map(() => 0),
      duration: this.#duration.labels({ route }),
    };
    this.#routes.set(route, series);
    return series;
  }
}
