// host-log: the one import every plugin world has.

@external("uni:plugin/host-log@1.0.0", "log")
declare function hostLog(level: i32, ptr: usize, len: usize): void;

export const LOG_TRACE: i32 = 0;
export const LOG_DEBUG: i32 = 1;
export const LOG_INFO: i32 = 2;
export const LOG_WARN: i32 = 3;
export const LOG_ERROR: i32 = 4;

/** Logs through the host (the host copies the message during the call). */
export function log(level: i32, message: string): void {
  const bytes = String.UTF8.encode(message);
  hostLog(level, changetype<usize>(bytes), <usize>bytes.byteLength);
}
