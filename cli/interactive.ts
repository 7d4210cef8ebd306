/**
 * @module cli/interactive
 * `--interactive`: client messages read from stdin, one JSON object per line,
 * like wscat. In a terminal there is a prompt, and output that arrives while
 * the user types is written above it without garbling the line being typed.
 * Each line is checked with the same validator as the server's before it is
 * sent, so a typo gets a local error and nothing goes on the wire.
 */

import { clearLine, createInterface, cursorTo } from 'node:readline';
import { foregroundJob } from './keys.ts';
import { parseClientMessage, type ClientMessage } from '../src/protocol.ts';

/** The prompt shown in a terminal. */
const PROMPT = '> ';

/** What the reader does with what it reads. */
export interface InteractiveHandlers {
  /** A valid message to send. */
  message(message: ClientMessage): void;
  /** A line that is not a valid message: why, in words. */
  invalid(reason: string): void;
  /** End of input (EOF, or Ctrl-D in a terminal). */
  end(): void;
  /** Ctrl-C in a terminal. */
  interrupt(): void;
  /** Ctrl-Z in a terminal: stop the job, after leaving raw mode (the function given). */
  suspend(leaveRawMode: () => void): void;
}

/** The running reader. */
export interface InteractiveInput {
  /**
   * Write text (and a newline) to `stream`, keeping the prompt and the line
   * being typed below it.
   */
  write(stream: NodeJS.WritableStream, text: string): void;
  /** Stop reading and give the terminal back. */
  close(): void;
}

/**
 * Start reading messages.
 * @param input stdin
 * @param promptOutput where the prompt goes when input and it are terminals (stdout, or stderr when stdout is piped)
 * @param handlers what to do with what is read
 */
export function readMessages(input: NodeJS.ReadStream, promptOutput: NodeJS.WriteStream, handlers: InteractiveHandlers): InteractiveInput {
  const terminal = input.isTTY === true && promptOutput.isTTY === true;
  const rl = createInterface({ input, ...(terminal ? { output: promptOutput } : {}), terminal, prompt: PROMPT, historySize: 100 });
  let closed = false;
  rl.on('line', (line: string) => {
    const text = line.trim();
    if (text !== '') {
      const parsed = parseClientMessage(text);
      if (parsed.ok) {
        handlers.message(parsed.value);
      } else {
        const fields = (parsed.error.details.errors ?? []).map((e) => `${e.field} ${e.message}`).join('; ');
        handlers.invalid(`${parsed.error.message}${fields === '' ? '' : ` (${fields})`}`);
      }
    }
    if (terminal && !closed) rl.prompt();
  });
  // Take the prompt off the screen: nothing more will be typed, and output must not follow "> ".
  const clearPrompt = (): void => {
    if (!terminal) return;
    clearLine(promptOutput, 0);
    cursorTo(promptOutput, 0);
  };
  rl.on('close', () => {
    if (closed) return;
    closed = true;
    clearPrompt();
    handlers.end();
  });
  if (terminal) {
    // Without these listeners readline would close on Ctrl-C and stop only this process on Ctrl-Z.
    rl.on('SIGINT', () => handlers.interrupt());
    rl.on('SIGTSTP', () => handlers.suspend(() => input.setRawMode(false)));
    process.on('SIGCONT', () => {
      // `bg` continues the job too, and a background job that sets raw mode is stopped again.
      if (closed || foregroundJob() === false) return;
      input.setRawMode(true);
      rl.prompt(true);
    });
    rl.prompt();
  }
  return {
    write(stream, text) {
      if (!terminal || closed) {
        stream.write(`${text}\n`);
        return;
      }
      clearPrompt();
      stream.write(`${text}\n`);
      rl.prompt(true);
    },
    close() {
      if (closed) return;
      closed = true;
      clearPrompt();
      rl.close();
      input.pause();
    },
  };
}
