// What a `throw`, a failed bounds check or an out-of-memory does: AssemblyScript calls `abort(message, file,
// line, column)`. The build compiles this file as a second entry and routes aborts here
// (`asc <entry> <sdk>/abort.ts --use abort=<sdk>/abort/uniAbort`): the message goes to the host through
// host-log at level error, prefixed `abort: `, and then the instance traps. Not exported: an entry file's
// exports would become core exports. A trap poisons the
// instance, so this is for bugs; bad input must still *return* an FnError. Hosts show the logged message with
// the trap (the uni-plugin CLI does), so the author sees why instead of a bare `unreachable`.
import { log, LOG_ERROR } from "./log";

// Building the message allocates: if that aborts too (out of memory), trap without logging again.
let aborting = false;

function uniAbort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  if (!aborting) {
    aborting = true;
    const what = message !== null ? message : "(no message)";
    const where = fileName !== null ? fileName : "?";
    log(LOG_ERROR, "abort: " + what + " (at " + where + ":" + line.toString() + ":" + column.toString() + ")");
  }
  unreachable();
}
