import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { describe, test } from "node:test";
import { loadStack, parseStackSettings, StackFileError } from "../../infra/stack-file";
import { removeAfter } from "../support/tmp-folders";

function project(stackYaml: string): string {
    const dir = removeAfter(fs.mkdtempSync(path.join(os.tmpdir(), "dynoform-stack-file-")));
    fs.mkdirSync(path.join(dir, "stacks"));
    fs.mkdirSync(path.join(dir, "app"));
    fs.writeFileSync(path.join(dir, "app", "Procfile"), "web: node server.js\nworker: node worker.js\n");
    fs.writeFileSync(path.join(dir, "stacks", "Pulumi.dev.yaml"), stackYaml);
    return dir;
}

const STACK = [
    "config:",
    "  # the app",
    "  dynoform:app: tiny",
    "  dynoform:source: app",
    "  dynoform:routerPort: \"20001\"",
    "  dynoform:releaseDescription: Deploy by hand",
    "  dynoform:restarts:",
    "    web: token-1",
    "  dynoform:formation:",
    "    web:",
    "      quantity: \"2\"",
    "",
].join("\n");

describe("loadStack: the one loader of a stack file", () => {
    test("every setting the program uses is read, restarts and releaseDescription too", () => {
        const view = parseStackSettings("stacks/Pulumi.dev.yaml", STACK);
        assert.equal(view.settings.app, "tiny");
        assert.equal(view.settings.routerPort, 20001);
        assert.equal(view.settings.releaseDescription, "Deploy by hand");
        assert.deepEqual(view.settings.restarts, { web: "token-1" });
        assert.equal(view.settings.formation?.web?.quantity, 2);
    });
    test("the edit is applied to the text, and that text is what is validated and deployed", () => {
        const dir = project(STACK);
        const loaded = loadStack(dir, "dev", { text: (t) => t.replace('quantity: "2"', 'quantity: "3"') });
        assert.equal(loaded.original, STACK);
        assert.match(loaded.text, /# the app/, "comments kept");
        assert.equal(loaded.view.settings.formation?.web?.quantity, 3);
        assert.deepEqual(loaded.definition.plan.map((p) => `${p.type}=${p.quantity}`), ["web=3", "worker=0"]);
        assert.equal(fs.readFileSync(path.join(dir, "stacks", "Pulumi.dev.yaml"), "utf8"), STACK, "nothing written");
    });
    test("a bad edit or a bad file is one error naming the file and key; bad YAML names the line", () => {
        const dir = project(STACK);
        assert.throws(() => loadStack(dir, "dev", { view: (v) => (v.settings.formation = { web: { quantity: -1 } }) }), (e: Error) => e instanceof StackFileError && /formation\.web\.quantity/.test(e.message));
        const bad = project("config:\n  dynoform:app: tiny\n  dynoform:sauce: app\n");
        assert.throws(() => loadStack(bad, "dev"), /Pulumi\.dev\.yaml:3: `dynoform:sauce`: unknown setting/);
        const broken = project("config:\n  dynoform:app: [tiny\n");
        assert.throws(() => loadStack(broken, "dev", { text: (t) => t }), /Pulumi\.dev\.yaml:\d+: not valid YAML/);
    });
    test("dynoform:stopGraceSeconds: per process type into the definition; a bad value names file, line and key", () => {
        const dir = project(STACK + "  dynoform:stopGraceSeconds:\n    worker: \"5\"\n");
        assert.deepEqual(loadStack(dir, "dev").definition.stopGraceSeconds, { web: 30, worker: 5 });
        const bad = project(STACK + "  dynoform:stopGraceSeconds:\n    worker: soon\n");
        assert.throws(() => loadStack(bad, "dev"), /Pulumi\.dev\.yaml:13: `dynoform:stopGraceSeconds\.worker`: expected a whole number of seconds from 0 to 3600, got "soon"/);
        const unknown = project(STACK + "  dynoform:stopGraceSeconds:\n    clock: 5\n");
        assert.throws(() => loadStack(unknown, "dev"), (e: Error) => e instanceof StackFileError && /Pulumi\.dev\.yaml: `stopGraceSeconds\.clock`: process type "clock" is not in the Procfile/.test(e.message));
    });
    test("dynoform:cluster: a scheduled command loads as on one host; a scheduled backup is refused naming its job, nothing written", () => {
        const cluster = "  dynoform:cluster:\n    manager: local\n";
        const job = "  dynoform:scheduler:\n    tick:\n      schedule: \"* * * * *\"\n      command: echo tick\n";
        assert.deepEqual(loadStack(project(STACK + cluster + job), "dev").definition.scheduler, [{ name: "tick", schedule: "* * * * *", command: "echo tick" }]);
        const backup = STACK + cluster + "  dynoform:addons:\n    postgres: postgres\n  dynoform:scheduler:\n    pg-backups:\n      schedule: 0 2 * * *\n      backup: postgres\n";
        const dir = project(backup);
        assert.throws(() => loadStack(dir, "dev"), (e: Error) => e instanceof StackFileError && /Pulumi\.dev\.yaml: `dynoform:cluster`: scheduled backups \(`dynoform:scheduler\.pg-backups`, as pg:backups:schedule writes it\) do not run on a Swarm cluster yet/.test(e.message));
        assert.equal(fs.readFileSync(path.join(dir, "stacks", "Pulumi.dev.yaml"), "utf8"), backup);
    });
});
