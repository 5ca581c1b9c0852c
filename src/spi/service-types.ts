import type { DescMessage, DescMethod, DescService } from "@bufbuild/protobuf";

/** The methods of a protobuf-es service, by local name. */
export type Methods<S extends DescService> = S["method"];

/** The request message schema of method `K`. */
export type MethodInput<S extends DescService, K extends keyof Methods<S>> = Methods<S>[K] extends {
  input: infer I extends DescMessage;
}
  ? I
  : never;

/** The response message schema of method `K`. */
export type MethodOutput<S extends DescService, K extends keyof Methods<S>> = Methods<S>[K] extends {
  output: infer O extends DescMessage;
}
  ? O
  : never;

/** The HTTP/2 path of a gRPC method: `/package.Service/Method`. */
export function methodPath(method: DescMethod): string {
  return `/${method.parent.typeName}/${method.name}`;
}
