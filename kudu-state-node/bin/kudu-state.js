#!/usr/bin/env node
// The `kudu-state` command: the Rust command itself (kudu_state_cli::run), through the native addon, so
// its output and exit statuses are the binary's.
'use strict'

const { runCli } = require('..')

process.exitCode = runCli(process.argv.slice(2))
