/**
 * @module support/logger
 * A tiny structured logger: JSON lines to stderr by default, injectable so
 * tests can capture what was logged. The store never logs; the server does.
 */

/** Severity, lowest first. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;

/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Extra structured fields on a log line. */
export type LogFields = Readonly<Record<string, unknown>>;

/** What the server logs through. */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line (e.g. a connection id). */
  child(fields: LogFields): Logger;
  /** Whether lines at `level` are written (so a caller can skip preparing one that would be dropped). */
  enabled?(level: LogLevel): boolean;
}

/** Where formatted lines go. */
export type LogSink = (line: string) => void;

/**
 * Create a JSON-lines logger.
 * @param options.level lines below this level are dropped; @default 'info'
 * @param options.sink where lines go; @default stderr
 * @param options.fields fields added to every line
 */
export function createLogger(options: { level?: LogLevel; sink?: LogSink; fields?: LogFields } = {}): Logger {
  const sink = options.sink ?? ((line: string) => process.stderr.write(line + '\n'));
  return new JsonLogger(LOG_LEVELS.indexOf(options.level ?? 'info'), sink, options.fields ?? {});
}

/**
 * Whether `value` names a log level.
 * @param value e.g. the LOG_LEVEL environment variable
 */
export function isLogLevel(value: unknown): value is LogLevel {
  return typeof value === 'string' && (LOG_LEVELS as readonly string[]).includes(value);
}

/**
 * Methods on a class, not closures per logger: every WebSocket connection has
 * a child logger, and six closures each (named ones cost a property table
 * apiece under tsx) were ~2 KiB of heap per idle connection.
 */
class JsonLogger implements Logger {
  readonly #min: number;
  readonly #sink: LogSink;
  readonly #fields: LogFields;

  constructor(min: number, sink: LogSink, fields: LogFields) {
    this.#min = min;
    this.#sink = sink;
    this.#fields = fields;
  }

  debug(message: string, fields?: LogFields): void {
    this.#write('debug', message, fields);
  }

  info(message: string, fields?: LogFields): void {
    this.#write('info', message, fields);
  }

  warn(message: string, fields?: LogFields): void {
    this.#write('warn', message, fields);
  }

  error(message: string, fields?: LogFields): void {
    this.#write('error', message, fields);
  }

  enabled(level: LogLevel): boolean {
    return LOG_LEVELS.indexOf(level) >= this.#min;
  }

  child(fields: LogFields): Logger {
    return new JsonLogger(this.#min, this.#sink, { ...this.#fields, ...fields });
  }

  #write(level: LogLevel, message: string, fields: LogFields | undefined): void {
    if (LOG_LEVELS.indexOf(level) < this.#min) return;
    this.#sink(JSON.stringify({ time: new Date().toISOString(), level, msg: message, ...this.#fields, ...fields }, errorReplacer));
  }
}

// Errors have no enumerable fields; log their name, message and stack explicitly.
function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message, stack: value.stack };
  return value;
}

/** Settings for {@link RepeatedLog}. */
export interface RepeatedLogOptions {
  /** Lines written per message per window; the rest are counted. @default 10 */
  readonly limit?: number;
  /** Length of a window, in milliseconds. @default 60000 */
  readonly windowMs?: number;
  /** @default Date.now */
  readonly now?: () => number;
}

interface Window {
  start: number;
  written: number;
  suppressed: number;
}

/**
 * Warnings that clients can cause at will (bad frames, floods, slow
 * readers): each message is written at most `limit` times per window, and
 * the lines it held back are counted in a summary when the window ends. A
 * fuzzer sending 13,000 bad frames would otherwise write 13,000 lines.
 */
export class RepeatedLog {
  readonly #logger: Logger;
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #windows = new Map<string, Window>();

  /**
   * @param logger where lines go
   * @param options limit per window, window length, clock
   */
  constructor(logger: Logger, options: RepeatedLogOptions = {}) {
    this.#logger = logger;
    this.#limit = options.limit ?? 10;
    this.#windowMs = options.windowMs ?? 60_000;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Log a warning unless this message was logged `limit` times in this window.
   * @param message the line's message, which is also what repeats are counted by
   * @param fields extra fields
   */
  warn(message: string, fields?: LogFields): void {
    const now = this.#now();
    let window = this.#windows.get(message);
    if (window !== undefined && now - window.start >= this.#windowMs) {
      this.#summarise(message, window);
      window = undefined;
    }
    if (window === undefined) {
      window = { start: now, written: 0, suppressed: 0 };
      this.#windows.set(message, window);
      // The summary of a burst that stops is written when its window ends, not at the next occurrence.
      setTimeout(() => this.#expire(message, window!), this.#windowMs).unref();
    }
    if (window.written < this.#limit) {
      window.written++;
      this.#logger.warn(message, fields);
    } else {
      window.suppressed++;
    }
  }

  #expire(message: string, window: Window): void {
    if (this.#windows.get(message) !== window) return;
    this.#summarise(message, window);
  }

  #summarise(message: string, window: Window): void {
    this.#windows.delete(message);
    if (window.suppressed > 0) {
      this.#logger.warn(`${message} (repeated)`, { suppressed: window.suppressed, windowSeconds: this.#windowMs / 1000 });
    }
  }
}
