// Core exports of `uni:plugin/logical-type@1.0.0` under plain names (renamed
// by plugins-wasm/scripts/as-exports.mjs). Re-export this module from the entry.
import { readIpc, writeIpc } from "./arrow/ipc";
import { ArrowStream } from "./arrow/column";
import { postReturn, returnBytesResult, returnStringList, returnStringResult, takeBytes, takeString } from "./cabi";
import { Result } from "./error";
import { LogicalType, findLogicalType, logicalTypeNames } from "./logical-type";

export { cabi_realloc } from "./cabi";
export { manifest, cabi_post_manifest } from "./manifest";

const OP_FROM_LITERAL = 0;
const OP_TO_DISPLAY = 1;
const OP_CAST_TO = 2;
const OP_CAST_FROM = 3;

function run(op: i32, type: LogicalType, input: ArrowStream, target: string): Result<ArrowStream> {
  if (op == OP_FROM_LITERAL) return type.fromLiteral(input);
  if (op == OP_TO_DISPLAY) return type.toDisplay(input);
  if (op == OP_CAST_TO) return type.castTo(input, target);
  return type.castFrom(input);
}

/** Decodes the IPC argument, runs `op`, encodes the result. */
function columnCall(op: i32, name: string, ipc: Uint8Array, target: string): usize {
  const found = findLogicalType(name);
  if (!found.isOk) return returnBytesResult(null, found.error);
  const input = readIpc(ipc);
  if (!input.isOk) return returnBytesResult(null, input.error);
  const out = run(op, found.unwrap(), input.unwrap(), target);
  if (!out.isOk) return returnBytesResult(null, out.error);
  return returnBytesResult(writeIpc(out.unwrap()), null);
}

export function types_names(): usize {
  return returnStringList(logicalTypeNames());
}

export function types_arrow_type(namePtr: usize, nameLen: usize): usize {
  const found = findLogicalType(takeString(namePtr, nameLen));
  if (!found.isOk) return returnStringResult(null, found.error);
  return returnStringResult(found.unwrap().arrowType(), null);
}

export function types_encoding_version(namePtr: usize, nameLen: usize): usize {
  const found = findLogicalType(takeString(namePtr, nameLen));
  if (!found.isOk) return returnStringResult(null, found.error);
  return returnStringResult(found.unwrap().encodingVersion(), null);
}

export function types_from_literal(namePtr: usize, nameLen: usize, ptr: usize, len: usize): usize {
  const name = takeString(namePtr, nameLen);
  return columnCall(OP_FROM_LITERAL, name, takeBytes(ptr, len), "");
}

export function types_to_display(namePtr: usize, nameLen: usize, ptr: usize, len: usize): usize {
  const name = takeString(namePtr, nameLen);
  return columnCall(OP_TO_DISPLAY, name, takeBytes(ptr, len), "");
}

export function types_cast_to(namePtr: usize, nameLen: usize, ptr: usize, len: usize, tPtr: usize, tLen: usize): usize {
  const name = takeString(namePtr, nameLen);
  const ipc = takeBytes(ptr, len);
  return columnCall(OP_CAST_TO, name, ipc, takeString(tPtr, tLen));
}

export function types_cast_from(namePtr: usize, nameLen: usize, ptr: usize, len: usize): usize {
  const name = takeString(namePtr, nameLen);
  return columnCall(OP_CAST_FROM, name, takeBytes(ptr, len), "");
}

export function cabi_post_types_names(area: usize): void {
  postReturn(area);
}
export function cabi_post_types_arrow_type(area: usize): void {
  postReturn(area);
}
export function cabi_post_types_encoding_version(area: usize): void {
  postReturn(area);
}
export function cabi_post_types_from_literal(area: usize): void {
  postReturn(area);
}
export function cabi_post_types_to_display(area: usize): void {
  postReturn(area);
}
export function cabi_post_types_cast_to(area: usize): void {
  postReturn(area);
}
export function cabi_post_types_cast_from(area: usize): void {
  postReturn(area);
}

