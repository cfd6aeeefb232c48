import assert from "node:assert/strict";
import { test } from "node:test";
import { isolateEngineConnections, OWN_SUBCHANNELS } from "../../../infra/engine/workspace";

// An inline program's clients outlive its run (the SDK does not close them), and grpc-js shares
// subchannels between channels to one address. These tests play two runs whose engines drew the
// same port, with the SDK's own ResourceMonitor client and service.

// The SDK's own copy of grpc-js (its pool of subchannels is the one that matters).
const grpc: typeof import("@grpc/grpc-js") = require(require.resolve("@grpc/grpc-js", { paths: [require.resolve("@pulumi/pulumi")] }));
const resrpc = require("@pulumi/pulumi/proto/resource_grpc_pb");
const resproto = require("@pulumi/pulumi/proto/resource_pb");
const settings = require("@pulumi/pulumi/runtime/settings") as { grpcClientOptions: Record<string, unknown> };

/** A monitor that answers SupportsFeature on `port` (0: any free one); its port. */
function serveMonitor(port: number): Promise<[import("@grpc/grpc-js").Server, number]> {
    const server = new grpc.Server();
    server.addService(resrpc.ResourceMonitorService, {
        supportsFeature: (_call: unknown, reply: (err: null, value: unknown) => void) => reply(null, new resproto.SupportsFeatureResponse().setHassupport(true)),
    });
    return new Promise((resolve, reject) =>
        server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve([server, bound]))),
    );
}

/** The error of one SupportsFeature call, or undefined when it is answered. */
function ask(client: any): Promise<Error | undefined> {
    return new Promise((resolve) => client.supportsFeature(new resproto.SupportsFeatureRequest().setId("secrets"), (err: Error | null) => resolve(err ?? undefined)));
}

/**
 * Run 1's client asks its monitor, the monitor goes (the engine exits) and a late call fails, and
 * the client is left open, as the SDK leaves it. Run 2's engine listens on the same port; the
 * answer to run 2's first call, made by a client with `options`.
 */
async function secondRunOnTheSamePort(options: Record<string, unknown>): Promise<Error | undefined> {
    const [first, port] = await serveMonitor(0);
    const runOne = new resrpc.ResourceMonitorClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), options);
    assert.equal(await ask(runOne), undefined, "run 1's monitor answers");
    first.forceShutdown();
    assert.match(String(await ask(runOne)), /UNAVAILABLE/, "a call after the engine exited fails");
    const [second] = await serveMonitor(port);
    const runTwo = new resrpc.ResourceMonitorClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), options);
    try {
        return await ask(runTwo);
    } finally {
        runOne.close();
        runTwo.close();
        second.forceShutdown();
    }
}

test("without subchannels of its own, run 2's first call fails without trying: grpc-js hands it run 1's failed subchannel", async () => {
    const err = await secondRunOnTheSamePort({});
    assert.match(String(err), /14 UNAVAILABLE: No connection established\. Last error: null/);
});

test("isolateEngineConnections gives the SDK's clients subchannels of their own: run 2's monitor answers", async () => {
    isolateEngineConnections();
    assert.equal(settings.grpcClientOptions[OWN_SUBCHANNELS], 1);
    assert.equal(await secondRunOnTheSamePort(settings.grpcClientOptions), undefined);
});
