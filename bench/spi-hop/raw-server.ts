/**
 * The floor for any gRPC hop in Node: a minimal gRPC-framed echo over raw node:http2
 * on a Unix socket, with no gRPC library. Prints its address, then serves until killed.
 */

import { rmSync } from "node:fs";
import { createServer } from "node:http2";

const path = process.argv[2]!;
rmSync(path, { force: true });
const server = createServer();
server.on("stream", (stream) => {
  const chunks: Buffer[] = [];
  stream.on("data", (chunk: Buffer) => chunks.push(chunk));
  stream.on("end", () => {
    const frame = Buffer.concat(chunks); // 5-byte prefix + message, echoed back as is
    stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
    stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
    stream.end(frame);
  });
});
server.listen(path, () => process.stdout.write(`${path}\n`));
