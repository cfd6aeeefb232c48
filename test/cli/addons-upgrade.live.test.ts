import assert from "node:assert/strict";
import Docker = require("dockerode");
import { connectDocker } from "../../infra/docker/client";
import { execIn } from "../../infra/docker/exec";
import { ADDON_LABEL, containerRole, LABEL } from "../../infra/docker/labels";
import { openStack } from "../../infra/engine/workspace";
import { afterLive, beforeLive, testLive } from "../support/engines";
import { containersWith } from "../support/harness";
import { CliProject, cliProject, TINY_APP, tinyStack } from "../support/cli";
import { eventually } from "../support/poll";

// Add-on servers and the router have roles of their own (`role=addon`, `role=router`); before
// that they were labelled `role=dyno` like the dynos. A deployment made then must keep working:
// its containers are recognised by their add-on and router labels, and the first `up` after the
// upgrade records the role in state without replacing them (no restart, the data stays).
let project: CliProject;
let stack: string;

beforeLive(async () => {
    project = await cliProject("upgr", {
        files: { ...TINY_APP, "app.json": JSON.stringify({ name: "tiny", addons: ["heroku-postgresql"] }) },
    });
    stack = project.stackName("s");
});
afterLive(async () => {
    await project?.cleanup();
});

async function ok(...args: string[]) {
    const r = await project.cli([...args, "--stack", stack]);
    assert.equal(r.code, 0, `dynoform ${args.join(" ")}:\n${r.stdout}\n${r.stderr}`);
    return r;
}

async function psql(id: string, sql: string): Promise<string> {
    const { exitCode, output } = await execIn(connectDocker().getContainer(id), [
        "/bin/sh",
        "-c",
        `PGPASSWORD="$POSTGRES_PASSWORD" psql -h 127.0.0.1 -U app -d app -AtX -v ON_ERROR_STOP=1 -c "${sql}"`,
    ]);
    assert.equal(exitCode, 0, `psql: ${output}`);
    return output.trim();
}

/**
 * Makes a container what the code before roles made: the same container spec (name, image,
 * command, env, limits, mounts, published port, network aliases), labelled `role=dyno`. The
 * data volume is not touched. Returns the new container's ID.
 */
async function remakeAsBefore(id: string): Promise<string> {
    const docker = connectDocker();
    const info = await docker.getContainer(id).inspect();
    const name = info.Name.replace(/^\//, "");
    const network = info.HostConfig.NetworkMode!;
    const aliases = ((info.NetworkSettings.Networks[network] as { Aliases?: string[] } | undefined)?.Aliases ?? []).filter((a) => !info.Id.startsWith(a) && a !== name);
    await docker.getContainer(id).stop({ t: 30 });
    await docker.getContainer(id).remove({ v: false });
    const spec: Docker.ContainerCreateOptions = {
        name,
        Image: info.Config.Image,
        Entrypoint: info.Config.Entrypoint as string[] | undefined,
        Cmd: info.Config.Cmd,
        Env: info.Config.Env,
        User: info.Config.User,
        Labels: { ...info.Config.Labels, [LABEL.role]: "dyno" },
        ExposedPorts: info.Config.ExposedPorts,
        Healthcheck: info.Config.Healthcheck,
        StopTimeout: (info.Config as { StopTimeout?: number }).StopTimeout,
        HostConfig: info.HostConfig,
        NetworkingConfig: aliases.length ? { EndpointsConfig: { [network]: { Aliases: aliases } } } : undefined,
    };
    const made = await docker.createContainer(spec);
    await made.start();
    return made.id;
}

testLive("an add-on and a router labelled role=dyno (made before roles) are recognised, and the next up keeps them and their data", async (t) => {
    project.writeStack(stack, await tinyStack());
    await ok("up", "--yes");

    // Made now: each container says what it is.
    const ofStack = () => containersWith({ [LABEL.stack]: stack });
    const roles = Object.fromEntries((await ofStack()).map((c) => [c.Labels[LABEL.dyno], c.Labels[LABEL.role]]));
    assert.deepEqual(roles, { "web.1": "dyno", "postgres.1": "addon", "router.1": "router" });

    const pg = (await ofStack()).find((c) => c.Labels[ADDON_LABEL] === "postgres")!;
    await psql(pg.Id, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('written before the upgrade')");

    // The deployment as the code before roles left it: containers labelled role=dyno, no role in state.
    const router = (await ofStack()).find((c) => c.Labels[LABEL.router] === "true")!;
    const before = { postgres: await remakeAsBefore(pg.Id), router: await remakeAsBefore(router.Id) };
    const ws = await openStack({ projectDir: project.dir, stack, program: async () => ({}), env: project.env });
    const state = await ws.exportStack();
    type Res = { type: string; inputs: Record<string, unknown>; outputs: Record<string, unknown> };
    const dynos = (state.deployment.resources as Res[]).filter((r) => r.type.endsWith("docker:Dyno") && r.inputs.role !== undefined);
    assert.deepEqual(dynos.map((r) => r.inputs.role).sort(), ["addon", "router"]);
    for (const r of dynos) {
        delete r.inputs.role;
        delete r.outputs.role;
        r.outputs.containerId = r.inputs.processType === "router" ? before.router : before.postgres;
    }
    await ws.importStack(state);
    await eventually(
        async () => (await connectDocker().getContainer(before.postgres).inspect()).State.Health?.Status === "healthy",
        60_000,
        "the remade postgres container is healthy",
    );

    // Recognised by their add-on and router labels: `ps` lists the dyno only, `addons` the add-on.
    const ps = JSON.parse((await ok("ps", "--json")).stdout) as Array<{ dyno: string }>;
    assert.deepEqual(ps.map((d) => d.dyno), ["web.1"]);
    const addons = JSON.parse((await ok("addons", "--json")).stdout) as Array<{ name: string; state: string }>;
    assert.deepEqual(addons.map((a) => [a.name, a.state]), [["postgres", "running (healthy)"]]);
    for (const c of await ofStack()) {
        if (c.Labels[LABEL.dyno] !== "web.1") assert.equal(c.Labels[LABEL.role], "dyno", `${c.Labels[LABEL.dyno]} is labelled as before`);
    }
    assert.deepEqual(
        Object.fromEntries((await ofStack()).map((c) => [c.Labels[LABEL.dyno], containerRole(c.Labels)])),
        { "web.1": "dyno", "postgres.1": "addon", "router.1": "router" },
    );

    // The first up after the upgrade records the roles in state: no container is replaced.
    const up = await ok("up", "--yes");
    t.diagnostic(up.stderr.split("\n").filter((l) => /docker:Dyno/.test(l)).join("\n"));
    const after = await ofStack();
    assert.equal(after.find((c) => c.Labels[ADDON_LABEL] === "postgres")?.Id, before.postgres, "the same postgres container");
    assert.equal(after.find((c) => c.Labels[LABEL.router] === "true")?.Id, before.router, "the same router container");
    assert.equal(await psql(before.postgres, "SELECT v FROM kept"), "written before the upgrade");
    const recorded = (await ws.exportStack()).deployment.resources as Res[];
    assert.deepEqual(
        recorded.filter((r) => r.type.endsWith("docker:Dyno")).map((r) => r.outputs.role ?? "-").sort(),
        ["-", "addon", "router"],
    );
    const preview = await ok("preview");
    assert.match(preview.stdout, /^Resources: \d+ same$/m, "nothing left to change");
});
