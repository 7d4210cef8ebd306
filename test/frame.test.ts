/** Framing once: a real `ws` client must read our frames as text messages, at every length class. */

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { test } from 'node:test';
import WebSocket from 'ws';
import { encodeTextFrame } from '../src/fanout/frame.ts';

const LENGTHS = [0, 1, 125, 126, 1000, 65535, 65536, 200_000];
const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

test('frames of 0, 125, 126, 65535 and 65536+ bytes arrive as the same text', async (t) => {
  const texts = LENGTHS.map((length) => 'é'.repeat(Math.floor(length / 2)) + 'x'.repeat(length % 2));
  // A hand-rolled server: the RFC 6455 handshake, then nothing but our frames.
  const server = createServer((socket) => {
    socket.once('data', (request) => {
      const key = /Sec-WebSocket-Key: (.+)\r\n/i.exec(request.toString())?.[1]?.trim() ?? '';
      const accept = createHash('sha1').update(key + WS_GUID).digest('base64');
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
      for (const text of texts) socket.write(encodeTextFrame(Buffer.from(text)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`, { perMessageDeflate: false });
  t.after(() => client.terminate());
  const received: { text: string; isBinary: boolean }[] = [];
  await new Promise<void>((resolve, reject) => {
    client.on('message', (data: Buffer, isBinary: boolean) => {
      received.push({ text: data.toString(), isBinary });
      if (received.length === texts.length) resolve();
    });
    client.on('error', reject);
  });
  assert.deepEqual(received.map((r) => r.isBinary), texts.map(() => false));
  for (const [i, text] of texts.entries()) assert.equal(received[i]!.text, text, `length ${Buffer.byteLength(text)}`);
});
