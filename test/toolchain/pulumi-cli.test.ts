import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { cliVersion } from "../../toolchain/pulumi-cli";

// Every command checks its Pulumi CLI's version; the answer is kept while the binary stays the
// same file, so a command runs `pulumi version` only when the binary is new or was rebuilt.
test("cliVersion asks the binary once, remembers across processes, and asks again when the binary changes", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dynoform-cli-version-"));
    const home = process.env.DYNOFORM_HOME;
    process.env.DYNOFORM_HOME = path.join(dir, "home");
    try {
        const calls = path.join(dir, "calls");
        const cli = path.join(dir, "pulumi");
        const fakeCli = (version: string) => fs.writeFileSync(cli, `#!/bin/sh\necho "$1" >> ${calls}\necho v${version}\n`, { mode: 0o755 });
        const asked = () => (fs.existsSync(calls) ? fs.readFileSync(calls, "utf8").trim().split("\n").length : 0);

        fakeCli("3.1.0");
        assert.equal(cliVersion(cli), "3.1.0");
        assert.equal(cliVersion(cli), "3.1.0");
        assert.equal(asked(), 1, "asked once in this process");

        const script = `process.stdout.write(require(${JSON.stringify(require.resolve("../../toolchain/pulumi-cli"))}).cliVersion(${JSON.stringify(cli)}))`;
        const fromAnotherProcess = execFileSync(process.execPath, ["-e", script], { encoding: "utf8", env: process.env });
        assert.equal(fromAnotherProcess, "3.1.0");
        assert.equal(asked(), 1, "another process read the stamp");

        fakeCli("3.20.0"); // a rebuild: other size and mtime
        assert.equal(cliVersion(cli), "3.20.0");
        assert.equal(asked(), 2, "a changed binary is asked again");

        fs.writeFileSync(cli, "#!/bin/sh\nexit 1\n", { mode: 0o755 });
        assert.equal(cliVersion(cli), undefined, "a binary that does not run has no version");
        assert.equal(cliVersion(path.join(dir, "absent")), undefined);
    } finally {
        if (home === undefined) delete process.env.DYNOFORM_HOME;
        else process.env.DYNOFORM_HOME = home;
        fs.rmSync(dir, { recursive: true, force: true });
    }
});
