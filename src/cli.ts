#!/usr/bin/env node
import { processIo } from './cli/cli-io';
import { runCli } from './cli/run-cli';

/** `tidemark`: the commands are in cli/program.ts, each in its own file under cli/. */
void runCli(process.argv.slice(2), { ...processIo(), progressStream: process.stderr });
