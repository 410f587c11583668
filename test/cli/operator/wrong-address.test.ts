// The CLI pointed at an address where something else answers (the daemon's own Prometheus port,
// a plain HTTP/1.1 server): it says the address is not the node API instead of "Protocol error".

import { describe, expect, test } from "bun:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { describeFailure } from "../../../src/cli/client/failures.ts";
import { parseAddress } from "../../../src/cli/client/connection.ts";
import { startMetricsServer } from "../../../src/metrics/metrics-server.ts";
import { cli } from "./helpers.ts";

describe("an address that answers but is not the node API", () => {
  test("status against the Prometheus endpoint: exit 1, says so and where the API is", async () => {
    const metrics = await startMetricsServer({ host: "127.0.0.1", port: 0, exporter: { metrics: async () => "up 1\n", contentType: "text/plain" } });
    try {
      const r = await cli(["status", "--addr", `127.0.0.1:${metrics.port}`]);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        `error: 127.0.0.1:${metrics.port} answers, but it is not the node API: it does not speak gRPC over HTTP/2 ` +
          "(the Prometheus endpoint, port 9091 by default, is such an address); the API listens on port 9090 unless server.listen_address says otherwise\n",
      );
      expect(r.stderr).not.toContain("Protocol error");
    } finally {
      await metrics.close();
    }
  });

  test("the HTTP/2 protocol error of any such peer is described the same way", () => {
    const cause = Object.assign(new Error("Protocol error"), { code: "ERR_HTTP2_ERROR" });
    const err = new ConnectError("Protocol error", Code.Internal, undefined, undefined, cause);
    const { message, exitCode } = describeFailure(err, parseAddress("10.0.0.5:22"));
    expect(exitCode).toBe(1);
    expect(message).toStartWith("10.0.0.5:22 answers, but it is not the node API: ");
  });
});
