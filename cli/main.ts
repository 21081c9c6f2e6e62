#!/usr/bin/env -S UV_THREADPOOL_SIZE=16 node --max-semi-space-size=2
// The flag: flashing streams GBs through short-lived buffers; a small young generation frees them
// soon after use instead of letting tens of MB of dead buffers pile up (peak RSS ~20 MB lower).
// The pool: each card in flight keeps several writes blocked on a slow card; with Node's 4 threads,
// cards written in parallel starve each other's image reads.
import { run } from './program.js';

// React (under ink, in the dashboard) picks its build when first imported: the development build
// keeps debugging data that doubles the dashboard's memory and CPU.
process.env.NODE_ENV ??= 'production';

// The only place the process exits: every command returns, every error is mapped in `run`.
process.exit(await run(process.argv));
