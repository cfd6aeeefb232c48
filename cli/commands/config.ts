import { CommandModule } from "yargs";
import { NoSuchStackError, readStackConfig } from "../../infra/engine/stack-read";
import { openStack } from "../../infra/engine/workspace";
import { GlobalOptions } from "../options";
import { checkStack, projectDir } from "../project";

/** Config vars of a stack: plain and secret (decrypted only in memory). */
export async function readConfigVars(argv: GlobalOptions): Promise<{ plain: Record<string, string>; secret: Record<string, string> }> {
    const dir = projectDir(argv);
    checkStack(dir, argv.stack);
    const all = await readStackConfig({ projectDir: dir, stack: argv.stack }).catch(async (err) => {
        if (!(err instanceof NoSuchStackError)) throw err;
        // Config written to the stack file before the stack's first `up`: creating the stack in
        // the backend is what lets its secrets be read.
        const stack = await openStack({ projectDir: dir, stack: argv.stack, program: async () => ({}) });
        return Object.fromEntries(Object.entries(await stack.getAllConfig()).map(([k, v]) => [k, v.value]));
    });
    const parse = (k: string) => (all[k] ? (JSON.parse(all[k]) as Record<string, unknown>) : {});
    const str = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, String(v)]));
    return { plain: str(parse("dynoform:config")), secret: str(parse("dynoform:secrets")) };
}

export const MASK = "********";

interface ConfigOptions extends GlobalOptions {
    reveal: boolean;
}

/** `dynoform config`: every config var; secret values masked unless --reveal. */
export const configCommand: CommandModule<GlobalOptions, ConfigOptions> = {
    command: "config",
    describe: "List config vars (secret values masked)",
    builder: (y) =>
        y.option("reveal", { type: "boolean", default: false, describe: "Show secret values" }).example("$0 config --stack production", ""),
    handler: async (argv) => {
        const { plain, secret } = await readConfigVars(argv);
        const rows = [
            ...Object.entries(plain).map(([k, v]) => ({ key: k, value: v, secret: false })),
            ...Object.entries(secret).map(([k, v]) => ({ key: k, value: argv.reveal ? v : MASK, secret: true })),
        ].sort((a, b) => a.key.localeCompare(b.key));
        if (argv.json) {
            process.stdout.write(JSON.stringify(Object.fromEntries(rows.map((r) => [r.key, r.value])), null, 2) + "\n");
            return;
        }
        if (rows.length === 0) {
            process.stdout.write(`no config vars on ${argv.stack}\n`);
            return;
        }
        const width = Math.max(...rows.map((r) => r.key.length)) + 1;
        process.stdout.write(`=== ${argv.stack} config vars\n`);
        for (const r of rows) process.stdout.write(`${`${r.key}:`.padEnd(width)} ${r.value}${r.secret ? " (secret)" : ""}\n`);
    },
};
