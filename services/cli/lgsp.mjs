#!/usr/bin/env node
// The installed `lgsp` command (package.json "bin"; `npx lgsp …` in the project). Plain
// JavaScript so it exists straight after `npm install`: the bootstrap compiles dist/ when it
// is missing or stale and runs the CLI on the project's pinned Node.js (>= 24).
import { main } from '../../deploy/bootstrap.mjs';

process.exit(await main(['lgsp', ...process.argv.slice(2)]));
