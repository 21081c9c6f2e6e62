#!/usr/bin/env node
import { run } from './program.js';

// The only place the process exits: every command returns, every error is mapped in `run`.
process.exit(await run(process.argv));
