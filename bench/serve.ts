/**
 * The system under test: exactly `npm start` (infra/start.ts runs on import), under a command line of its
 * own so that stopping a developer's `npm start` by name never stops the benchmark's system.
 */
import '../infra/start.js';
