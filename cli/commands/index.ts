import { CommandModule } from "yargs";
import { doctorCommand } from "./doctor";
import { upCommand } from "./up";

/** Every command, registered explicitly (no commandDir). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const commands: CommandModule<any, any>[] = [doctorCommand, upCommand];
