/**
 * @module scripts/mail-sink
 * `npm run mail-sink`: a local SMTP server that accepts every email and
 * prints it (headers that matter, the text part, the size of the HTML one),
 * to try customer emails without a mail provider. Start the service with
 * `SMTP_URL=smtp://127.0.0.1:2525` pointing at it.
 *
 *   npm run mail-sink                  # on 127.0.0.1:2525
 *   npm run mail-sink -- --port 2526
 */

import { parseArgs } from 'node:util';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

const DEFAULT_PORT = 2525;

const { values } = parseArgs({ options: { port: { type: 'string', default: String(DEFAULT_PORT) } } });
const port = Number(values.port);
if (!Number.isInteger(port) || port <= 0 || port > 65_535) {
  process.stderr.write(`mail-sink: --port must be a port number, got "${values.port}"\n`);
  process.exit(2);
}

const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS'],
  logger: false,
  onAuth: (_auth, _session, callback) => callback(null, { user: 'any' }),
  onData(stream, _session, callback) {
    simpleParser(stream).then(
      (mail) => {
        const header = (name: string): string => mail.headerLines.find((line) => line.key === name)?.line ?? '';
        process.stdout.write(
          [
            `--- ${new Date().toISOString()}`,
            `From: ${mail.from?.text ?? ''}`,
            `To: ${Array.isArray(mail.to) ? mail.to.map((a) => a.text).join(', ') : (mail.to?.text ?? '')}`,
            `Subject: ${mail.subject ?? ''}`,
            `Message-ID: ${mail.messageId ?? ''}`,
            header('list-unsubscribe'),
            header('list-unsubscribe-post'),
            header('auto-submitted'),
            '',
            typeof mail.text === 'string' ? mail.text : '(no text part)',
            `(HTML part: ${typeof mail.html === 'string' ? `${mail.html.length} characters` : 'none'})`,
            '',
          ].join('\n'),
        );
        callback();
      },
      (error: Error) => callback(error),
    );
  },
});
server.on('error', (error) => process.stderr.write(`mail-sink: ${error.message}\n`));
server.listen(port, '127.0.0.1', () => {
  process.stderr.write(`mail-sink: listening on smtp://127.0.0.1:${port}; start the service with SMTP_URL=smtp://127.0.0.1:${port}\n`);
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => server.close(() => process.exit(0)));
