import { CommandModule } from "yargs";
import { destroyCommand } from "./destroy";
import { doctorCommand } from "./doctor";
import { previewCommand } from "./preview";
import { refreshCommand } from "./refresh";
import { upCommand } from "./up";

/** Every command, registered explicitly (no commandDir). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const commands: CommandModule<any, any>[] = [doctorCommand, previewCommand, upCommand, refreshCommand, destroyCommand];
