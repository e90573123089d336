export { runCli, COMMANDS, type CliIo } from "./run-cli.ts";
export { EXIT, CliError, exitCodeForStatus, type ExitCode } from "./exit-codes.ts";
export { resolveModelAlias, MODEL_ALIASES } from "./models.ts";
