// The `uni:plugin/logical-type@1.0.0` surface for plugin authors: implement
// LogicalType, call registerLogicalType at module top level, and re-export
// `./logical-type-exports` from the plugin's entry file. Columns arrive and
// leave as decoded ArrowStreams; the SDK does the IPC.
import { ArrowStream } from "./arrow/column";
import { FnError, Result, fnError } from "./error";

export abstract class LogicalType {
  /** The storage type, in apache-arrow's `DataType.toString()` spelling. */
  abstract arrowType(): string;
  /** Bumped whenever stored bytes would be read differently. */
  encodingVersion(): string {
    return "1";
  }
  abstract fromLiteral(literals: ArrowStream): Result<ArrowStream>;
  abstract toDisplay(column: ArrowStream): Result<ArrowStream>;
  abstract castTo(column: ArrowStream, target: string): Result<ArrowStream>;
  abstract castFrom(column: ArrowStream): Result<ArrowStream>;
}

/** Plugin-defined code for "no such type name". */
export const CODE_UNKNOWN_TYPE: u32 = 0x100;

const typeNames: string[] = [];
const typesByName = new Map<string, LogicalType>();

export function registerLogicalType(name: string, type: LogicalType): void {
  if (!typesByName.has(name)) typeNames.push(name);
  typesByName.set(name, type);
}

export function logicalTypeNames(): string[] {
  return typeNames;
}

export function findLogicalType(name: string): Result<LogicalType> {
  if (!typesByName.has(name)) {
    return Result.err<LogicalType>(
      fnError(CODE_UNKNOWN_TYPE, `unknown logical type "${name}"; this plugin has ${typeNames.join(", ")}`),
    );
  }
  return Result.ok<LogicalType>(typesByName.get(name));
}

export { FnError };
