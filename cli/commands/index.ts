import { CommandModule } from "yargs";
import { addonsCommand } from "./addons";
import { addonFlags, addonsCreateCommand } from "./addons-create";
import { addonsDestroyCommand } from "./addons-destroy";
import { addonsInfoCommand } from "./addons-info";
import { configCommand } from "./config";
import { configGetCommand } from "./config-get";
import { configPairs, configSetCommand } from "./config-set";
import { configUnsetCommand, unsetNames } from "./config-unset";
import { destroyCommand } from "./destroy";
import { doctorCommand } from "./doctor";
import { initCommand } from "./init";
import { logsCommand } from "./logs";
import { pgBackupsCommand } from "./pg-backups";
import { pgBackupsCaptureCommand } from "./pg-backups-capture";
import { pgBackupsDownloadCommand } from "./pg-backups-download";
import { pgBackupsRestoreCommand } from "./pg-backups-restore";
import { pgBackupsScheduleCommand } from "./pg-backups-schedule";
import { pgBackupsUnscheduleCommand } from "./pg-backups-unschedule";
import { previewCommand } from "./preview";
import { promoteCommand } from "./promote";
import { psCommand } from "./ps";
import { psResizeCommand, resizeChanges } from "./ps-resize";
import { psRestartCommand, restartTarget } from "./ps-restart";
import { psScaleCommand, scaleChanges } from "./ps-scale";
import { psStopCommand, stopType } from "./ps-stop";
import { refreshCommand } from "./refresh";
import { releasesCommand } from "./releases";
import { releasesInfoCommand } from "./releases-info";
import { rollbackCommand } from "./rollback";
import { routerPortCommand } from "./router-port";
import { runCommand } from "./run";
import { schedulerCommand } from "./scheduler";
import { schedulerAddCommand } from "./scheduler-add";
import { schedulerRemoveCommand } from "./scheduler-remove";
import { upCommand } from "./up";
import { domainsCommand } from "./domains";
import { domainsAddCommand } from "./domains-add";
import { domainsRemoveCommand } from "./domains-remove";
import { certsCommand } from "./certs";
import { certsAddCommand } from "./certs-add";
import { certsRenewCommand } from "./certs-renew";
import { maintenanceCommand } from "./maintenance";
import { maintenanceOnCommand } from "./maintenance-on";
import { maintenanceOffCommand } from "./maintenance-off";
import { nodesCommand } from "./nodes";
import { nodesActivateCommand } from "./nodes-activate";
import { nodesDrainCommand } from "./nodes-drain";

/**
 * Locking commands' checks of their own arguments: pure (no file, no engine, no Docker), so
 * cli/main.ts runs them before the command waits for its stack's lock, and a malformed
 * argument is refused at once, never after another command on the stack ends. Each handler
 * runs the same function.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const ARGUMENT_CHECKS: Record<string, (argv: any) => unknown> = {
    "ps:scale": scaleChanges,
    "ps:resize": resizeChanges,
    "ps:restart": restartTarget,
    "ps:stop": stopType,
    "config:set": configPairs,
    "config:unset": unsetNames,
    "addons:create": addonFlags,
};

/** Every command, registered explicitly (no commandDir). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const commands: CommandModule<any, any>[] = [
    doctorCommand,
    previewCommand,
    upCommand,
    refreshCommand,
    destroyCommand,
    psCommand,
    psScaleCommand,
    psResizeCommand,
    psRestartCommand,
    psStopCommand,
    configCommand,
    configGetCommand,
    configSetCommand,
    configUnsetCommand,
    releasesCommand,
    releasesInfoCommand,
    rollbackCommand,
    logsCommand,
    runCommand,
    addonsCommand,
    addonsCreateCommand,
    addonsDestroyCommand,
    addonsInfoCommand,
    pgBackupsCommand,
    pgBackupsCaptureCommand,
    pgBackupsRestoreCommand,
    pgBackupsDownloadCommand,
    pgBackupsScheduleCommand,
    pgBackupsUnscheduleCommand,
    schedulerCommand,
    schedulerAddCommand,
    schedulerRemoveCommand,
    initCommand,
    promoteCommand,
    routerPortCommand,
    domainsCommand,
    domainsAddCommand,
    domainsRemoveCommand,
    certsCommand,
    certsAddCommand,
    certsRenewCommand,
    maintenanceCommand,
    maintenanceOnCommand,
    maintenanceOffCommand,
    nodesCommand,
    nodesDrainCommand,
    nodesActivateCommand,
];
