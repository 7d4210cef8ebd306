/**
 * @module client/main
 * The page's entry point: the customer tracking page at `/track/TOKEN`, the
 * order board everywhere else. One bundle serves both.
 */

import { startBoard } from './board-page.ts';
import { startTracking } from './track-page.ts';
import { trackingTokenInPath } from '../src/protocol.ts';

const trackingToken = trackingTokenInPath(location.pathname);
if (trackingToken === undefined) startBoard();
else startTracking(trackingToken);
