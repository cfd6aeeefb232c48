import Docker = require("dockerode");

/**
 * Splits Docker's multiplexed log stream (8-byte frame headers: stream, 0, 0, 0, size) into
 * text. A container started with a TTY has no headers; that case is returned as is.
 */
export function demuxLogs(buf: Buffer): string {
    if (buf.length < 8 || buf[1] !== 0 || buf[2] !== 0 || buf[3] !== 0 || buf[0] > 2) {
        return buf.toString("utf8");
    }
    const parts: Buffer[] = [];
    let offset = 0;
    while (offset + 8 <= buf.length) {
        const size = buf.readUInt32BE(offset + 4);
        parts.push(buf.subarray(offset + 8, offset + 8 + size));
        offset += 8 + size;
    }
    return Buffer.concat(parts).toString("utf8");
}

/** The last `lines` lines a container printed (stdout and stderr), or "" when it has none. */
export async function lastLogLines(container: Docker.Container, lines = 20): Promise<string> {
    try {
        const buf = (await container.logs({ stdout: true, stderr: true, tail: lines, follow: false })) as unknown as Buffer;
        return demuxLogs(Buffer.isBuffer(buf) ? buf : Buffer.from(String(buf))).trimEnd();
    } catch {
        return "";
    }
}
