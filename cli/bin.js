#!/usr/bin/env node
// `liveorders-watch`: run the TypeScript client through tsx's loader (installed by `npm install`).
import { register } from 'tsx/esm/api';

register();
const { runMain } = await import('./ws-client.ts');
runMain();
