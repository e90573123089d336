import type { ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";

// Processes and directories the harness started and has not cleaned up yet. If the test process
// exits without running teardown (a crash, process.exit in a test), they are killed/removed here so
// no redis-server or service outlives the run. Ctrl-C reaches the children directly: they share
// the terminal's process group.
const children = new Set<ChildProcess>();
const directories = new Set<string>();
let hooked = false;

function hook(): void {
  if (hooked) return;
  hooked = true;
  process.once("exit", () => {
    for (const child of children) {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
    for (const dir of directories) rmSync(dir, { recursive: true, force: true });
  });
}

/** Kill `child` if this process exits first. */
export function trackChild(child: ChildProcess): void {
  hook();
  children.add(child);
  child.once("exit", () => children.delete(child));
}

/** Remove `dir` if this process exits before `untrackDirectory` is called. */
export function trackDirectory(dir: string): void {
  hook();
  directories.add(dir);
}

export function untrackDirectory(dir: string): void {
  directories.delete(dir);
}
