// Core exports of `uni:plugin/crdt@1.0.0`, under plain names: the build
// rewrites them to the canonical `uni:plugin/crdt@1.0.0#…` names (see
// plugins-wasm/scripts/as-exports.mjs). Re-export this module from the entry.
import {
  postReturn,
  returnBytesResult,
  returnHandleResult,
  returnStringList,
  returnUnitResult,
  takeBytes,
  takeString,
} from "./cabi";
import { CrdtState, adoptState, crdtKindNames, dropState, findCrdtKind, stateOf } from "./crdt";
import { FnError, fnError } from "./error";

export { cabi_realloc } from "./cabi";
export { manifest, cabi_post_manifest } from "./manifest";

@external("[export]uni:plugin/crdt@1.0.0", "[resource-new]crdt-state")
declare function resourceNewCrdtState(rep: i32): i32;

const CODE_STALE_STATE: u32 = 0x1ff;

function staleError(rep: i32): FnError {
  return fnError(CODE_STALE_STATE, `no live CRDT state with rep ${rep}`);
}

function returnNewState(state: CrdtState): usize {
  return returnHandleResult(resourceNewCrdtState(adoptState(state)), null);
}

export function crdt_kinds(): usize {
  return returnStringList(crdtKindNames());
}

export function crdt_empty(kindPtr: usize, kindLen: usize): usize {
  const found = findCrdtKind(takeString(kindPtr, kindLen));
  if (!found.isOk) return returnHandleResult(0, found.error);
  return returnNewState(found.unwrap().empty());
}

export function crdt_from_persisted(kindPtr: usize, kindLen: usize, ptr: usize, len: usize): usize {
  const kind = takeString(kindPtr, kindLen);
  const bytes = takeBytes(ptr, len);
  const found = findCrdtKind(kind);
  if (!found.isOk) return returnHandleResult(0, found.error);
  const state = found.unwrap().fromPersisted(bytes);
  if (!state.isOk) return returnHandleResult(0, state.error);
  return returnNewState(state.unwrap());
}

export function crdt_state_apply(rep: i32, ptr: usize, len: usize): usize {
  const op = takeBytes(ptr, len);
  const state = stateOf(rep);
  if (state == null) return returnUnitResult(staleError(rep));
  return returnUnitResult(state.apply(op));
}

export function crdt_state_merge(rep: i32, ptr: usize, len: usize): usize {
  const other = takeBytes(ptr, len);
  const state = stateOf(rep);
  if (state == null) return returnUnitResult(staleError(rep));
  return returnUnitResult(state.merge(other));
}

export function crdt_state_value(rep: i32): usize {
  const state = stateOf(rep);
  if (state == null) return returnBytesResult(null, staleError(rep));
  const v = state.value();
  return returnBytesResult(v.value, v.error);
}

export function crdt_state_persist(rep: i32): usize {
  const state = stateOf(rep);
  if (state == null) return returnBytesResult(null, staleError(rep));
  const v = state.persist();
  return returnBytesResult(v.value, v.error);
}

export function crdt_state_dtor(rep: i32): void {
  dropState(rep);
}

export function cabi_post_crdt_kinds(area: usize): void {
  postReturn(area);
}
export function cabi_post_crdt_empty(area: usize): void {
  postReturn(area);
}
export function cabi_post_crdt_from_persisted(area: usize): void {
  postReturn(area);
}
export function cabi_post_crdt_state_apply(area: usize): void {
  postReturn(area);
}
export function cabi_post_crdt_state_merge(area: usize): void {
  postReturn(area);
}
export function cabi_post_crdt_state_value(area: usize): void {
  postReturn(area);
}
export function cabi_post_crdt_state_persist(area: usize): void {
  postReturn(area);
}
