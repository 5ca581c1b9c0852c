import { OutrigError } from "../errors/index.ts";
import {
  type Health,
  HealthCheckResponse_ServingStatus as ServingStatus,
} from "../gen/grpc/health/v1/health_pb.ts";
import type { H2Handlers } from "./h2/server.ts";
import type { MetadataLike } from "./metadata.ts";

export { ServingStatus };

/**
 * Serving status per service name for the standard grpc.health.v1 service. The empty
 * name is the whole server. Health is open (no credential), so probes from
 * Kubernetes or grpc_health_probe work; it reveals only serving status.
 */
export class HealthBoard {
  readonly #statuses = new Map<string, ServingStatus>();
  readonly #watchers = new Map<string, Set<(status: ServingStatus) => void>>();

  set(service: string, status: ServingStatus): void {
    if (this.#statuses.get(service) === status) return;
    this.#statuses.set(service, status);
    for (const watcher of this.#watchers.get(service) ?? []) watcher(status);
  }

  get(service: string): ServingStatus | undefined {
    return this.#statuses.get(service);
  }

  watch(service: string, watcher: (status: ServingStatus) => void): () => void {
    let set = this.#watchers.get(service);
    if (!set) {
      set = new Set();
      this.#watchers.set(service, set);
    }
    set.add(watcher);
    return () => set.delete(watcher);
  }
}

export function healthHandlers(
  board: HealthBoard,
  onCheck?: (metadata: MetadataLike) => void,
): H2Handlers<typeof Health> {
  return {
    check: (req, call) => {
      onCheck?.(call.metadata);
      const status = board.get(req.service);
      if (status === undefined) throw OutrigError.fromCode("spi.health.unknown_service");
      return { status };
    },
    watch: (req, call) =>
      new Promise<void>((resolve) => {
        const send = (status: ServingStatus) => call.write({ status });
        send(board.get(req.service) ?? ServingStatus.SERVICE_UNKNOWN);
        const stop = board.watch(req.service, send);
        call.on("cancelled", () => {
          stop();
          resolve();
        });
      }),
  };
}
