import Docker = require("dockerode");
import { demuxLogs } from "./logs";

/** Runs a command in a running container; resolves to its exit code and combined output. */
export async function execIn(
    container: Docker.Container,
    cmd: string[],
    env: string[] = [],
): Promise<{ exitCode: number; output: string }> {
    const exec = await container.exec({ Cmd: cmd, Env: env, AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({ hijack: true, stdin: false });
    const chunks: Buffer[] = [];
    await new Promise<void>((resolve, reject) => {
        stream.on("data", (c: Buffer) => chunks.push(c));
        stream.on("end", resolve);
        stream.on("error", reject);
    });
    const info = await exec.inspect();
    return { exitCode: info.ExitCode ?? -1, output: demuxLogs(Buffer.concat(chunks)) };
}
