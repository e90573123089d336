#!/usr/bin/env node
// The process entry of `acebatch`: wires the real streams, environment and Ctrl-C into runCli.
import { readProcessEnv } from "./config.ts";
import { runCli } from "./run-cli.ts";

const interrupt = new AbortController();
let interrupted = false;
process.on("SIGINT", () => {
  // First Ctrl-C: stop waiting and say where the job stands. Second: leave at once.
  if (interrupted) process.exit(130);
  interrupted = true;
  interrupt.abort();
});

const code = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: readProcessEnv(),
  isTTY: Boolean(process.stderr.isTTY),
  stdin: () => process.stdin,
  signal: interrupt.signal,
});
process.exitCode = code;
