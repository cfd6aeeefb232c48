import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { test } from "node:test";
import { PACKAGE_ROOT } from "../../toolchain/paths";

// `import { App } from "dynoform"` from another project: the package's main and types point at
// the public API, and only the public names are there.
test("the dynoform package exports the public API to other Pulumi programs", () => {
    const project = fs.mkdtempSync(path.join(os.tmpdir(), "dynoform-consumer-"));
    try {
        fs.mkdirSync(path.join(project, "node_modules"));
        fs.symlinkSync(PACKAGE_ROOT, path.join(project, "node_modules", "dynoform"));
        const resolved = require.resolve("dynoform", { paths: [project] });
        assert.equal(fs.realpathSync(resolved), path.join(PACKAGE_ROOT, "dist", "components", "index.js"));
        const api = require(resolved);
        for (const name of ["App", "AddOn", "Formation", "Router", "DynoformInputError", "parseProcfile", "parseAppJson", "resolveDynoSize", "planFormation", "diffFormation"]) {
            assert.equal(typeof api[name], "function", `${name} is exported`);
        }
        assert.equal(api.APP_TYPE, "dynoform:index:App");
        const pkg = JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, "package.json"), "utf8"));
        assert.ok(fs.existsSync(path.join(PACKAGE_ROOT, pkg.types)), "type declarations are built");
        assert.match(fs.readFileSync(path.join(PACKAGE_ROOT, pkg.types), "utf8"), /export \{ App, AppArgs, APP_TYPE \} from "\.\/app"/);
    } finally {
        fs.rmSync(project, { recursive: true, force: true });
    }
});
