/**
 * @module logger
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
